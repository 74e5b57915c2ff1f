"""Identifiers used by the DMP: INS (NIR/NIA), OIDs, CX patient ids, PS and structure national ids; and the
one reader of the decimal numbers peers write (sizes, counts, versions).

Rules from the reference §4.2 and §12: an INS is 15 characters (13-character body + 2-digit key),
key = 97 − (N mod 97) with Corsica's ``2A``/``2B`` replaced by ``19``/``18`` in the department
position only. Only length, charset and key are validated, never the semantics of the body.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from dmpclient.errors import DmpValidationError

__all__ = [
    "DMP_REPOSITORY_OID",
    "DMP_SYSTEM_OID",
    "PS_ID_OID",
    "STRUCTURE_ID_OID",
    "InsOid",
    "format_cx",
    "ins_key",
    "make_ins",
    "mask_ins",
    "parse_cx",
    "parse_decimal",
    "validate_ins",
    "validate_oid",
    "validate_ps_id",
    "validate_structure_id",
]


class InsOid(StrEnum):
    """Assigning authorities of the INS (reference §12.2)."""

    NIR = "1.2.250.1.213.1.4.8"
    NIA = "1.2.250.1.213.1.4.9"
    TEST = "1.2.250.1.213.1.4.10"
    DEMO = "1.2.250.1.213.1.4.11"


#: Assigning authority of national PS identifiers (idNat_PS).
PS_ID_OID: Final = "1.2.250.1.71.4.2.1"
#: Assigning authority of national structure identifiers (Struct_IdNat).
STRUCTURE_ID_OID: Final = "1.2.250.1.71.4.2.2"
#: The DMP system (HL7 device, custodian).
DMP_SYSTEM_OID: Final = "1.2.250.1.213.4.1.1.1"
#: The DMP repositoryUniqueId.
DMP_REPOSITORY_OID: Final = "1.2.250.1.213.4.1.1.1.2"

_INS_BODY = re.compile(r"^[1-478][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}$")
_OID = re.compile(r"^(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+$")
_PS_ID = re.compile(r"^[0134568][0-9A-Za-z]{2,}(?:/[0-9A-Za-z]+)?$")
_STRUCTURE_ID = re.compile(r"^[0-6][0-9A-Za-z]{5,}$")
#: A NIR/NIA-shaped value inside free text (13-character body with 2A/2B for Corsica + 2-digit key).
_INS_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{8}(?![0-9A-Za-z])")
_CX = re.compile(r"^(?P<id>[^\^&]+)\^\^\^&(?P<oid>[0-9.]+)&ISO\^NH$")


def _numeric_body(body: str) -> int:
    """The body as an integer, with 2A → 19 and 2B → 18 in the department position (chars 6–7)."""
    department = body[5:7]
    replacement = {"2A": "19", "2B": "18"}.get(department.upper(), department)
    return int(body[:5] + replacement + body[7:])


def ins_key(body13: str) -> str:
    """The two-digit key of a 13-character INS body (``97 − N mod 97``; 97 when N mod 97 == 0)."""
    body = body13.upper()
    if not _INS_BODY.fullmatch(body):
        raise DmpValidationError(
            "an INS body is 13 characters: sex (1, 2, 3, 4, 7, 8), year, month, department (digits or 2A/2B), "
            "commune and order digits",
            field="ins",
        )
    return f"{97 - _numeric_body(body) % 97:02d}"


def make_ins(body13: str) -> str:
    """A full 15-character INS from its body (used by the mock's seed and by tests)."""
    return body13.upper() + ins_key(body13)


def validate_ins(ins: str, *, field: str = "ins", check_key: bool = True) -> str:
    """Return the normalised INS or raise :class:`DmpValidationError` saying what to fix.

    Args:
        check_key: verify the control key (some public test data carry wrong keys; the mock can relax it).
    """
    value = ins.strip().upper()
    if len(value) != 15:
        raise DmpValidationError(
            f"{field}: an INS has 15 characters (13-character NIR/NIA + 2-digit key), got {len(value)}",
            field=field,
        )
    body, key = value[:13], value[13:]
    if not _INS_BODY.fullmatch(body) or not (key.isascii() and key.isdigit()):
        raise DmpValidationError(
            f"{field}: an INS is digits only, except 2A/2B in the department position (characters 6-7)",
            field=field,
        )
    if check_key and ins_key(body) != key:
        raise DmpValidationError(
            f"{field}: the INS control key is wrong (check the last two digits against the INSi answer)",
            field=field,
        )
    return value


def validate_oid(oid: str, *, field: str = "oid") -> str:
    """Return ``oid`` if it is a dotted-decimal OID (no leading zeros), else raise."""
    if not _OID.fullmatch(oid):
        raise DmpValidationError(
            f"{field}: an OID is dotted decimal numbers without leading zeros (e.g. 1.2.250.1.213.1.4.8)",
            field=field,
        )
    return oid


def validate_ps_id(ps_id: str, *, field: str = "ps_id") -> str:
    """Validate a national PS identifier (prefix 8 = RPPS, 0 = ADELI, 3 = FINESS+local id…, §12.3)."""
    if not _PS_ID.fullmatch(ps_id):
        raise DmpValidationError(
            f"{field}: a national PS identifier starts with 0, 1, 3, 4, 5, 6 or 8 (8 + RPPS, e.g. 899900063480)",
            field=field,
        )
    return ps_id


def validate_structure_id(structure_id: str, *, field: str = "structure_id") -> str:
    """Validate a national structure identifier (1 + FINESS, 3 + SIRET, 4 + cabinet RPPS…, §12.4)."""
    if not _STRUCTURE_ID.fullmatch(structure_id):
        raise DmpValidationError(
            f"{field}: a national structure identifier is a type digit (1 = FINESS, 3 = SIRET, 4 = cabinet RPPS…) "
            "followed by the identifier, e.g. 10B0127189",
            field=field,
        )
    return structure_id


def mask_ins(text: str, replacement: str = "[INS]") -> str:
    """``text`` with every INS-shaped value replaced: for messages built from a peer's free text."""
    return _INS_IN_TEXT.sub(replacement, text)


def format_cx(ins: str, oid: str) -> str:
    """The HL7 CX form used by XDS and the VIHF resource-id: ``{INS}^^^&{OID}&ISO^NH``."""
    return f"{ins}^^^&{oid}&ISO^NH"


def parse_cx(cx: str, *, field: str = "patient_id") -> tuple[str, str]:
    """Split a CX patient identifier into ``(id, assigning authority OID)``."""
    match = _CX.fullmatch(cx.strip())
    if not match:
        raise DmpValidationError(
            f"{field}: expected a CX identifier of the form ID^^^&OID&ISO^NH (e.g. 207058575627097^^^&"
            "1.2.250.1.213.1.4.10&ISO^NH)",
            field=field,
        )
    return match["id"], validate_oid(match["oid"], field=field)


def parse_decimal(text: str | None, *, signed: bool = False, max_digits: int = 18) -> int | None:
    """A decimal number as a peer wrote it (ASCII digits, spaces around allowed), or ``None``; never raises.

    ``str.isdigit`` accepts ``'²'`` and other non-ASCII digits that :func:`int` refuses, and :func:`int` refuses
    more than 4,300 digits: both made hostile answers crash decoders with a ``ValueError``.

    Args:
        signed: accept a leading ``-``.
        max_digits: longer numbers give ``None`` (18 digits fit any size or count).
    """
    value = text.strip() if text else ""
    digits = value[1:] if signed and value.startswith("-") else value
    if not 0 < len(digits) <= max_digits or not (digits.isascii() and digits.isdigit()):
        return None
    return int(value)
