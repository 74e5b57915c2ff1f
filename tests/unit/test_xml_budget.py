"""The hardened parser's structural budget: elements + attributes, depth, text sizes (issue "Hardening")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from dmpclient._xml import DEFAULT_BUDGET, XmlBudget, parse_untrusted
from dmpclient.errors import DmpUnsafeXmlError
from dmpclient.soap.envelope import read_soap

SMALL = XmlBudget(max_nodes=1000)


def test_empty_elements_at_the_byte_limit_are_refused_before_any_tree_is_built() -> None:
    """The attack of the issue: a response of empty elements just under the byte limit (~140 bytes each)."""
    envelope_open = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><r>'
    envelope_close = b"</r></s:Body></s:Envelope>"
    count = (DEFAULT_BUDGET.max_bytes - len(envelope_open) - len(envelope_close)) // 4
    data = envelope_open + b"<a/>" * count + envelope_close
    assert len(data) <= DEFAULT_BUDGET.max_bytes
    with pytest.raises(DmpUnsafeXmlError, match=r"more than 500000 elements and attributes \(XmlBudget.max_nodes\)"):
        read_soap(data)


@pytest.mark.parametrize("count", [998, 999])
def test_elements_up_to_the_budget_are_accepted(count: int) -> None:
    root = parse_untrusted(b"<r>" + b"<a/>" * count + b"</r>", budget=SMALL)
    assert len(root) == count


def test_one_element_over_the_budget_is_refused() -> None:
    with pytest.raises(DmpUnsafeXmlError, match="more than 1000 elements"):
        parse_untrusted(b"<r>" + b"<a/>" * 1000 + b"</r>", budget=SMALL)


WIDE = XmlBudget(max_nodes=1000, max_attributes=2000)


def test_attributes_count_towards_the_budget() -> None:
    attributes = b" ".join(b'a%d=""' % index for index in range(1000))
    with pytest.raises(DmpUnsafeXmlError, match="elements and attributes"):
        parse_untrusted(b"<r " + attributes + b"/>", budget=WIDE)
    assert len(parse_untrusted(b"<r " + attributes[: attributes.index(b"a999")] + b"/>", budget=WIDE).attrib) == 999


def test_single_quoted_attributes_and_spaces_around_equals_are_counted() -> None:
    attributes = b" ".join(b"a%d = 'x'" % index for index in range(1000))
    with pytest.raises(DmpUnsafeXmlError, match="elements and attributes"):
        parse_untrusted(b"<r " + attributes + b"/>", budget=WIDE)


@pytest.mark.parametrize(("count", "accepted"), [(256, True), (257, False)])
def test_attributes_of_one_element_are_bounded(count: int, accepted: bool) -> None:
    """lxml reads an element's attributes in quadratic time: 500,000 of them would hold a reader for hours."""
    padding = b"<p>" + b"p" * 70_000 + b"</p>"  # small documents cannot hold enough attributes to matter
    data = b"<r>" + padding + b"<e " + b" ".join(b'a%d=""' % index for index in range(count)) + b"/></r>"
    if accepted:
        assert len(parse_untrusted(data)[1].attrib) == count
    else:
        with pytest.raises(DmpUnsafeXmlError, match=r"more than 256 attributes \(XmlBudget.max_attributes\)"):
            parse_untrusted(data)


def test_many_attributes_spread_over_elements_are_fine() -> None:
    data = b"<r>" + b'<e a="1" b="2"/>' * 1000 + b"</r>"
    assert len(parse_untrusted(data)) == 1000


def _tree(shape: list[int]) -> etree._Element:
    """A tree from a list: each item adds an element under the one ``item`` levels up (attributes alternate)."""
    root = etree.Element("r")
    current = root
    for index, step in enumerate(shape):
        for _ in range(step):
            parent = current.getparent()
            current = parent if parent is not None else current
        current = etree.SubElement(current, "e", a="1") if index % 2 else etree.SubElement(current, "e")
        current.text = "t" if index % 3 else None
    return root


