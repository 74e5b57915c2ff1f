"""Conversions between the store's records and SQLite rows / JSON columns (private to the store)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from typing import Any, Final

from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.errors import DmpValidationError
from dmpclient.hl7v3.person import Address, Telecom
from dmpclient.xds.codes import AvailabilityStatus, Confidentiality
from mock_server.store.records import (
    Author,
    Authorisation,
    AuthorisationStatus,
    AuthorKind,
    DmpStatus,
    DocumentMetadata,
    DocumentRow,
    LegalRepresentative,
    Outcome,
    Patient,
    SubjectKind,
    SubmissionSet,
    TraceEntry,
)

#: The DMP status as the ``patients.dmp_status`` column spells it (schema v1: ``closed``, wire: ``terminated``).
_STORED_STATUS_CODES: Final = {DmpStatus.ACTIVE: "active", DmpStatus.CLOSED: "closed", DmpStatus.NONE: "none"}
_STORED_STATUS: Final = {code: status for status, code in _STORED_STATUS_CODES.items()}

#: Confidentiality codes kept as columns (they change through TD3.3a/b), in column order.
FLAG_CODES: Final = (
    Confidentiality.MASQUE_PS,
    Confidentiality.INVISIBLE_PATIENT,
    Confidentiality.INVISIBLE_REPRESENTANTS_LEGAUX,
)


def ts(moment: datetime) -> str:
    """A UTC timestamp with a fixed width, so that text order is time order."""
    if moment.tzinfo is None:
        raise DmpValidationError("the store needs timezone-aware datetimes (UTC)", field="datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def opt_ts(moment: datetime | None) -> str | None:
    return ts(moment) if moment is not None else None


def parse_ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _req_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _code(code: Code) -> dict[str, Any]:
    return {"code": code.code, "scheme": code.system, "display": code.display}


def _from_code(data: dict[str, Any]) -> Code:
    return Code(data["code"], data["scheme"], data["display"])


def _author(author: Author) -> dict[str, Any]:
    return {
        "kind": author.kind.value,
        "id": author.id,
        "family_name": author.family_name,
        "given_name": author.given_name,
        "structure_id": author.structure_id,
        "structure_name": author.structure_name,
        "specialty": _code(author.specialty) if author.specialty else None,
        "role": author.role,
    }


def _from_author(data: dict[str, Any]) -> Author:
    specialty = data["specialty"]
    return Author(
        kind=AuthorKind(data["kind"]),
        id=data["id"],
        family_name=data["family_name"],
        given_name=data["given_name"],
        structure_id=data["structure_id"],
        structure_name=data["structure_name"],
        specialty=_from_code(specialty) if specialty else None,
        role=data["role"],
    )


def flags_of(metadata: DocumentMetadata) -> tuple[int, int, int]:
    """The three flag columns of a document's confidentiality codes."""
    masked, invisible_patient, invisible_reps = (int(metadata.has(code)) for code in FLAG_CODES)
    return masked, invisible_patient, invisible_reps


