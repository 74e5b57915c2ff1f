"""The one hardened XML parser for everything received from the network, plus namespaces.

Everything the SDK or the mock reads from a socket goes through :func:`parse_untrusted`: no DTD,
no entity expansion, no network access, a size limit, and a refusal of any document
that *declares* a DTD (billion laughs, XXE and external DTDs are all refused the same way, with a
typed :class:`~dmpclient.errors.DmpUnsafeXmlError`).

Three layers, because libxml2 still opens an external DTD or parameter entity named by a ``file:`` URL
even with ``load_dtd=False``: the prolog is scanned for ``<!DOCTYPE`` before parsing (clear error, no
parse at all); the parser's resolver answers every external load with nothing (for encodings the scan
cannot read, e.g. UTF-16); and the parsed document is refused if it carries a DTD.

Memory is bounded by structure, not only by bytes (:class:`XmlBudget`): libxml2 spends ~140 bytes per
element and more per attribute, so 64 MiB of ``<a/>`` would need ~3 GB. The number of elements and
attributes is bounded from the bytes *before* any tree is built (start tags and ``=`` signs are counted
in C; documents shorter than the budget skip even that), so the common path costs nothing extra. libxml2's
``huge_tree`` is used only when a budget admits a text node over its 10 MB limit (:data:`CDA_BUDGET
<dmpclient.xds.cda.CDA_BUDGET>`: a CDA embedding a large PDF); the budget then bounds what it relaxes.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from lxml import etree

from dmpclient.errors import DmpUnsafeXmlError

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_MAX_XML_BYTES",
    "NS",
    "XmlBudget",
    "parse_untrusted",
    "qname",
    "serialize",
]

#: Default upper bound for one XML document (the SOAP part; MTOM attachments are separate).
DEFAULT_MAX_XML_BYTES: Final = 32 * 1024 * 1024
#: libxml2's own limits without ``huge_tree``: nesting depth, one text or attribute value.
_LIBXML2_MAX_DEPTH: Final = 256
_LIBXML2_MAX_TEXT: Final = 10_000_000


@dataclass(frozen=True, slots=True)
class XmlBudget:
    """What one received XML document may cost (see the module docstring; defaults documented in docs/security.md).

    Attributes:
        max_bytes: size of the document.
        max_nodes: elements + attributes (namespace declarations included), bounded from the bytes before
            parsing: start tags (``<`` not followed by ``/``) plus ``=`` signs — exact for ordinary XML; a
            comment, a CDATA section or an ``=`` in text counts too. Worst case ~400 bytes of memory each.
        max_depth: nesting depth; at most 256 (libxml2 refuses deeper documents itself).
        max_text: characters of one text node or attribute value. Up to 10,000,000 libxml2 enforces it itself;
            above (a CDA embedding a large PDF in base64) the document is parsed with libxml2's ``huge_tree``, whose
            other relaxed limits stay bounded here: the size by ``max_bytes``, the depth by ``max_depth``
            (checked after parsing; libxml2 still stops at 2,048), entities by the DTD refusal.
        max_attributes: attributes of one element: lxml reads the attributes of an element in quadratic time,
            so 500,000 of them would hold a reader for hours. Checked for documents over 64 KiB (a smaller one
            cannot hold enough of them to cost more than a fraction of a second).
    """

    max_bytes: int = DEFAULT_MAX_XML_BYTES
    max_nodes: int = 500_000
    max_depth: int = _LIBXML2_MAX_DEPTH
    max_text: int = _LIBXML2_MAX_TEXT
    max_attributes: int = 256

    def __post_init__(self) -> None:
        if not 1 <= self.max_depth <= _LIBXML2_MAX_DEPTH:
            raise ValueError(f"XmlBudget: max_depth is 1..{_LIBXML2_MAX_DEPTH}")
        if min(self.max_bytes, self.max_nodes, self.max_text, self.max_attributes) < 1:
            raise ValueError("XmlBudget: max_bytes, max_nodes, max_text and max_attributes must be positive")

    @property
    def huge(self) -> bool:
        """Whether text over libxml2's own limit is admitted (``huge_tree`` parsing)."""
        return self.max_text > _LIBXML2_MAX_TEXT


#: The budget of the SDK and the mock unless they are given another one.
DEFAULT_BUDGET: Final = XmlBudget()

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

