"""Realistic fictitious content for the mock DMP, reproducible from a seed.

:func:`seed` fills an empty :class:`~mock_server.store.Store` in one transaction: the public test patients
of reference §12.5 plus generated ones (valid INS keys, test OID), structures and professionals (RPPS with
a valid Luhn key), authorisations for the test PS ``899900063480`` and structure ``10B0127189`` (one
médecin traitant, one expired, one blocked), documents across the DMP typeCodes as real CDA (RPLC version
chains, masked, invisible, archived, deleted, metadata updates) and some access-trace history.

Every id and time comes from ``random.Random(random_seed)`` and ``now``: the same arguments give a
byte-identical database. ``dmp mock seed --data DIR [--patients N --documents M --seed S]`` wraps it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from dmpclient.errors import DmpValidationError
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from mock_server.seed.people import is_minor
from mock_server.seed.plan import Seeder
from mock_server.store import Store, database_path
from mock_server.store.records import AuthorKind

__all__ = ["MIN_DOCUMENTS", "MIN_PATIENTS", "SeedSummary", "seed", "seed_directory", "summarize"]

#: Public test patients (13) + the generated roles the categories need (5).
MIN_PATIENTS: Final = 18
#: Enough documents for every category (chains, masked, archived, deleted, metadata updates).
MIN_DOCUMENTS: Final = 40
_ALL_STATUSES: Final = tuple(AvailabilityStatus)


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """Counts by category, read back from the store (used by the CLI and the demo)."""

    patients: int
    patients_by_dmp_status: dict[str, int]
    opposition_bris_de_glace: int
    opposition_acces_urgence: int
    mes_attached: int
    minors: int
    secret_connections: int
    authorisations_by_status: dict[str, int]
    treating_physicians: int
    documents: int
    entries: int
    entries_by_status: dict[str, int]
    documents_by_class_code: dict[str, int]
    documents_by_type_code: dict[str, int]
    masked_to_ps: int
    invisible_to_patient: int
    invisible_to_legal_reps: int
    rplc_chains: int
    metadata_updates: int
    patient_authored: int
    authors: int
    structures: int
    submission_sets: int
    trace_entries: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def seed(
    store: Store,
    *,
    patients: int = 24,
    documents: int = 240,
    random_seed: int = 1234,
    now: datetime,
) -> SeedSummary:
    """Fill an empty store with fictitious data and return what it holds.

    Args:
        patients: total number of patients (at least :data:`MIN_PATIENTS`).
        documents: number of documents registered by TD2.1 submissions, replaced versions included
            (at least :data:`MIN_DOCUMENTS`); TD3.3 metadata updates add entries on top.
        random_seed: same seed and ``now`` ⇒ identical database.
        now: the seed's present; every time is at or before it.

    Raises:
        DmpValidationError: counts too small, ``now`` naive, or the store is not empty.
    """
    if patients < MIN_PATIENTS:
        raise DmpValidationError(f"patients: at least {MIN_PATIENTS} (the public test patients + 5)", field="patients")
    if documents < MIN_DOCUMENTS:
        raise DmpValidationError(f"documents: at least {MIN_DOCUMENTS}", field="documents")
    if now.tzinfo is None:
        raise DmpValidationError("now: give a timezone-aware datetime", field="now")
    if any(store.counts().values()):
        raise DmpValidationError("the store is not empty; reset it (or use another data directory)", field="store")
    rng = random.Random(random_seed)  # noqa: S311 - reproducible fictitious data, not a secret
    seeder = Seeder(store, rng, now.astimezone(UTC).replace(microsecond=0))
    with store.transaction():
        seeder.run(patients=patients, documents=documents)
    return summarize(store, now=now)


def seed_directory(data_dir: Path, *, now: datetime, **options: int) -> SeedSummary:
    """Open (or create) the store of a data directory and seed it (a library shortcut; ``dmp mock seed`` opens
    the store itself, to ``--reset`` it first)."""
    with Store.open(database_path(data_dir)) as store:
        return seed(store, now=now, **options)


def summarize(store: Store, *, now: datetime) -> SeedSummary:
    """Count what a store holds, by the categories the seed guarantees."""
    people = store.list_patients()
    authorisations = [a for p in people for a in store.list_authorisations(p.ins)]
    entries = [row for p in people for row in store.find_documents(p.ins, statuses=_ALL_STATUSES)]
    latest = {row.lid: row for row in sorted(entries, key=lambda r: r.version_name)}
    rplc = store.associations([row.entry_uuid for row in entries], types=(AssociationType.RPLC,))
    professional = [r for r in latest.values() if r.metadata.author.kind is AuthorKind.PROFESSIONAL]
    counts = store.counts()
    return SeedSummary(
        patients=len(people),
        patients_by_dmp_status=dict(Counter(p.dmp_status.value for p in people)),
        opposition_bris_de_glace=sum(p.opposition_bris_de_glace for p in people),
        opposition_acces_urgence=sum(p.opposition_acces_urgence for p in people),
        mes_attached=sum(p.mes_attached for p in people),
        minors=sum(is_minor(p, now.date()) for p in people),
        secret_connections=sum(p.secret_connection for p in people),
        authorisations_by_status=dict(Counter(a.status_at(now).value for a in authorisations)),
        treating_physicians=sum(a.treating_physician for a in authorisations),
        documents=len(latest),
        entries=len(entries),
        entries_by_status=dict(Counter(row.status.name.lower() for row in entries)),
        documents_by_class_code=dict(Counter(r.metadata.class_code.code for r in latest.values())),
        documents_by_type_code=dict(Counter(r.metadata.type_code.code for r in latest.values())),
        masked_to_ps=sum(r.masked_to_ps for r in latest.values()),
        invisible_to_patient=sum(r.invisible_to_patient for r in latest.values()),
        invisible_to_legal_reps=sum(r.invisible_to_legal_reps for r in latest.values()),
        rplc_chains=len({a.source for a in rplc} - {a.target for a in rplc}),
        metadata_updates=sum(r.version_name > 1 for r in latest.values()),
        patient_authored=sum(r.metadata.author.kind is AuthorKind.PATIENT for r in latest.values()),
        authors=len({r.metadata.author.id for r in professional}),
        structures=len({r.metadata.author.structure_id for r in professional}),
        submission_sets=counts["submission_sets"],
        trace_entries=counts["access_trace"],
    )
