"""HL7 v2 data types of XDS metadata: CX (patient ids), XCN (persons), XON (organisations), DTM (times).

XDS carries them as strings with HL7 v2 delimiters: ``^`` between components, ``&`` between
sub-components, and the escape sequences ``\\S\\`` (``^``), ``\\T\\`` (``&``), ``\\F\\`` (``|``),
``\\R\\`` (``~``), ``\\E\\`` (``\\``) for delimiters inside values (HL7 v2.5 §2.7). Parsing is total:
any string gives a value (lenient on input); formatting escapes every delimiter, so a name holding
``^`` or ``&`` cannot shift the components (strict on output). DMP shapes: reference §4.2 and §4.5.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from pydantic import BaseModel, ConfigDict

from dmpclient.errors import DmpValidationError

__all__ = [
    "Cx",
    "Xcn",
    "Xon",
    "escape",
    "format_dtm",
    "parse_dtm",
    "unescape",
]

_ESCAPES: Final = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\"}
_ESCAPE_OF: Final = {value: f"\\{key}\\" for key, value in _ESCAPES.items()}
_ESCAPE_SEQUENCE: Final = re.compile(r"\\([FSTRE])\\")
_NEEDS_ESCAPE: Final = re.compile(r"[|^~&\\]")
#: ``YYYY[MM[DD[hh[mm[ss[.S]]]]]][+-ZZZZ]`` in ASCII digits (``\d`` would also take other scripts' digits).
_DTM: Final = re.compile(
    r"([0-9]{4})([0-9]{2})?([0-9]{2})?([0-9]{2})?([0-9]{2})?([0-9]{2})?(?:\.[0-9]{1,4})?([+-][0-9]{4})?"
)


def escape(text: str) -> str:
    """``text`` with the HL7 v2 delimiters replaced by their escape sequences."""
    return _NEEDS_ESCAPE.sub(lambda match: _ESCAPE_OF[match[0]], text) if _NEEDS_ESCAPE.search(text) else text


def unescape(text: str) -> str:
    """The value of an escaped HL7 v2 component (unknown escape sequences are kept as they are)."""
    return _ESCAPE_SEQUENCE.sub(lambda match: _ESCAPES[match[1]], text) if "\\" in text else text


def _components(value: str, count: int) -> list[str]:
    parts = value.split("^")
    return parts + [""] * (count - len(parts)) if len(parts) < count else parts


def _authority(hd: str) -> tuple[str, str]:
    """An HD sub-component list ``namespace&OID&ISO`` → (OID, its type); a bare value is taken as the id."""
    if "&" not in hd:
        return unescape(hd), ""
    parts = hd.split("&")
    return unescape(parts[1]) if len(parts) > 1 else "", unescape(parts[2]) if len(parts) > 2 else ""


def _hd(oid: str, kind: str) -> str:
    return f"&{escape(oid)}&{escape(kind)}" if oid else ""


def _join(parts: list[str]) -> str:
    return "^".join(parts).rstrip("^")


class Cx(BaseModel):
    """A CX identifier: ``{id}^^^&{OID}&ISO^{type}`` (patient ids, reference §4.2).

    Attributes:
        id: CX.1 (the INS for a DMP patient id).
        assigning_authority: the OID of CX.4.
        id_type: CX.5 (``NH`` for an INS, ``PI`` for a local IPP).
        effective_date: CX.7 as received (``YYYYMMDD`` on some feeding examples).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    assigning_authority: str = ""
    id_type: str = ""
    effective_date: str = ""

    @classmethod
    def parse(cls, value: str) -> Cx:
        """Read a CX string (never raises: odd values give odd fields)."""
        parts = _components(value.strip(), 7)
        oid, _ = _authority(parts[3])
        return cls.model_construct(
            id=unescape(parts[0]), assigning_authority=oid, id_type=unescape(parts[4]), effective_date=parts[6]
        )

    @classmethod
    def patient(cls, ins: str, oid: str) -> Cx:
        """The DMP patient id of an INS: ``{INS}^^^&{OID}&ISO^NH``."""
        return cls(id=ins, assigning_authority=oid, id_type="NH")

    def without_date(self) -> Cx:
        """This CX without its CX.7 date: how queries (and the VIHF resource-id) name a patient, reference §4.2."""
        return self.model_copy(update={"effective_date": ""}) if self.effective_date else self

    def same_identity(self, other: Cx) -> bool:
        """Same CX.1 and CX.4 (the registry matches patient ids on these only, reference §4.2)."""
        return self.id == other.id and self.assigning_authority == other.assigning_authority

    def __str__(self) -> str:
        parts = [
            escape(self.id),
            "",
            "",
            _hd(self.assigning_authority, "ISO"),
            escape(self.id_type),
            "",
            self.effective_date,
        ]
        return _join(parts)

    def __repr__(self) -> str:  # a patient id never reaches a log in clear
        return f"Cx(id='…{self.id[-4:]}', assigning_authority={self.assigning_authority!r})"