#: The XML declaration (not a processing instruction) and its encoding, bounded so that matching is linear.
_XML_DECLARATION: Final = re.compile(
    rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<\?xml[ \t\r\n]"
    rb"(?:[^>?]{0,256}?encoding[ \t]*=[ \t]*[\"']([A-Za-z0-9._-]{1,40})[\"'])?[^>?]{0,256}\?>"
)
_ASCII_COMPATIBLE: Final = (
    b"utf-8",
    b"utf8",
    b"us-ascii",
    b"ascii",
    b"iso-8859-",
    b"iso8859",
    b"latin",
    b"windows-125",
)
#: Below this size an element cannot carry enough attributes for lxml's quadratic reading to matter (< 0.3 s).
_SMALL_DOCUMENT: Final = 64 * 1024
_ENCODING_REFUSED: Final = (
    "received XML is in an encoding SOAP peers do not use (UTF-32, EBCDIC or an unknown declared encoding); send UTF-8"
)
_PI_REFUSED: Final = (
    "received XML contains a processing instruction; a SOAP message must not (SOAP 1.2 part 1 §5), and an "
    "instruction inside signed content would be verified differently by other verifiers"
)
_DTD_REFUSED: Final = "received XML declares a DTD; DTDs and entity declarations are refused (entity expansion, XXE)"


class _NoExternalLoads(etree.Resolver):
    """Answer every external DTD / entity request with an empty document: nothing is opened or fetched."""

    def resolve(self, system_url: str, public_id: str, context: object = None) -> object:
        return self.resolve_string("", context, base_url=None)


def _parser(*, keep_pis: bool = False, huge: bool = False) -> etree.XMLParser:
    """One parser per thread and kind (lxml parsers are not thread-safe), configured once."""
    name = ("pi_parser" if keep_pis else "parser") + ("_huge" if huge else "")
    parser: etree.XMLParser | None = getattr(_local, name, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=huge,
            remove_comments=False,
            remove_pis=not keep_pis,
            collect_ids=False,
        )
        parser.resolvers.add(_NoExternalLoads())
        setattr(_local, name, parser)
    return parser


def _encoding_family(data: bytes) -> str:
    """``ascii`` (UTF-8 and 8-bit encodings whose markup is ASCII), ``utf-16``, or ``other`` (UTF-32, EBCDIC, or a
    declared encoding we cannot vouch for), from the first bytes as libxml2 detects them and the declaration."""
    head = data[:4]
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) or head in (b"\x00\x00\x00<", b"<\x00\x00\x00"):
        return "other"  # UTF-32
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head in (b"\x00<\x00?", b"<\x00?\x00"):
        return "utf-16"
    declaration = _XML_DECLARATION.match(data)
    encoding = (declaration.group(1) if declaration else None) or b"utf-8"
    return "ascii" if encoding.lower().startswith(_ASCII_COMPATIBLE) else "other"


def _may_hold_pi(data: bytes, family: str) -> bool:
    """False when the bytes surely hold no processing instruction besides the XML declaration (the common
    case, decided without parsing); True when they may, or when the encoding hides ``<?`` from a byte scan."""
    if family != "ascii":
        return True
    declaration = _XML_DECLARATION.match(data)
    question = data.find(b"?", declaration.end() if declaration else 0)  # one byte: memchr speed
    return question >= 0 and data.find(b"<?", question - 1) >= 0