@given(shape=st.lists(st.integers(min_value=0, max_value=3), max_size=60), slack=st.integers(min_value=-3, max_value=3))
def test_the_budget_counts_exactly_elements_and_attributes_of_ordinary_xml(shape: list[int], slack: int) -> None:
    """Oracle: lxml's own count of the tree it serialised (no comments, no ``=`` in text)."""
    tree = _tree(shape)
    nodes = sum(1 + len(element.attrib) for element in tree.iter())
    data = etree.tostring(tree)
    budget = XmlBudget(max_nodes=max(1, nodes + slack))
    if nodes <= budget.max_nodes:
        assert parse_untrusted(data, budget=budget).tag == "r"
    else:
        with pytest.raises(DmpUnsafeXmlError, match="max_nodes"):
            parse_untrusted(data, budget=budget)


@pytest.mark.parametrize(("depth", "accepted"), [(10, True), (11, False)])
def test_depth_budget(depth: int, accepted: bool) -> None:
    data = b"<a>" * depth + b"</a>" * depth
    budget = XmlBudget(max_depth=10)
    if accepted:
        assert parse_untrusted(data, budget=budget).tag == "a"
    else:
        with pytest.raises(DmpUnsafeXmlError, match="deeper than 10 levels"):
            parse_untrusted(data, budget=budget)


@pytest.mark.parametrize(
    "template",
    [
        lambda n: b"<a>" + b"x" * n + b"</a>",
        lambda n: b'<a b="' + b"x" * n + b'"/>',
        lambda n: b"<a><![CDATA[" + b"x" * 60 + b"]]>" + b"x" * (n - 60) + b"</a>",
        lambda n: b"<a>" + b"&#120;" * n + b"</a>",
    ],
    ids=["text", "attribute", "cdata-and-text", "character-references"],
)
def test_text_budget(template: Callable[[int], bytes]) -> None:
    budget = XmlBudget(max_text=100)
    with pytest.raises(DmpUnsafeXmlError, match="longer than 100 characters"):
        parse_untrusted(template(101), budget=budget)
    assert parse_untrusted(template(100), budget=budget).tag == "a"


def test_libxml2_limits_stay_the_ceiling() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        XmlBudget(max_depth=257)
    with pytest.raises(ValueError, match="max_text"):
        XmlBudget(max_text=0)
    with pytest.raises(DmpUnsafeXmlError, match="Excessive depth"):
        parse_untrusted(b"<a>" * 257 + b"</a>" * 257)


LONG_TEXT = 12_000_000  # over libxml2's own 10,000,000 limit: a PDF of about 9 MB in base64


