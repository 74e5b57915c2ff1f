"""How a case is made from a seed: byte mutations, XML-aware mutations, and the classic hostile payload families.

Every function takes a :class:`random.Random` (seeded per case, so a case index reproduces) and returns the
bytes to decode. The families are the ones a hostile peer would try first: entity expansion and external
entities, DTDs, nesting, huge names, attributes and texts, element floods, odd encodings, markup floods,
truncated or flooded MIME, odd MIME headers. Sizes straddle the budgets (just under, at, just over, far over).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Final

from lxml import etree

__all__ = [
    "MIME_FAMILIES",
    "SIGNATURE_PRESERVING",
    "XML_FAMILIES",
    "content_type_mutation",
    "mutate_bytes",
    "mutate_tree",
]

Family = Callable[[random.Random, bytes], bytes]

_INTERESTING: Final = (
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"]]>",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"&#0;",
    b"&#xD800;",
    b"&#99999999;",
    b"&undefined;",
    b'"',
    b"'",
    b"\r\n\r\n",
    b"--",
    b"--MIMEBoundary_fuzz",
    b"--MIMEBoundary_fuzz--",
    b"\r\n--MIMEBoundary_fuzz\r\nContent-ID: <x>\r\n\r\n",
    b'xmlns:a=""',
    b'xmlns="urn:x"',
    b"<?xml version='1.0' encoding='UTF-16'?>",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"207058575627097",
    b"2A",
)
_HOSTILE_VALUES: Final = (
    "",
    " ",
    "\t\n",
    "x" * 257,
    "x" * 70_000,
    "8" * 5_000_000,
    "207058575627097",
    "2 07 05 85 756 270 97",
    "207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH",
    "&<>\"'",
    "\u202e\u200b\ufeff",
    "ÉÈÇ ñ 漢字 🙂",
    "99999999999999999999999",
    "9" * 4301,
    "²",
    "1²",
    "٣",
    "99991231235959-0100",
    "00010101000000+0100",
    "-1",
    "1e309",
    "NaN",
    "2025-13-45T99:99:99Z",
    "9999-12-31T23:59:59.999999999+14:00",
    "1..2.3",
    "urn:uuid:zzzz",
    "DIRECTE",
    "INDIRECTE_RENFORCEE",
    "SM26",
    "10",
    "bris_de_glace",
    "CN=X,OU=10B0127189,C=FR",
)
_SAFE_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)

# --- byte mutations -----------------------------------------------------------------------------------


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return b"\x00"
    index = rng.randrange(len(data))
    return data[:index] + bytes([data[index] ^ (1 << rng.randrange(8))]) + data[index + 1 :]


def _insert(rng: random.Random, data: bytes) -> bytes:
    index = rng.randrange(len(data) + 1)
    piece = rng.choice(_INTERESTING) if rng.random() < 0.7 else rng.randbytes(rng.randrange(1, 16))
    return data[:index] + piece + data[index:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randrange(1, 64) :]


def _duplicate(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    piece = data[start : start + rng.randrange(1, 512)]
    return data[:start] + piece * rng.choice((2, 3, 100)) + data[start:]


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _swap(rng: random.Random, data: bytes) -> bytes:
    if len(data) < 4:
        return data[::-1]
    a, b = sorted(rng.sample(range(len(data)), 2))
    size = rng.randrange(1, 1 + min(64, b - a))
    return data[:a] + data[b : b + size] + data[a + size : b] + data[a : a + size] + data[b + size :]


_BYTE_MUTATIONS: Final[Sequence[Family]] = (_flip, _insert, _delete, _duplicate, _truncate, _swap)


def mutate_bytes(rng: random.Random, data: bytes, others: Sequence[bytes]) -> bytes:
    """One to four byte-level mutations, sometimes a splice with another seed first."""
    if others and rng.random() < 0.15:
        other = rng.choice(others)
        data = data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]
    for _ in range(rng.randint(1, 4)):
        data = rng.choice(_BYTE_MUTATIONS)(rng, data)
    return data


# --- XML-aware mutations --------------------------------------------------------------------------------


def _elements(root: etree._Element) -> list[etree._Element]:
    return [element for element in root.iter() if isinstance(element.tag, str)]


def mutate_tree(rng: random.Random, data: bytes) -> bytes:
    """Change the structure of a well-formed seed: rename, drop, duplicate or move an element, set a hostile
    text or attribute value, add or drop an attribute. Falls back to byte mutations when the seed does not parse."""
    try:
        root = etree.fromstring(data, parser=_SAFE_PARSER)
    except etree.XMLSyntaxError:
        return mutate_bytes(rng, data, ())
    elements = _elements(root)
    target = rng.choice(elements)
    parent = target.getparent()
    action = rng.randrange(8)
    try:
        if action == 0:
            target.tag = etree.QName(rng.choice(elements)).text if rng.random() < 0.5 else "{urn:fuzz}x"
        elif action == 1 and parent is not None:
            parent.remove(target)
        elif action == 2 and parent is not None:
            parent.insert(parent.index(target), etree.fromstring(etree.tostring(target)))
        elif action == 3 and parent is not None:
            destination = rng.choice(elements)
            if target not in destination.iterancestors() and destination is not target:
                destination.append(target)
        elif action == 4:
            target.text = rng.choice(_HOSTILE_VALUES)
        elif action == 5 and target.attrib:
            target.set(rng.choice([str(key) for key in target.attrib]), rng.choice(_HOSTILE_VALUES))
        elif action == 6:
            target.set(
                rng.choice(("code", "codeSystem", "root", "extension", "ID", "Name", "value")),
                rng.choice(_HOSTILE_VALUES),
            )
        elif target.attrib:
            del target.attrib[rng.choice([str(key) for key in target.attrib])]
    except ValueError:  # lxml refuses characters XML cannot carry: try bytes instead
        return mutate_bytes(rng, data, ())
    return etree.tostring(root)


def _comment_in_text(rng: random.Random, data: bytes) -> bytes:
    """``<NameID>8999<!---->00063480</NameID>``: exclusive c14n drops comments, the signature still holds."""
    root = etree.fromstring(data, parser=_SAFE_PARSER)
    texts = [element for element in _elements(root) if element.text and len(element.text) > 1]
    target = rng.choice(texts)
    cut = rng.randrange(1, len(target.text or "x"))
    text = target.text or ""
    target.text = text[:cut]
    comment = etree.Comment(rng.choice(("", " x ", "c")))
    comment.tail = text[cut:]
    target.insert(0, comment)
    return etree.tostring(root)


def _character_references(rng: random.Random, data: bytes) -> bytes:
    """Digits and letters of the text written as character references (same canonical form)."""
    start = data.find(b"<saml2:NameID>")
    if start < 0:
        return data
    start += len(b"<saml2:NameID>")
    end = data.find(b"<", start)
    encoded = b"".join(b"&#%d;" % byte if rng.random() < 0.5 else bytes([byte]) for byte in data[start:end])
    return data[:start] + encoded + data[end:]


def _quote_style(rng: random.Random, data: bytes) -> bytes:
    """Single quotes and extra spaces inside the tags (invisible after canonicalisation)."""
    return data.replace(b'="', b" = '").replace(b'" ', b"'  ").replace(b'">', b"' >").replace(b'"/>', b"'/>")


#: Mutations a correct verifier must see through: the canonical form, hence the signature, is unchanged.
SIGNATURE_PRESERVING: Final[Sequence[Family]] = (_comment_in_text, _character_references, _quote_style)

# --- XML payload families -------------------------------------------------------------------------------


def _inject(seed: bytes, fragment: bytes) -> bytes:
    """Put ``fragment`` as deep as it is useful: inside the SOAP body if any, else inside the document element."""
    body = seed.find(b":Body>")
    index = body + len(b":Body>") if body >= 0 else seed.find(b">", seed.find(b"<", seed.find(b"?>") + 1)) + 1
    return seed[:index] + fragment + seed[index:]


_DOCTYPES: Final = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>',
    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>',
    b'<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>',
    b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">',
    b'<!DOCTYPE x PUBLIC "-//X//EN" "file:///dev/zero">',
    b"<!DOCTYPE x [<!ELEMENT x ANY><!ATTLIST x a CDATA #FIXED 'injected'>]>",
)
_PROLOGS: Final = (b"", b"\xef\xbb\xbf", b"<?xml version='1.0'?>\n", b"<!-- c -->", b"  \n<?pi x?>")


def _doctype(rng: random.Random, seed: bytes) -> bytes:
    body = seed.split(b"?>", 1)[1] if seed.startswith(b"<?xml") else seed
    document = rng.choice(_PROLOGS) + rng.choice(_DOCTYPES) + _inject(body, rng.choice((b"&lol3;", b"&xxe;", b"")))
    if rng.random() < 0.25:
        return document.decode("utf-8", "replace").encode(rng.choice(("utf-16", "utf-16-le", "utf-32")))
    return document


def _nesting(rng: random.Random, seed: bytes) -> bytes:
    depth = rng.choice((100, 200, 255, 256, 257, 1000, 100_000))
    return _inject(seed, b"<a>" * depth + b"</a>" * depth * (rng.random() < 0.9))


def _huge_name(rng: random.Random, seed: bytes) -> bytes:
    name = b"n" * rng.choice((1000, 50_000, 49_999, 500_000))
    return _inject(seed, b"<" + name + b"/>")


def _huge_attribute(rng: random.Random, seed: bytes) -> bytes:
    size = rng.choice((70_000, 1_000_000, 9_999_000, 10_000_001, 30_000_000))
    return _inject(seed, b'<a v="' + b"v" * size + b'"/>')


def _many_attributes(rng: random.Random, seed: bytes) -> bytes:
    count = rng.choice((1000, 100_000, 499_000, 600_000))
    return _inject(seed, b"<a " + b" ".join(b'a%d=""' % index for index in range(count)) + b"/>")


def _huge_text(rng: random.Random, seed: bytes) -> bytes:
    size = rng.choice((1_000_000, 9_999_000, 10_000_001, 31_000_000))
    return _inject(seed, b"<t>" + b"t" * size + b"</t>")


def _many_elements(rng: random.Random, seed: bytes) -> bytes:
    count = rng.choice((10_000, 499_000, 500_001, 2_000_000, 8_000_000))
    return _inject(seed, b"<e/>" * count)


def _encoding(rng: random.Random, seed: bytes) -> bytes:
    text = seed.decode("utf-8", "replace")
    choice = rng.randrange(7)
    if choice == 0:
        return text.encode(rng.choice(("utf-16", "utf-16-le", "utf-16-be", "utf-32")))
    if choice == 1:
        return b"<?xml version='1.0' encoding='UTF-16'?>" + seed
    if choice == 2:
        return (
            b"<?xml version='1.0' encoding='"
            + rng.choice((b"x-unknown", b"cp037", b"ISO-2022-JP", b""))
            + b"'?>"
            + seed
        )
    if choice == 3:
        return text.encode("latin-1", "replace").replace(b"?", b"\xe9")
    if choice == 4:
        return _inject(seed, rng.choice((b"\xc0\xaf", b"\xed\xa0\x80", b"\xff", b"\xf8\x88\x80\x80\x80")))
    if choice == 5:
        return b"\xfe\xff" + seed
    return _inject(seed, b"\x00\x01\x1b")


def _namespaces(rng: random.Random, seed: bytes) -> bytes:
    count = rng.choice((100, 10_000, 200_000))
    declarations = b" ".join(b'xmlns:p%d="urn:p%d"' % (index, index) for index in range(count))
    return _inject(seed, b"<a " + declarations + b"><p0:b q:c=''/></a>")


def _markup(rng: random.Random, seed: bytes) -> bytes:
    piece = rng.choice((b"<!---->", b"<?p?>", b"<![CDATA[<<<&&&]]>", b"&#60;&amp;"))
    return _inject(seed, piece * rng.choice((1000, 100_000, 600_000)))


def _character_reference_flood(rng: random.Random, seed: bytes) -> bytes:
    reference = rng.choice((b"&#0;", b"&#xD800;", b"&#x10FFFF;", b"&#99999999999;", b"&#x41;", b"&lt;"))
    return _inject(seed, b"<t>" + reference * rng.choice((1, 1000, 1_000_000)) + b"</t>")


XML_FAMILIES: Final[dict[str, Family]] = {
    "doctype-entities": _doctype,
    "nesting": _nesting,
    "huge-name": _huge_name,
    "huge-attribute": _huge_attribute,
    "many-attributes": _many_attributes,
    "huge-text": _huge_text,
    "many-elements": _many_elements,
    "encoding": _encoding,
    "namespaces": _namespaces,
    "markup-flood": _markup,
    "character-references": _character_reference_flood,
}

# --- MIME payload families ------------------------------------------------------------------------------

_BOUNDARY: Final = b"MIMEBoundary_fuzz"
_CLOSE: Final = b"--" + _BOUNDARY + b"--"


def _before_close(seed: bytes, extra: bytes) -> bytes:
    index = seed.rfind(b"\r\n" + _CLOSE)
    return seed[:index] + extra + seed[index:] if index >= 0 else seed + extra


def _part(content_id: bytes, body: bytes, headers: bytes = b"") -> bytes:
    return b"\r\n--" + _BOUNDARY + b"\r\nContent-ID: <" + content_id + b">\r\n" + headers + b"\r\n" + body


def _truncated(rng: random.Random, seed: bytes) -> bytes:
    return seed[: rng.randrange(len(seed))]


def _no_close(rng: random.Random, seed: bytes) -> bytes:
    return seed.replace(_CLOSE, rng.choice((b"", b"--" + _BOUNDARY, b"--" + _BOUNDARY + b"-")))


def _part_flood(rng: random.Random, seed: bytes) -> bytes:
    count = rng.choice((998, 999, 1000, 5000, 100_000))
    body = rng.choice((b"", b"x"))
    return _before_close(seed, b"".join(_part(b"p%d@fuzz" % index, body) for index in range(count)))


def _huge_headers(rng: random.Random, seed: bytes) -> bytes:
    header = rng.choice((b"X-A: " + b"a" * 70_000 + b"\r\n", b"X-F: a\r\n" + b" folded\r\n" * 20_000))
    return _before_close(seed, _part(b"h@fuzz", b"x", header))


def _huge_preamble(rng: random.Random, seed: bytes) -> bytes:
    return b"preamble " * rng.choice((100, 8000, 100_000)) + b"\r\n" + seed


def _boundary_games(rng: random.Random, seed: bytes) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return seed.replace(_BOUNDARY, b"OtherBoundary")  # adopted with a warning
    if choice == 1:
        return seed.replace(
            b"--" + _BOUNDARY + b"\r\n", b"--" + _BOUNDARY + b" " * rng.choice((10, 1023, 1024, 5000)) + b"\r\n"
        )
    if choice == 2:
        return _before_close(seed, b"\r\n--" + _BOUNDARY + b"X not a delimiter\r\n" * 1000)
    return seed.replace(b"\r\n", b"\n")


def _transfer_encodings(rng: random.Random, seed: bytes) -> bytes:
    encoding = rng.choice((b"base64", b"quoted-printable", b"x-unknown", b"BASE64 "))
    body = rng.choice((b"!!!not base64!!!", b"QUJD\r\nREVG=\r\n=", b"=" * 70_000, b"a" * 70_000, b"=4"))
    return _before_close(seed, _part(b"t@fuzz", body, b"Content-Transfer-Encoding: " + encoding + b"\r\n"))


def _header_garbage(rng: random.Random, seed: bytes) -> bytes:
    header = rng.choice((b"no colon here\r\n", b"\x00: \x00\r\n", b": empty name\r\n", b"Content-ID: <p0@fuzz>\r\n"))
    return _before_close(seed, _part(b"g@fuzz", b"x", header))


MIME_FAMILIES: Final[dict[str, Family]] = {
    "truncated": _truncated,
    "no-close-delimiter": _no_close,
    "part-flood": _part_flood,
    "huge-part-headers": _huge_headers,
    "huge-preamble": _huge_preamble,
    "boundary-games": _boundary_games,
    "transfer-encodings": _transfer_encodings,
    "header-garbage": _header_garbage,
}


def content_type_mutation(rng: random.Random, content_type: str) -> str:
    """A hostile MTOM Content-Type: missing, empty, odd or huge boundary, odd start, another media type."""
    choice = rng.randrange(7)
    if choice == 0:
        return content_type.replace('boundary="MIMEBoundary_fuzz"', "")
    if choice == 1:
        return content_type.replace("MIMEBoundary_fuzz", rng.choice(("", "é", "b" * 10_000, '"', "\\")))
    if choice == 2:
        return content_type.replace("<root@fuzz>", rng.choice(("", "<>", "<nobody@fuzz>", "%", "<" * 1000)))
    if choice == 3:
        return rng.choice(("", "text/plain", "multipart/", "application/soap+xml", ";;;;", "multipart/related;"))
    if choice == 4:
        return content_type + "; x=" * rng.choice((1, 10_000))
    if choice == 5:
        return content_type.upper()
    return content_type.replace('"', "")