def parse_untrusted(
    data: bytes,
    *,
    max_bytes: int | None = None,
    budget: XmlBudget = DEFAULT_BUDGET,
    strict: bool = False,
    keep_pis: bool = False,
) -> etree._Element:
    """Parse bytes received from the network into an element, refusing anything unsafe or over budget.

    Args:
        data: the raw XML document (UTF-8 or with its own declaration).
        max_bytes: refuse documents larger than this (default: ``budget.max_bytes``).
        budget: structural limits (elements and attributes, depth, text sizes).
        strict: for SOAP messages and signed assertions: refuse a processing instruction (otherwise dropped, a
            CDA's ``xml-stylesheet``; what other verifiers read differently or not at all).
        keep_pis: keep processing instructions in the tree instead of dropping them (a document whose canonical
            form is hashed: a CDA's ``xml-stylesheet``); ignored when ``strict``, which refuses them.

    An encoding other than UTF-8, UTF-16 or an ASCII-compatible 8-bit one is refused in both modes (SOAP 1.2
    part 1 §5): in UTF-7 or EBCDIC, markup is not made of the bytes the structural budget counts.

    Raises:
        DmpUnsafeXmlError: too large, over budget, malformed, in an unusual encoding, carrying a DTD / entity
            declaration, or (when strict) a processing instruction.
    """
    limit = budget.max_bytes if max_bytes is None else max_bytes
    if len(data) > limit:
        raise DmpUnsafeXmlError(
            f"received XML of {len(data)} bytes exceeds the {limit}-byte limit; "
            "raise max_bytes only if the peer is trusted to send such documents"
        )
    if _PROLOG_DOCTYPE.match(data):
        raise DmpUnsafeXmlError(_DTD_REFUSED)
    if len(data) > budget.max_nodes and _node_bound(data) > budget.max_nodes:
        raise DmpUnsafeXmlError(
            f"received XML has more than {budget.max_nodes} elements and attributes (XmlBudget.max_nodes); "
            "raise it only if the peer is trusted to send such documents"
        )
    family = _encoding_family(data)
    if family == "other":
        raise DmpUnsafeXmlError(_ENCODING_REFUSED)
    refuse_pis = strict and _may_hold_pi(data, family)
    try:
        root = etree.fromstring(data, parser=_parser(keep_pis=refuse_pis or keep_pis, huge=budget.huge))
    except etree.XMLSyntaxError as exc:
        raise DmpUnsafeXmlError(f"received XML is not well-formed: {exc.msg}") from None
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise DmpUnsafeXmlError(_DTD_REFUSED)
    if refuse_pis and _holds_pi(root):
        raise DmpUnsafeXmlError(_PI_REFUSED)
    _check_shape(root, data, budget)
    return root


def _node_bound(data: bytes) -> int:
    """Start tags + ``=`` signs: an upper bound of elements + attributes, counted in C without parsing."""
    return data.count(b"<") - data.count(b"</") + data.count(b"=")


def _holds_pi(root: etree._Element) -> bool:
    """Any processing instruction in the document (first hit stops the walk; XPath's ``boolean(//…)`` merges
    node-sets in quadratic time when there are many)."""
    if next(root.iter(etree.ProcessingInstruction), None) is not None:
        return True
    siblings = itertools.chain(root.itersiblings(preceding=True), root.itersiblings())
    return any(isinstance(node, etree._ProcessingInstruction) for node in siblings)


@lru_cache(maxsize=8)
def _deeper_than(depth: int) -> etree.XPath:
    return etree.XPath("boolean(/" + "*/" * depth + "*)")


@lru_cache(maxsize=8)
def _more_attributes_than(count: int) -> etree.XPath:
    return etree.XPath(f"boolean((//*[count(@*) > {count}])[1])")  # [1]: stops at the first (linear)


@lru_cache(maxsize=8)
def _longer_than(characters: int) -> etree.XPath:
    longer = f"[string-length(.) > {characters}]"
    return etree.XPath(f"boolean((//text(){longer})[1]) or boolean((//@*{longer})[1])")  # [1]: linear


def _check_shape(root: etree._Element, data: bytes, budget: XmlBudget) -> None:
    """Budgets checked after parsing, in C (XPath) and only when they can bite: attributes per element (when
    the document is over 64 KiB and has more ``=`` signs than the budget; below, one element cannot hold enough
    attributes to matter), and depth and text sizes stricter than libxml2's own."""
    size = len(data)
    attributes = budget.max_attributes
    if size > _SMALL_DOCUMENT and data.count(b"=") > attributes and _more_attributes_than(attributes)(root):
        raise DmpUnsafeXmlError(
            f"received XML has an element with more than {attributes} attributes (XmlBudget.max_attributes)"
        )
    depth = budget.max_depth
    if (depth < _LIBXML2_MAX_DEPTH or budget.huge) and size > 2 * depth and _deeper_than(depth)(root):
        raise DmpUnsafeXmlError(f"received XML is nested deeper than {depth} levels (XmlBudget.max_depth)")
    text = budget.max_text
    if text != _LIBXML2_MAX_TEXT and size > text and _longer_than(text)(root):
        raise DmpUnsafeXmlError(
            f"received XML has a text or attribute value longer than {text} characters (XmlBudget.max_text)"
        )


def qname(prefix: str, local: str) -> str:
    """Clark notation ``{uri}local`` for a prefix of :data:`NS`."""
    return f"{{{NS[prefix]}}}{local}"


def serialize(element: etree._Element) -> bytes:
    """Serialise an element as UTF-8 without declaration (signature-preserving: no pretty print).

    The element's tail (text after it in its parent) is not part of the element and is left out.
    """
    return etree.tostring(element, encoding="utf-8", with_tail=False)
