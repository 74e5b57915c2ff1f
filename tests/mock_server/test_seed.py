"""The mock's seed: reproducible, valid identifiers, every category the demo and the handlers rely on."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dmpclient._xml import parse_untrusted
from dmpclient.codes import ValueSetId, load_value_set
from dmpclient.errors import DmpValidationError
from dmpclient.ids import InsOid, validate_ins, validate_ps_id, validate_structure_id
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from mock_server.seed import MIN_PATIENTS, SeedSummary, seed, seed_directory, summarize
from mock_server.seed.data import PUBLIC_PATIENTS, TEST_PS_ID, TEST_STRUCTURE_ID
from mock_server.seed.people import luhn_digit
from mock_server.store import Store, database_path
from mock_server.store.records import AuthorisationStatus, AuthorKind, DmpStatus, DocumentRow, Outcome

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
NS = {"h": "urn:hl7-org:v3"}
ALL = tuple(AvailabilityStatus)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, SeedSummary]:
    store = Store.open(tmp_path_factory.mktemp("seed") / "dmp.sqlite3")
    return store, seed(store, now=NOW)


@pytest.fixture(scope="module")
def store(seeded: tuple[Store, SeedSummary]) -> Store:
    return seeded[0]


@pytest.fixture(scope="module")
def entries(store: Store) -> list[DocumentRow]:
    return [row for p in store.list_patients() for row in store.find_documents(p.ins, statuses=ALL)]


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


def test_same_seed_same_database_other_seed_other_database(tmp_path: Path) -> None:
    paths = [tmp_path / f"{name}.sqlite3" for name in ("a", "b", "c")]
    for path, random_seed in zip(paths, (7, 7, 8), strict=True):
        with Store.open(path) as store:
            seed(store, patients=MIN_PATIENTS, documents=60, random_seed=random_seed, now=NOW)
    first, second, third = (_dump(path) for path in paths)
    assert first == second
    assert first != third


def test_every_ins_is_valid_and_public_patients_are_there(store: Store) -> None:
    patients = store.list_patients()
    assert len(patients) == 24
    for patient in patients:
        assert validate_ins(patient.ins) == patient.ins
    assert sum(p.ins_oid == InsOid.TEST for p in patients) >= 20
    by_ins = {p.ins: p for p in patients}
    for public in PUBLIC_PATIENTS:
        assert by_ins[public.ins].ins_oid == public.oid
        if public.family_name:
            assert (by_ins[public.ins].family_name, by_ins[public.ins].given_name) == (
                public.family_name,
                public.given_name,
            )
    assert by_ins["157069329642881"].birth_name == "DECHAINE"


def test_patient_categories(store: Store) -> None:
    patients = store.list_patients()
    closed = [p.ins for p in patients if p.dmp_status is DmpStatus.CLOSED]
    assert closed == ["270108604926542"]
    assert sum(p.dmp_status is DmpStatus.NONE for p in patients) >= 2
    emergency = store.get_patient("213102288044517")
    assert emergency is not None
    assert not emergency.opposition_bris_de_glace
    assert not emergency.opposition_acces_urgence
    assert emergency.masked_visible_in_emergency
    assert sum(p.opposition_bris_de_glace for p in patients) >= 1
    assert sum(p.opposition_acces_urgence for p in patients) >= 1
    secret = [p for p in patients if p.secret_connection]
    assert len(secret) == 1
    assert secret[0].minor
    assert len(secret[0].legal_representatives) == 2
    assert 0 < sum(p.mes_attached for p in patients) < len(patients)


def test_authorisations_of_the_test_professional_and_structure(store: Store) -> None:
    treating = store.treating_physician_of("207058575627097", NOW)
    assert treating is not None
    assert (treating.subject_id, treating.family_name, treating.specialty) == (TEST_PS_ID, "LIBRE", "G15_10/SM26")
    statuses = Counter(store.authorisation_status(p.ins, TEST_PS_ID, None, NOW) for p in store.list_patients())
    assert statuses[AuthorisationStatus.VALIDE] >= 3
    assert statuses[AuthorisationStatus.EXPIRE] == 1
    assert statuses[AuthorisationStatus.INTERDIT] == 1
    assert (
        store.authorisation_status("279035121518989", TEST_PS_ID, TEST_STRUCTURE_ID, NOW)
        is AuthorisationStatus.INTERDIT
    )
    by_structure = [a for a in store.authorisations_of(TEST_STRUCTURE_ID) if a.subject_kind.value == "structure"]
    assert len(by_structure) >= 2
    someone_else = "899900000000"
    assert store.authorisation_status(by_structure[0].patient_ins, someone_else, TEST_STRUCTURE_ID, NOW) is (
        AuthorisationStatus.VALIDE
    )


def test_document_categories(seeded: tuple[Store, SeedSummary], entries: list[DocumentRow]) -> None:
    summary = seeded[1]
    assert summary.documents == len({row.lid for row in entries}) == 240
    statuses = Counter(row.status for row in entries)
    assert statuses[AvailabilityStatus.ARCHIVED] >= 2
    assert statuses[AvailabilityStatus.DELETED] >= 2
    assert statuses[AvailabilityStatus.DEPRECATED] >= 6
    current = [row for row in entries if row.status is not AvailabilityStatus.DEPRECATED]
    assert sum(row.masked_to_ps for row in current) >= 3
    assert sum(row.invisible_to_patient for row in current) >= 3
    assert sum(row.invisible_to_legal_reps for row in current) >= 1
    assert sum(row.version_name > 1 for row in entries) >= 2
    assert sum(row.metadata.author.kind is AuthorKind.PATIENT for row in entries) >= 1
    clinical_classes = {c.code for c in load_value_set(ValueSetId.CLASS_CODE).clinical}
    seen_classes = {row.metadata.class_code.code for row in entries}
    assert seen_classes <= clinical_classes
    assert len(seen_classes) >= 8
    assert len({row.metadata.type_code.code for row in entries}) >= 20
    assert {row.metadata.format_code.code for row in entries} >= {
        "urn:ihe:iti:xds-sd:pdf:2008",
        "urn:ihe:iti:xds-sd:text:2008",
        "urn:ihe:lab:xd-lab:2008",
    }
    professional = [row.metadata.author for row in entries if row.metadata.author.kind is AuthorKind.PROFESSIONAL]
    assert len({a.structure_id for a in professional}) >= 5
    assert len({a.id for a in professional}) >= 8
    for author in professional:
        assert validate_ps_id(author.id) == author.id
        assert validate_structure_id(author.structure_id or "")
        assert author.id.startswith("8")
        assert len(author.id) == 12
        assert luhn_digit(author.id[1:11]) == author.id[11]
    assert not [row for row in entries if store_patient_status(seeded[0], row) is DmpStatus.NONE]


def store_patient_status(store: Store, row: DocumentRow) -> DmpStatus:
    patient = store.get_patient(row.patient_ins)
    assert patient is not None
    return patient.dmp_status


def test_metadata_versions_have_one_current_entry_per_lid(entries: list[DocumentRow]) -> None:
    by_lid: dict[str, list[DocumentRow]] = {}
    for row in entries:
        by_lid.setdefault(row.lid, []).append(row)
    for versions in by_lid.values():
        versions.sort(key=lambda r: r.version_name)
        assert [r.version_name for r in versions] == list(range(1, len(versions) + 1))
        assert all(r.status is AvailabilityStatus.DEPRECATED for r in versions[:-1])
        assert len({r.unique_id for r in versions}) == 1


def test_rplc_chains_are_consistent(store: Store, entries: list[DocumentRow]) -> None:
    rplc = store.associations([row.entry_uuid for row in entries], types=(AssociationType.RPLC,))
    heads = {a.source for a in rplc} - {a.target for a in rplc}
    assert len(heads) >= 3
    for head in heads:
        chain = store.replacement_chain(head)
        assert 2 <= len(chain) <= 3
        assert all(row.status is AvailabilityStatus.DEPRECATED for row in chain[:-1])
        assert chain[-1].status is not AvailabilityStatus.DEPRECATED
        documents = [parse_untrusted(store.get_content(row.unique_id) or b"") for row in chain]
        set_ids = {doc.find("h:setId", NS).get("root") for doc in documents}  # type: ignore[union-attr]
        assert len(set_ids) == 1
        versions = [doc.find("h:versionNumber", NS).get("value") for doc in documents]  # type: ignore[union-attr]
        assert versions == [str(n) for n in range(1, len(chain) + 1)]
        for previous, doc in zip(chain, documents[1:], strict=False):
            parent = doc.find("h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id", NS)
            assert parent is not None
            assert parent.get("root") == previous.unique_id


def test_every_document_is_a_parseable_cda_of_its_patient(store: Store, entries: list[DocumentRow]) -> None:
    for row in {row.unique_id: row for row in entries}.values():
        content = store.get_content(row.unique_id)
        assert content is not None
        assert hashlib.sha1(content).hexdigest() == row.hash
        root = parse_untrusted(content)
        assert root.tag == "{urn:hl7-org:v3}ClinicalDocument"
        assert root.find("h:id", NS).get("root") == row.unique_id  # type: ignore[union-attr]
        assert root.find("h:code", NS).get("code") == row.metadata.type_code.code  # type: ignore[union-attr]
        patient_id = root.find("h:recordTarget/h:patientRole/h:id", NS)
        assert patient_id is not None
        assert patient_id.get("extension") == row.patient_ins


def test_access_trace_history(store: Store) -> None:
    trace = store.access_trace(limit=1000)
    assert len(trace) >= 25
    outcomes = Counter(entry.outcome for entry in trace)
    assert outcomes[Outcome.REFUSED] >= 2
    assert outcomes[Outcome.ERROR] >= 1
    assert any(entry.access_mode == "bris_de_glace" for entry in trace)
    assert [entry.at for entry in trace] == sorted((entry.at for entry in trace), reverse=True)
    patients = {p.ins for p in store.list_patients()}
    for entry in trace:
        assert not any(ins in (entry.detail or "") for ins in patients)


def test_summary_reads_the_store(seeded: tuple[Store, SeedSummary]) -> None:
    store, summary = seeded
    assert summarize(store, now=NOW) == summary
    data = summary.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert summary.patients_by_dmp_status["terminated"] == 1
    assert summary.rplc_chains >= 3
    assert summary.entries == summary.documents + summary.metadata_updates
    assert summary.trace_entries == store.counts()["access_trace"]


def test_arguments_are_checked(tmp_path: Path, store: Store) -> None:
    with Store.open(tmp_path / "x.sqlite3") as empty:
        with pytest.raises(DmpValidationError, match="patients"):
            seed(empty, patients=MIN_PATIENTS - 1, now=NOW)
        with pytest.raises(DmpValidationError, match="documents"):
            seed(empty, documents=10, now=NOW)
        with pytest.raises(DmpValidationError, match="timezone"):
            seed(empty, now=datetime(2026, 1, 1))
        assert set(empty.counts().values()) == {0}
    with pytest.raises(DmpValidationError, match="not empty"):
        seed(store, now=NOW)


def test_seed_directory(tmp_path: Path) -> None:
    summary = seed_directory(tmp_path / "data", now=NOW, patients=MIN_PATIENTS, documents=40, random_seed=3)
    assert database_path(tmp_path / "data").exists()
    assert summary.patients == MIN_PATIENTS
    assert summary.documents == 40


def test_administrative_details_are_realistic(store: Store) -> None:
    patients = store.list_patients()
    assert all(len(p.addresses) == 1 and p.addresses[0].postal_code and p.addresses[0].city for p in patients)
    assert all(p.birth_place is not None and p.birth_place.city for p in patients)
    minors = [p for p in patients if p.minor]
    assert minors
    for minor in minors:
        assert [r.relation for r in minor.legal_representatives] == ["MTH", "FTH"]
        assert minor.telecoms == ()  # reached through the representatives
        for representative in minor.legal_representatives:
            assert representative.addresses == minor.addresses  # one household
            assert {t.kind.value for t in representative.telecoms} == {"mobile", "mail"}
    adults = [p for p in patients if not p.minor]
    assert any(t.kind.value == "mail" for p in adults for t in p.telecoms)
    assert any(p.ins_c and len(p.ins_c) == 22 for p in adults)
    assert any(len(p.given_names) == 2 for p in patients)
    assert [p.ins for p in patients if p.deceased] == ["270108604926542"]  # the closed DMP's patient
