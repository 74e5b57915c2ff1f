"""The one hardened XML parser for everything received from the network, plus namespaces.

Everything the SDK or the mock reads from a socket goes through :func:`parse_untrusted`: no DTD,
no entity expansion, no network access, no huge trees, a size limit, and a refusal of any document
that *declares* a DTD (billion laughs, XXE and external DTDs are all refused the same way, with a
typed :class:`~dmpclient.errors.DmpUnsafeXmlError`).

Three layers, because libxml2 still opens an external DTD or parameter entity named by a ``file:`` URL
even with ``load_dtd=False``: the prolog is scanned for ``<!DOCTYPE`` before parsing (clear error, no
parse at all); the parser's resolver answers every external load with nothing (for encodings the scan
cannot read, e.g. UTF-16); and the parsed document is refused if it carries a DTD.
"""

from __future__ import annotations

import re
import threading
from typing import Final

from lxml import etree

from dmpclient.errors import DmpUnsafeXmlError

__all__ = [
    "DEFAULT_MAX_XML_BYTES",
    "NS",
    "parse_untrusted",
    "qname",
    "serialize",
]

#: Default upper bound for one XML document (the SOAP part; MTOM attachments are separate).
DEFAULT_MAX_XML_BYTES: Final = 32 * 1024 * 1024

#: Namespace map used across the SDK and the mock (prefix → URI).
NS: Final[dict[str, str]] = {
    "soap": "http://www.w3.org/2003/05/soap-envelope",
    "soap11": "http://schemas.xmlsoap.org/soap/envelope/",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "saml2": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "hl7": "urn:hl7-org:v3",
    "xop": "http://www.w3.org/2004/08/xop/include",
    "xdsb": "urn:ihe:iti:xds-b:2007",
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0",
    "query": "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
    "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    "hab": "urn:si-dmp-habilitations",
    "pat": "urn:si-dmp-patients",
    "xades": "http://uri.etsi.org/01903/v1.3.2#",
    "xml": "http://www.w3.org/XML/1998/namespace",
}

_local = threading.local()

#: A ``<!DOCTYPE`` in the prolog, after optional BOM, whitespace, XML declaration, comments and PIs
#: (possessive repetition: linear time on hostile input).
_PROLOG_DOCTYPE: Final = re.compile(rb"(?:\xef\xbb\xbf)?(?:[ \t\r\n]+|<\?.*?\?>|<!--.*?-->)*+<!DOCTYPE", re.DOTALL)

_DTD_REFUSED: Final = "received XML declares a DTD; DTDs and entity declarations are refused (entity expansion, XXE)"


class _NoExternalLoads(etree.Resolver):
    """Answer every external DTD / entity request with an empty document: nothing is opened or fetched."""

    def resolve(self, system_url: str, public_id: str, context: object = None) -> object:
        return self.resolve_string("", context, base_url=None)


def _parser() -> etree.XMLParser:
    """One parser per thread (lxml parsers are not thread-safe), configured once."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=False,
            remove_pis=True,
            collect_ids=False,
        )
        parser.resolvers.add(_NoExternalLoads())
        _local.parser = parser
    return parser


def parse_untrusted(data: bytes, *, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> etree._Element:
    """Parse bytes received from the network into an element, refusing anything unsafe.

    Args:
        data: the raw XML document (UTF-8 or with its own declaration).
        max_bytes: refuse documents larger than this.

    Raises:
        DmpUnsafeXmlError: too large, malformed, or carrying a DTD / entity declaration.
    """
    if len(data) > max_bytes:
        raise DmpUnsafeXmlError(
            f"received XML of {len(data)} bytes exceeds the {max_bytes}-byte limit; "
            "raise max_bytes only if the peer is trusted to send such documents"
        )
    if _PROLOG_DOCTYPE.match(data):
        raise DmpUnsafeXmlError(_DTD_REFUSED)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise DmpUnsafeXmlError(f"received XML is not well-formed: {exc.msg}") from None
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise DmpUnsafeXmlError(_DTD_REFUSED)
    return root


def qname(prefix: str, local: str) -> str:
    """Clark notation ``{uri}local`` for a prefix of :data:`NS`."""
    return f"{{{NS[prefix]}}}{local}"


def serialize(element: etree._Element) -> bytes:
    """Serialise an element as UTF-8 without declaration (signature-preserving: no pretty print).

    The element's tail (text after it in its parent) is not part of the element and is left out.
    """
    return etree.tostring(element, encoding="utf-8", with_tail=False)