def test_text_over_the_libxml2_limit_needs_a_budget_that_admits_it() -> None:
    data = b"<a>" + b"QUJD" * (LONG_TEXT // 4) + b"</a>"
    with pytest.raises(DmpUnsafeXmlError, match="Text node too long"):
        parse_untrusted(data)  # the default budget: libxml2 refuses it itself
    admitting = XmlBudget(max_text=LONG_TEXT)
    assert admitting.huge
    assert len(parse_untrusted(data, budget=admitting).text or "") == LONG_TEXT
    with pytest.raises(DmpUnsafeXmlError, match=f"longer than {LONG_TEXT - 1} characters"):
        parse_untrusted(data, budget=XmlBudget(max_text=LONG_TEXT - 1))  # still bounded above the limit
    attribute = b'<a b="' + b"x" * LONG_TEXT + b'"/>'
    with pytest.raises(DmpUnsafeXmlError, match=f"longer than {LONG_TEXT - 1} characters"):
        parse_untrusted(attribute, budget=XmlBudget(max_text=LONG_TEXT - 1))


def test_a_budget_admitting_long_text_keeps_every_other_bound() -> None:
    huge = XmlBudget(max_text=LONG_TEXT)
    deep = b"<a>" * 300 + b"</a>" * 300  # libxml2 would allow 2,048 levels in huge mode
    with pytest.raises(DmpUnsafeXmlError, match="deeper than 256 levels"):
        parse_untrusted(deep, budget=huge)
    with pytest.raises(DmpUnsafeXmlError, match="deeper than 10 levels"):
        parse_untrusted(b"<a>" * 11 + b"</a>" * 11, budget=XmlBudget(max_depth=10, max_text=LONG_TEXT))
    with pytest.raises(DmpUnsafeXmlError, match="declares a DTD"):
        parse_untrusted(b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', budget=huge)
    with pytest.raises(DmpUnsafeXmlError, match="exceeds the 100-byte limit"):
        parse_untrusted(b"<a>" + b"x" * 100 + b"</a>", budget=XmlBudget(max_bytes=100, max_text=LONG_TEXT))
    flood = b"<r>" + b"<a/>" * 1_001 + b"</r>"
    with pytest.raises(DmpUnsafeXmlError, match="more than 1000 elements"):
        parse_untrusted(flood, budget=XmlBudget(max_nodes=1_000, max_text=LONG_TEXT))


def test_max_bytes_argument_still_overrides_the_budget() -> None:
    with pytest.raises(DmpUnsafeXmlError, match="exceeds the 10-byte limit"):
        parse_untrusted(b"<a>0123456789</a>", max_bytes=10)
    assert parse_untrusted(b"<a>0123456789</a>", budget=XmlBudget(max_bytes=10), max_bytes=100).text == "0123456789"


@pytest.mark.parametrize(
    "document",
    [
        b"<?xml version='1.0'?><a><?p x?></a>",
        b"<?top?><a/>",
        b'<?xml version="1.0" encoding="UTF-8"?>\n<a>x<?p?></a>',
        "<?xml version='1.0' encoding='UTF-16'?><a><?p?></a>".encode("utf-16"),
    ],
    ids=["inside", "before-the-root", "after-a-declaration", "utf-16"],
)
def test_processing_instructions_are_refused_when_asked(document: bytes) -> None:
    """SOAP 1.2 part 1 §5; found by the fuzz campaign: our parser dropped them, so a signature over content with
    instructions inserted still verified for us and not for xmlsec1."""
    with pytest.raises(DmpUnsafeXmlError, match="processing instruction"):
        parse_untrusted(document, strict=True)
    assert parse_untrusted(document).tag == "a"  # dropped by default (a CDA's xml-stylesheet)


@pytest.mark.parametrize(
    "document",
    [b"<?xml version='1.0'?><a/>", b"<a><![CDATA[<?not a pi?>]]><!-- <?not a pi?> --></a>", b"\xef\xbb\xbf<a/>"],
)
def test_what_only_looks_like_a_processing_instruction_is_accepted(document: bytes) -> None:
    assert parse_untrusted(document, strict=True).tag == "a"


def test_read_soap_refuses_processing_instructions() -> None:
    with pytest.raises(DmpUnsafeXmlError, match="processing instruction"):
        read_soap(b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><?p?><s:Body/></s:Envelope>')


@pytest.mark.parametrize(
    "document",
    [
        "<a/>".encode("utf-32"),
        "<a/>".encode("utf-32-le"),
        b"<?xml version='1.0' encoding='cp037'?><a/>",
        b"<?xml version='1.0' encoding='x-unknown'?><a/>",
    ],
    ids=["utf-32", "utf-32-no-bom", "ebcdic-declared", "unknown"],
)
@pytest.mark.parametrize("strict", [True, False])
def test_parsing_refuses_encodings_soap_peers_do_not_use(document: bytes, strict: bool) -> None:
    """Found by the fuzz campaign's xmlsec1 differential: a UTF-32 assertion verified for us, not for xmlsec1."""
    with pytest.raises(DmpUnsafeXmlError, match="encoding"):
        parse_untrusted(document, strict=strict)


def test_the_element_budget_holds_whatever_the_encoding() -> None:
    """In UTF-7, ``<`` is ``+ADw-``: a byte count of markup would see no element at all (found in review)."""
    children = b"+ADw-a/+AD4-" * 2000
    document = b'<?xml version="1.0" encoding="UTF-7"?>+ADw-r+AD4-' + children + b"+ADw-/r+AD4-"
    for strict in (True, False):
        with pytest.raises(DmpUnsafeXmlError, match="encoding"):
            parse_untrusted(document, budget=XmlBudget(max_nodes=100), strict=strict)


@pytest.mark.parametrize(
    "document",
    [
        b"<a/>",
        "<a>é</a>".encode("utf-16"),
        "<?xml version='1.0' encoding='UTF-16'?><a/>".encode("utf-16-le"),
        "<?xml version='1.0' encoding='ISO-8859-1'?><a>é</a>".encode("latin-1"),
    ],
)
def test_strict_parsing_accepts_utf8_utf16_and_latin1(document: bytes) -> None:
    assert parse_untrusted(document, strict=True).tag == "a"
