"""Distinguished names for the VIHF ``Issuer`` (reference §2.2): rendering and semantic comparison.

The Issuer is the RFC 2253/4514 subject DN of the signing certificate, most specific RDN first, with the
short names ``ST``, ``SN``, ``GN`` (not .NET's ``S``/``G``). Verifiers compare DNs semantically because
libraries render the same name differently (``title=`` / ``T=`` / ``2.5.4.12=#0c…``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

__all__ = ["certificate_dn", "same_dn"]

#: Short names for attributes that RFC 4514 leaves to dotted OIDs (PS certificates, §2.2).
_DN_NAMES: Final = {NameOID.SURNAME: "SN", NameOID.GIVEN_NAME: "GN", NameOID.TITLE: "title"}
_DN_PARSE: Final = {
    name: oid
    for key, oid in {
        "SN": NameOID.SURNAME,
        "GN": NameOID.GIVEN_NAME,
        "T": NameOID.TITLE,
        "TITLE": NameOID.TITLE,
    }.items()
    for name in (key, key.lower())
}
_RDN_ORDER: Final = {NameOID.COMMON_NAME: 0, NameOID.SURNAME: 1, NameOID.GIVEN_NAME: 2}
_HEX_VALUE: Final = re.compile(r"=#([0-9A-Fa-f]+)")
#: BER string tags found in DNs and how to decode their content.
_STRING_TAGS: Final = {0x0C: "utf-8", 0x13: "ascii", 0x14: "latin-1", 0x16: "ascii", 0x1E: "utf-16-be"}
_SPECIAL: Final = re.compile(r'([,+"\\<>;=])')


@lru_cache(maxsize=64)
def certificate_dn(certificate: x509.Certificate) -> str:
    """The VIHF ``Issuer``: RFC 4514 subject DN, certificate RDN order (most specific first), ST/SN/GN/title.

    Inside a multi-valued RDN the order is CN, SN, GN, then the rest (``CN=…+SN=…+GN=…``, §2.2).
    """
    rdns = []
    for rdn in reversed(certificate.subject.rdns):
        attributes = sorted(rdn, key=lambda attribute: _RDN_ORDER.get(attribute.oid, 9))
        rdns.append("+".join(attribute.rfc4514_string(_DN_NAMES) for attribute in attributes))
    return ",".join(rdns)


def _decode_hex(match: re.Match[str]) -> str:
    """``=#14054c49425245`` (a BER-encoded string, Java style) → ``=LIBRE``; other encodings unchanged."""
    raw = bytes.fromhex(match[1]) if len(match[1]) % 2 == 0 else b""
    if len(raw) < 2 or raw[0] not in _STRING_TAGS or raw[1] != len(raw) - 2:
        return match[0]
    try:
        text = raw[2:].decode(_STRING_TAGS[raw[0]])
    except UnicodeDecodeError:
        return match[0]
    return "=" + _SPECIAL.sub(r"\\\1", text)


@lru_cache(maxsize=256)
def _parse_dn(value: str) -> x509.Name | None:
    """Parse a DN string (cached: every request of a structure carries the same Issuer and TLS DN)."""
    try:
        return x509.Name.from_rfc4514_string(_HEX_VALUE.sub(_decode_hex, value), _DN_PARSE)
    except ValueError:
        return None


def same_dn(text: str, name: x509.Name | str) -> bool:
    """Compare a DN string with a certificate name (or another DN string) semantically.

    Attribute short names, hex-encoded string values and multi-valued RDN order do not matter; RDN order does.
    """
    other = _parse_dn(name) if isinstance(name, str) else name
    parsed = _parse_dn(text)
    if parsed is None or other is None:
        return " ".join(text.split()).casefold() == " ".join(str(name).split()).casefold()
    return parsed == other