class Xcn(BaseModel):
    """An XCN person: ``{id}^{family}^{given}^^^^^^&{OID}&ISO^D^^^{id type}`` (reference §4.5).

    Attributes:
        id: XCN.1 (idNat_PS for a professional, the INS for a patient author).
        family, given, further_given, suffix, prefix, degree: XCN.2 to XCN.7.
        assigning_authority: the OID of XCN.9.
        name_type: XCN.10 (``D`` in the DMP).
        id_type: XCN.13 (``IDNPS``, ``NH``, ``RI``, ``EI``…).
    """

    model_config = ConfigDict(frozen=True)

    id: str = ""
    family: str = ""
    given: str = ""
    further_given: str = ""
    suffix: str = ""
    prefix: str = ""
    degree: str = ""
    assigning_authority: str = ""
    name_type: str = ""
    id_type: str = ""

    @classmethod
    def parse(cls, value: str) -> Xcn:
        """Read an XCN string (never raises)."""
        p = _components(value.strip(), 13)
        oid, _ = _authority(p[8])
        return cls.model_construct(
            id=unescape(p[0]),
            family=unescape(p[1].split("&", 1)[0]),
            given=unescape(p[2]),
            further_given=unescape(p[3]),
            suffix=unescape(p[4]),
            prefix=unescape(p[5]),
            degree=unescape(p[6]),
            assigning_authority=oid,
            name_type=unescape(p[9]),
            id_type=unescape(p[12]),
        )

    @property
    def name(self) -> str:
        """``Given FAMILY`` for display."""
        return " ".join(part for part in (self.prefix, self.given, self.family) if part)

    def __str__(self) -> str:
        names = [self.family, self.given, self.further_given, self.suffix, self.prefix, self.degree]
        parts = [escape(self.id), *(escape(n) for n in names), "", _hd(self.assigning_authority, "ISO")]
        parts += [escape(self.name_type), "", "", escape(self.id_type)]
        return _join(parts)


class Xon(BaseModel):
    """An XON organisation: ``{name}^^^^^&{OID}&ISO^{id type}^^^{id}`` (reference §4.5).

    Attributes:
        name: XON.1 (raison sociale).
        assigning_authority: the OID of XON.6 (``1.2.250.1.71.4.2.2`` for Struct_IdNat).
        id_type: XON.7 (``IDNST``, ``SIREN``…).
        id: XON.10, or XON.3 when only that (older) component is given.
    """

    model_config = ConfigDict(frozen=True)

    name: str = ""
    assigning_authority: str = ""
    id_type: str = ""
    id: str = ""

    @classmethod
    def parse(cls, value: str) -> Xon:
        """Read an XON string (never raises)."""
        p = _components(value.strip(), 10)
        oid, _ = _authority(p[5])
        return cls.model_construct(
            name=unescape(p[0]), assigning_authority=oid, id_type=unescape(p[6]), id=unescape(p[9] or p[2])
        )

    def __str__(self) -> str:
        parts = [escape(self.name), "", "", "", "", _hd(self.assigning_authority, "ISO"), escape(self.id_type)]
        parts += ["", "", escape(self.id)]
        return _join(parts)


def parse_dtm(value: str) -> dt.datetime | None:
    """An XDS time (``YYYY[MM[DD[hh[mm[ss]]]]]``, UTC unless an offset is given) as an aware datetime.

    Returns ``None`` when the value is not a DTM (the caller keeps the raw slot), also when its offset moves it
    outside the years 1 to 9999.
    """
    match = _DTM.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        moment = dt.datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=dt.UTC
        )
    except ValueError:
        return None
    if offset:
        sign = 1 if offset[0] == "+" else -1
        try:
            moment -= sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        except OverflowError:
            return None
    return moment


def format_dtm(moment: dt.datetime) -> str:
    """A timezone-aware datetime as the 14-digit UTC form every DMP message uses (reference §4.4).

    Raises:
        DmpValidationError: a naive datetime (its time zone would be a guess).
    """
    if moment.tzinfo is None:
        raise DmpValidationError("XDS times must be timezone-aware datetimes (they are sent in UTC)", field="datetime")
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