def metadata_json(metadata: DocumentMetadata) -> str:
    """The metadata as JSON, without the flag confidentiality codes (those live in columns)."""
    flag_values = {code.value for code in FLAG_CODES}
    data = {
        "title": metadata.title,
        "class_code": _code(metadata.class_code),
        "type_code": _code(metadata.type_code),
        "format_code": _code(metadata.format_code),
        "healthcare_facility_type_code": _code(metadata.healthcare_facility_type_code),
        "practice_setting_code": _code(metadata.practice_setting_code),
        "creation_time": ts(metadata.creation_time),
        "author": _author(metadata.author),
        "confidentiality": [_code(c) for c in metadata.confidentiality if c.code not in flag_values],
        "mime_type": metadata.mime_type,
        "language_code": metadata.language_code,
        "event_codes": [_code(c) for c in metadata.event_codes],
        "service_start_time": opt_ts(metadata.service_start_time),
        "service_stop_time": opt_ts(metadata.service_stop_time),
        "comments": metadata.comments,
        "extra_slots": {name: list(values) for name, values in metadata.extra_slots.items()},
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _flag_codes(flags: tuple[int, int, int]) -> tuple[Code, ...]:
    codes = load_value_set(ValueSetId.CONFIDENTIALITY_CODE)
    return tuple(codes.require(flag.value) for flag, on in zip(FLAG_CODES, flags, strict=True) if on)


def _metadata(text: str, flags: tuple[int, int, int]) -> DocumentMetadata:
    data = json.loads(text)
    return DocumentMetadata(
        title=data["title"],
        class_code=_from_code(data["class_code"]),
        type_code=_from_code(data["type_code"]),
        format_code=_from_code(data["format_code"]),
        healthcare_facility_type_code=_from_code(data["healthcare_facility_type_code"]),
        practice_setting_code=_from_code(data["practice_setting_code"]),
        creation_time=_req_ts(data["creation_time"]),
        author=_from_author(data["author"]),
        confidentiality=(*(_from_code(c) for c in data["confidentiality"]), *_flag_codes(flags)),
        mime_type=data["mime_type"],
        language_code=data["language_code"],
        event_codes=tuple(_from_code(c) for c in data["event_codes"]),
        service_start_time=parse_ts(data["service_start_time"]),
        service_stop_time=parse_ts(data["service_stop_time"]),
        comments=data["comments"],
        extra_slots={name: tuple(values) for name, values in data["extra_slots"].items()},
    )


def document(row: sqlite3.Row) -> DocumentRow:
    flags = (row["masked_to_ps"], row["invisible_to_patient"], row["invisible_to_legal_reps"])
    return DocumentRow(
        entry_uuid=row["entry_uuid"],
        lid=row["lid"],
        version_name=row["version_name"],
        unique_id=row["unique_id"],
        patient_ins=row["patient_ins"],
        status=AvailabilityStatus(row["status"]),
        metadata=_metadata(row["metadata"], flags),
        hash=row["content_hash"],
        size=row["size"],
        submission_set_id=row["submission_set_id"],
        created_at=_req_ts(row["created_at"]),
    )


def patient_params(patient: Patient) -> dict[str, Any]:
    return {
        "ins": patient.ins,
        "ins_oid": patient.ins_oid,
        "family_name": patient.family_name,
        "given_name": patient.given_name,
        "birth_name": patient.birth_name,
        "birth_date": patient.birth_date.isoformat(),
        "gender": patient.gender,
        "dmp_status": _STORED_STATUS_CODES[patient.dmp_status],
        "opposition_bris_de_glace": int(patient.opposition_bris_de_glace),
        "opposition_acces_urgence": int(patient.opposition_acces_urgence),
        "masked_visible_in_emergency": int(patient.masked_visible_in_emergency),
        "mes_attached": int(patient.mes_attached),
        "web_account": int(patient.web_account),
        "secret_connection": int(patient.secret_connection),
        "minor": int(patient.minor),
        "legal_representatives": _json([_representative(r) for r in patient.legal_representatives]),
        "closed_at": opt_ts(patient.closed_at),
        "other_given_names": _json(list(patient.other_given_names)),
        "addresses": _json([a.model_dump(mode="json") for a in patient.addresses]),
        "telecoms": _json([t.model_dump(mode="json") for t in patient.telecoms]),
        "birth_place": _json(patient.birth_place.model_dump(mode="json")) if patient.birth_place else None,
        "deceased": int(patient.deceased),
        "ins_c": patient.ins_c,
    }


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _representative(representative: LegalRepresentative) -> dict[str, Any]:
    return {
        "relation": representative.relation,
        "family_name": representative.family_name,
        "given_name": representative.given_name,
        "addresses": [a.model_dump(mode="json") for a in representative.addresses],
        "telecoms": [t.model_dump(mode="json") for t in representative.telecoms],
    }


def _from_representative(data: dict[str, Any]) -> LegalRepresentative:
    return LegalRepresentative(
        relation=data["relation"],
        family_name=data["family_name"],
        given_name=data["given_name"],
        addresses=tuple(Address.model_validate(a) for a in data["addresses"]),
        telecoms=tuple(Telecom.model_validate(t) for t in data["telecoms"]),
    )


def patient(row: sqlite3.Row) -> Patient:
    return Patient(
        ins=row["ins"],
        ins_oid=row["ins_oid"],
        family_name=row["family_name"],
        given_name=row["given_name"],
        birth_name=row["birth_name"],
        birth_date=date.fromisoformat(row["birth_date"]),
        gender=row["gender"],
        dmp_status=_STORED_STATUS[row["dmp_status"]],
        opposition_bris_de_glace=bool(row["opposition_bris_de_glace"]),
        opposition_acces_urgence=bool(row["opposition_acces_urgence"]),
        masked_visible_in_emergency=bool(row["masked_visible_in_emergency"]),
        mes_attached=bool(row["mes_attached"]),
        web_account=bool(row["web_account"]),
        secret_connection=bool(row["secret_connection"]),
        minor=bool(row["minor"]),
        legal_representatives=tuple(_from_representative(r) for r in json.loads(row["legal_representatives"])),
        closed_at=parse_ts(row["closed_at"]),
        other_given_names=tuple(json.loads(row["other_given_names"])),
        addresses=tuple(Address.model_validate(a) for a in json.loads(row["addresses"])),
        telecoms=tuple(Telecom.model_validate(t) for t in json.loads(row["telecoms"])),
        birth_place=Address.model_validate_json(row["birth_place"]) if row["birth_place"] else None,
        deceased=bool(row["deceased"]),
        ins_c=row["ins_c"],
    )


def authorisation_params(auth: Authorisation) -> dict[str, Any]:
    if auth.status is AuthorisationStatus.NON_EXISTE:
        raise DmpValidationError("NON_EXISTE is a lookup answer, not a storable status", field="status")
    return {
        "patient_ins": auth.patient_ins,
        "subject_kind": auth.subject_kind.value,
        "subject_id": auth.subject_id,
        "status": auth.status.value,
        "treating_physician": int(auth.treating_physician),
        "granted_at": ts(auth.granted_at),
        "last_action_at": ts(auth.last_action_at),
        "expires_at": opt_ts(auth.expires_at),
        "family_name": auth.family_name,
        "given_name": auth.given_name,
        "specialty": auth.specialty,
        "structure_id": auth.structure_id,
    }


def authorisation(row: sqlite3.Row) -> Authorisation:
    return Authorisation(
        patient_ins=row["patient_ins"],
        subject_kind=SubjectKind(row["subject_kind"]),
        subject_id=row["subject_id"],
        status=AuthorisationStatus(row["status"]),
        granted_at=_req_ts(row["granted_at"]),
        last_action_at=_req_ts(row["last_action_at"]),
        expires_at=parse_ts(row["expires_at"]),
        treating_physician=bool(row["treating_physician"]),
        family_name=row["family_name"],
        given_name=row["given_name"],
        specialty=row["specialty"],
        structure_id=row["structure_id"],
    )


def submission_set_json(submission_set: SubmissionSet) -> str:
    data = {
        "source_id": submission_set.source_id,
        "author": _author(submission_set.author),
        "content_type_code": _code(submission_set.content_type_code),
        "title": submission_set.title,
        "comments": submission_set.comments,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def submission_set(row: sqlite3.Row) -> SubmissionSet:
    data = json.loads(row["metadata"])
    return SubmissionSet(
        entry_uuid=row["entry_uuid"],
        unique_id=row["unique_id"],
        patient_ins=row["patient_ins"],
        source_id=data["source_id"],
        submission_time=_req_ts(row["submission_time"]),
        author=_from_author(data["author"]),
        content_type_code=_from_code(data["content_type_code"]),
        title=data["title"],
        comments=data["comments"],
        status=AvailabilityStatus(row["status"]),
    )


def trace_params(entry: TraceEntry) -> dict[str, Any]:
    return {
        "at": ts(entry.at),
        "td": entry.td,
        "outcome": entry.outcome.value,
        "ps_id": entry.ps_id,
        "structure_id": entry.structure_id,
        "auth_mode": entry.auth_mode,
        "role": entry.role,
        "access_mode": entry.access_mode,
        "patient_ins": entry.patient_ins,
        "detail": entry.detail,
        "message_id": entry.message_id,
    }


def trace(row: sqlite3.Row) -> TraceEntry:
    return TraceEntry(
        at=_req_ts(row["at"]),
        td=row["td"],
        outcome=Outcome(row["outcome"]),
        ps_id=row["ps_id"],
        structure_id=row["structure_id"],
        auth_mode=row["auth_mode"],
        role=row["role"],
        access_mode=row["access_mode"],
        patient_ins=row["patient_ins"],
        detail=row["detail"],
        message_id=row["message_id"],
        id=row["id"],
    )
