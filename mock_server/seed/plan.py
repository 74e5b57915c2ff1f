"""The seed's generator (used by :func:`mock_server.seed.seed`): patients, documents, rights, trace.

All randomness comes from one seeded ``random.Random`` consumed in a fixed order, and all times from
``now``, so a seed is reproducible byte for byte. Documents go through the store exactly as the
handlers will write them: a TD2.1 submission set per version (HasMember + RPLC), TD3.3 submission
sets for archiving / deleting (UpdateAvailabilityStatus) and for masking (metadata update).
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.ids import PS_ID_OID, format_cx
from dmpclient.xds.codes import AssociationType, AvailabilityStatus, Confidentiality, class_code_for_type
from mock_server.seed.cda import CdaAuthor, CdaDocument, CdaPatient, build_cda
from mock_server.seed.contacts import with_contacts
from mock_server.seed.content import TEMPLATES, DocumentTemplate, render
from mock_server.seed.data import (
    STRUCTURES,
    TEST_PS_ID,
    TEST_STRUCTURE_ID,
    StructureSpec,
)
from mock_server.seed.people import People, Professional
from mock_server.store import Store
from mock_server.store.records import (
    Association,
    Author,
    Authorisation,
    AuthorisationStatus,
    AuthorKind,
    DmpStatus,
    DocumentMetadata,
    DocumentRow,
    NewDocument,
    Outcome,
    Patient,
    SubjectKind,
    SubmissionSet,
    TraceEntry,
)

__all__ = ["Seeder"]

#: sourceId of the fictitious LPS that "sent" the seeded submissions (test arc, reference §5.2).
SOURCE_ID: Final = "1.2.250.1.999.1.1.7898"
_WEIGHTS: Final = {"treated_by_test_ps": 4, "structure_authorised": 2, "emergency": 3, "minor_secret": 2}
_DAY: Final = 86_400
_AIR: Final = "INDIRECTE_RENFORCEE"


@dataclass(slots=True)
class _Plan:
    """One logical document to register (``versions`` > 1 makes an RPLC chain)."""

    patient: Patient
    template: DocumentTemplate
    versions: int
    masked: bool = False
    invisible_patient: bool = False
    invisible_reps: bool = False


class Seeder:
    """Writes one seed into a store (inside the caller's transaction)."""

    def __init__(self, store: Store, rng: random.Random, now: datetime) -> None:
        self.store, self.rng, self.now = store, rng, now
        self.oid_root = f"1.2.250.1.999.{rng.randrange(100, 1000)}.{rng.randrange(1000, 10000)}"
        self._serial = itertools.count(1)
        self.structures = {s.id: s for s in STRUCTURES}
        self.professionals: list[Professional] = []
        self.patients: list[Patient] = []
        self.roles: dict[str, str] = {}
        self._contacts: dict[tuple[str, str], datetime] = {}

    def run(self, *, patients: int, documents: int) -> None:
        people = People(self.rng, self.now)
        self.professionals = people.make_professionals()
        for patient, role in people.make_patients(patients):
            self._add_patient(patient, role)
        self._make_documents(documents)
        self._make_authorisations()
        self._make_trace()
        self._fill_contacts()

    def _fill_contacts(self) -> None:
        """Addresses, telecoms, birth places… drawn last (earlier draws, hence documents, stay as they were)."""
        for patient in self.patients:
            self.store.upsert_patient(with_contacts(patient, self.rng))

    # --- small helpers ------------------------------------------------------------------------------

    def _uuid(self) -> str:
        return f"urn:uuid:{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def _oid(self) -> str:
        return f"{self.oid_root}.{next(self._serial)}"

    def _before(self, latest: datetime, low_days: int, high_days: int) -> datetime:
        return latest - timedelta(seconds=self.rng.randrange(low_days * _DAY, high_days * _DAY))

    def _between(self, start: datetime, end: datetime) -> datetime:
        return start + timedelta(seconds=self.rng.randrange(max(1, int((end - start).total_seconds()))))

    def _add_patient(self, patient: Patient, role: str) -> None:
        self.patients.append(patient)
        self.roles[patient.ins] = role
        self.store.upsert_patient(patient)

    # --- documents ----------------------------------------------------------------------------------

    def _make_documents(self, total: int) -> None:
        chains = [self.rng.choice((2, 3)) for _ in range(max(3, total // 25))]
        sizes = chains + [1] * (total - sum(chains))
        self.rng.shuffle(sizes)
        eligible = [p for p in self.patients if p.dmp_status is not DmpStatus.NONE]
        weights = [_WEIGHTS.get(self.roles[p.ins], 1) for p in eligible]
        plans = []
        for size in sizes:
            patient = self.rng.choices(eligible, weights)[0]
            plans.append(_Plan(patient, self._template_for(patient), size))
        self._assign_flags(plans)
        heads = [self._register_chain(plan) for plan in plans]
        self._update_heads(heads)

    def _template_for(self, patient: Patient) -> DocumentTemplate:
        own_allowed = patient.mes_attached and not patient.minor and patient.dmp_status is DmpStatus.ACTIVE
        while True:
            template = self.rng.choice(TEMPLATES)
            if "patient" not in template.authors or own_allowed:
                return template

    def _assign_flags(self, plans: list[_Plan]) -> None:
        for plan in self.rng.sample(plans, max(3, len(plans) * 8 // 100)):
            plan.masked = True
        for plan in self.rng.sample(plans, max(3, len(plans) * 6 // 100)):
            plan.invisible_patient = True
        minors = [plan for plan in plans if plan.patient.minor]
        for plan in self.rng.sample(minors, min(len(minors), max(1, len(minors) // 3))):
            plan.invisible_reps = True
        for plan in [plan for plan in plans if self.roles[plan.patient.ins] == "emergency"][:2]:
            plan.masked = True

    def _register_chain(self, plan: _Plan) -> DocumentRow:
        author, structure = self._author_for(plan)
        when = self._before(plan.patient.closed_at or self.now, 70, 1100)
        set_id = self._oid()
        row = self._submit(plan, author, structure, set_id, 1, None, when)
        for version in range(2, plan.versions + 1):
            when += timedelta(days=self.rng.randint(1, 20), seconds=self.rng.randrange(_DAY))
            row = self._submit(plan, author, structure, set_id, version, row, when)
        return row

    def _author_for(self, plan: _Plan) -> tuple[Professional | None, StructureSpec | None]:
        if "patient" in plan.template.authors:
            return None, None
        candidates = [p for p in self.professionals if p.spec.kind in plan.template.authors]
        professional = self.rng.choice(candidates)
        return professional, self.structures[self.rng.choice(professional.spec.structures)]

    def _submit(
        self,
        plan: _Plan,
        professional: Professional | None,
        structure: StructureSpec | None,
        set_id: str,
        version: int,
        previous: DocumentRow | None,
        when: datetime,
    ) -> DocumentRow:
        patient, template = plan.patient, plan.template
        author = self._author(patient, professional, structure)
        facility = load_value_set(ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE).require(
            structure.sector if structure else "SA43"
        )
        practice = load_value_set(ValueSetId.PRACTICE_SETTING_CODE).require(
            structure.practice_setting if structure else "AMBULATOIRE"
        )
        content = render(
            template,
            self.rng,
            patient_name=f"{patient.given_name} {patient.family_name}",
            birth_date=patient.birth_date,
            author_name=f"{author.given_name} {author.family_name}",
            when=when,
        )
        type_code = load_value_set(ValueSetId.TYPE_CODE).require(template.type_code)
        document_id = self._oid()
        start = when - timedelta(seconds=self.rng.randrange(600, 4 * _DAY))
        cda = build_cda(
            CdaDocument(
                document_id=document_id,
                set_id=set_id,
                version=version,
                type_code=type_code,
                title=content.title,
                effective_time=when,
                patient=_cda_patient(patient),
                author=_cda_author(patient, author),
                body=content.body,
                replaces=previous.unique_id if previous else None,
                service_start=start,
                service_stop=when,
                event_code=content.event_code,
                facility_type=facility,
            )
        )
        metadata = DocumentMetadata(
            title=content.title,
            class_code=class_code_for_type(template.type_code),
            type_code=type_code,
            format_code=content.format_code,
            healthcare_facility_type_code=facility,
            practice_setting_code=practice,
            creation_time=when,
            author=author,
            confidentiality=_confidentiality(plan),
            event_codes=(content.event_code,) if content.event_code else (),
            service_start_time=start,
            service_stop_time=when,
            extra_slots=_slots(patient, author),
        )
        entry = self._uuid()
        submission = self._submission_set(patient, author, content.title, when + timedelta(minutes=5), structure)
        associations = [self._has_member(submission, entry)]
        if previous is not None:
            associations.append(Association(self._uuid(), AssociationType.RPLC, entry, previous.entry_uuid))
        document = NewDocument(entry, document_id, patient.ins, metadata, cda)
        self.store.add_submission(submission, [document], associations, now=submission.submission_time)
        if professional is not None:
            self._contacts.setdefault((patient.ins, professional.ps_id), when)
        return self.store.require_document(entry)

    def _author(self, patient: Patient, professional: Professional | None, structure: StructureSpec | None) -> Author:
        if professional is None or structure is None:
            return Author(AuthorKind.PATIENT, patient.ins, patient.family_name, patient.given_name, None, None)
        return Author(
            AuthorKind.PROFESSIONAL,
            professional.ps_id,
            professional.family_name,
            professional.given_name,
            structure.id,
            structure.name,
            professional.specialty,
        )

    def _submission_set(
        self, patient: Patient, author: Author, title: str, when: datetime, structure: StructureSpec | None
    ) -> SubmissionSet:
        activity = "03" if structure and structure.practice_setting == "ETABLISSEMENT" else "07" if structure else "97"
        return SubmissionSet(
            entry_uuid=self._uuid(),
            unique_id=self._oid(),
            patient_ins=patient.ins,
            source_id=SOURCE_ID,
            submission_time=when,
            author=author,
            content_type_code=load_value_set(ValueSetId.CONTENT_TYPE_CODE).require(activity),
            title=title,
        )

    def _has_member(self, submission: SubmissionSet, target: str, previous_version: int | None = None) -> Association:
        slots: dict[str, tuple[str, ...]] = {"SubmissionSetStatus": ("Original",)}
        if previous_version is not None:
            slots["PreviousVersion"] = (str(previous_version),)
        return Association(self._uuid(), AssociationType.HAS_MEMBER, submission.entry_uuid, target, slots)

    def _update_heads(self, heads: list[DocumentRow]) -> None:
        """TD3.3 history on some current documents: archive, delete (one via archive), mask after the fact."""
        active = {p.ins for p in self.patients if p.dmp_status is DmpStatus.ACTIVE}
        candidates = [h for h in heads if h.metadata.author.kind is AuthorKind.PROFESSIONAL and h.patient_ins in active]
        count = max(2, len(candidates) * 4 // 100)
        chosen = self.rng.sample(candidates, 3 * count)
        approved, archived = AvailabilityStatus.APPROVED, AvailabilityStatus.ARCHIVED
        for head in chosen[:count]:
            self._change_status(head, approved, archived)
        archived_at = self._change_status(chosen[count], approved, archived)
        self._change_status(chosen[count], archived, AvailabilityStatus.DELETED, after=archived_at)
        for head in chosen[count + 1 : 2 * count]:
            self._change_status(head, approved, AvailabilityStatus.DELETED)
        for head in chosen[2 * count :]:
            self._mask(head)

    def _change_status(
        self,
        head: DocumentRow,
        original: AvailabilityStatus,
        new: AvailabilityStatus,
        after: datetime | None = None,
    ) -> datetime:
        when = self._between(after or head.created_at, self.now)
        submission = self._submission_set_for_update(head, when)
        slots: dict[str, tuple[str, ...]] = {"OriginalStatus": (original.value,), "NewStatus": (new.value,)}
        kind = AssociationType.UPDATE_AVAILABILITY_STATUS
        change = Association(self._uuid(), kind, submission.entry_uuid, head.entry_uuid, slots)
        self.store.add_submission(submission, [], [change], now=when)
        return when

    def _mask(self, head: DocumentRow) -> None:
        when = self._between(head.created_at, self.now)
        submission = self._submission_set_for_update(head, when)
        new_entry = self._uuid()
        self.store.set_document_flags(
            head.entry_uuid,
            new_entry_uuid=new_entry,
            now=when,
            masked_to_ps=not head.masked_to_ps,
            submission_set_id=submission.entry_uuid,
        )
        member = self._has_member(submission, new_entry, previous_version=head.version_name)
        self.store.add_submission(submission, [], [member], now=when)

    def _submission_set_for_update(self, head: DocumentRow, when: datetime) -> SubmissionSet:
        author = head.metadata.author
        structure = self.structures.get(author.structure_id or "")
        patient = next(p for p in self.patients if p.ins == head.patient_ins)
        return self._submission_set(patient, author, head.metadata.title, when, structure)

    # --- rights and history -------------------------------------------------------------------------

    def _make_authorisations(self) -> None:
        by_id = {p.ps_id: p for p in self.professionals}
        for (ins, ps_id), since in self._contacts.items():
            self._authorise(ins, by_id[ps_id], AuthorisationStatus.VALIDE, since)
        test_ps, other_gp = by_id[TEST_PS_ID], self.professionals[-1]
        plain = [p.ins for p in self.patients if self.roles[p.ins] == "plain"]
        for ins in plain[:2]:
            self._authorise(ins, other_gp, AuthorisationStatus.VALIDE, self._before(self.now, 30, 700), mt=True)
        for patient in self.patients:
            since = self._before(self.now, 30, 900)
            role = self.roles[patient.ins]
            if role == "treated_by_test_ps":
                self._authorise(patient.ins, test_ps, AuthorisationStatus.VALIDE, since, mt=True)
            elif role == "authorised":
                self._authorise(patient.ins, test_ps, AuthorisationStatus.VALIDE, since)
            elif role == "blocks_test_ps":
                self._authorise(patient.ins, test_ps, AuthorisationStatus.INTERDIT, since)
            elif role == "expired_for_test_ps":
                expiry = self.now - timedelta(days=20)
                self._authorise(patient.ins, test_ps, AuthorisationStatus.EXPIRE, since - timedelta(days=400), expiry)
            elif role == "structure_authorised":
                self.store.set_authorisation(
                    Authorisation(
                        patient.ins,
                        SubjectKind.STRUCTURE,
                        TEST_STRUCTURE_ID,
                        AuthorisationStatus.VALIDE,
                        since,
                        since,
                        structure_id=TEST_STRUCTURE_ID,
                    )
                )

    def _authorise(
        self,
        ins: str,
        professional: Professional,
        status: AuthorisationStatus,
        since: datetime,
        expires: datetime | None = None,
        *,
        mt: bool = False,
    ) -> None:
        self.store.set_authorisation(
            Authorisation(
                patient_ins=ins,
                subject_kind=SubjectKind.PROFESSIONAL,
                subject_id=professional.ps_id,
                status=status,
                granted_at=since,
                last_action_at=expires or since,
                expires_at=expires,
                treating_physician=mt,
                family_name=professional.family_name,
                given_name=professional.given_name,
                specialty=professional.specialty.code,
                structure_id=professional.spec.structures[0],
            )
        )

    def _make_trace(self) -> None:
        active = [p for p in self.patients if p.dmp_status is DmpStatus.ACTIVE]
        by_role = {self.roles[p.ins]: p.ins for p in self.patients}
        by_kind = {p.spec.kind: p for p in self.professionals}
        test_ps = self.professionals[0]
        entries = [self._routine_access(self.rng.choice(active)) for _ in range(24)]
        entries += [
            self._trace(
                by_kind["urgentiste"],
                "TD3.2",
                Outcome.ALLOWED,
                by_role["emergency"],
                "bris_de_glace",
                detail="bris de glace : patient inconscient admis aux urgences",
            ),
            self._trace(
                by_kind["urgentiste"],
                "TD0.5",
                Outcome.ALLOWED,
                None,
                "centre_15",
                detail="recherche sans INS en régulation",
            ),
            self._trace(
                test_ps,
                "TD3.1",
                Outcome.REFUSED,
                by_role["blocks_test_ps"],
                detail="PS bloqué par le patient (INTERDIT)",
            ),
            self._trace(
                test_ps,
                "TD2.1",
                Outcome.REFUSED,
                by_role["authorised"],
                auth_mode="INDIRECTE_RENFORCEE",
                detail="TD2.1 refusée en AIR (matrice 606 v1.3)",
            ),
            self._trace(
                test_ps,
                "TD3.2",
                Outcome.ERROR,
                by_role["treated_by_test_ps"],
                detail="XDSDocumentUniqueIdError : document inconnu",
            ),
        ]
        for entry in sorted(entries, key=lambda e: (e.at, e.message_id or "")):
            self.store.record_access(entry)

    def _routine_access(self, patient: Patient) -> TraceEntry:
        professional = self.rng.choice(self.professionals)
        td = self.rng.choice(("TD0.2", "TD1.3a", "TD3.1", "TD3.1", "TD3.2", "TD3.2", "TD2.1"))
        mode = "DIRECTE" if td == "TD2.1" else self.rng.choice(("DIRECTE", _AIR))
        return self._trace(professional, td, Outcome.ALLOWED, patient.ins, auth_mode=mode)

    def _trace(
        self,
        professional: Professional,
        td: str,
        outcome: Outcome,
        ins: str | None,
        access_mode: str = "normal",
        *,
        auth_mode: str = "DIRECTE",
        detail: str | None = None,
    ) -> TraceEntry:
        return TraceEntry(
            at=self._before(self.now, 0, 365),
            td=td,
            outcome=outcome,
            ps_id=professional.ps_id,
            structure_id=professional.spec.structures[0],
            auth_mode=auth_mode,
            role=professional.spec.profession,
            access_mode=access_mode,
            patient_ins=ins,
            detail=detail,
            message_id=self._uuid(),
        )


def _cda_patient(patient: Patient) -> CdaPatient:
    return CdaPatient(
        patient.ins,
        patient.ins_oid,
        patient.family_name,
        patient.given_name,
        patient.gender,
        patient.birth_date,
        patient.birth_name,
    )


def _cda_author(patient: Patient, author: Author) -> CdaAuthor:
    if author.kind is AuthorKind.PATIENT:
        return CdaAuthor(author.id, author.family_name, author.given_name, None, None, id_root=patient.ins_oid)
    return CdaAuthor(
        author.id, author.family_name, author.given_name, author.structure_id, author.structure_name, author.specialty
    )


def _confidentiality(plan: _Plan) -> tuple[Code, ...]:
    codes = load_value_set(ValueSetId.CONFIDENTIALITY_CODE)
    wanted = [
        (True, Confidentiality.NORMAL),
        (plan.masked, Confidentiality.MASQUE_PS),
        (plan.invisible_patient, Confidentiality.INVISIBLE_PATIENT),
        (plan.invisible_reps, Confidentiality.INVISIBLE_REPRESENTANTS_LEGAUX),
    ]
    return tuple(codes.require(code.value) for on, code in wanted if on)


def _slots(patient: Patient, author: Author) -> dict[str, tuple[str, ...]]:
    """Slots an LPS sends and the registry echoes (reference §4.2, §4.5)."""
    slots = {
        "sourcePatientId": (format_cx(patient.ins, patient.ins_oid),),
        "sourcePatientInfo": (
            f"PID-5|{patient.birth_name or patient.family_name}^{patient.given_name}^^^^^L",
            f"PID-7|{patient.birth_date:%Y%m%d}",
            f"PID-8|{patient.gender}",
        ),
    }
    if author.kind is AuthorKind.PROFESSIONAL:
        xcn = f"{author.id}^{author.family_name}^{author.given_name}^^^^^^&{PS_ID_OID}&ISO^D^^^IDNPS"
        slots["legalAuthenticator"] = (xcn,)
    return slots
