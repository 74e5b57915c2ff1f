"""MTOM/XOP codec (reference §1.5): round trips, streaming, spooling, tolerance of real peers, malformed input."""

from __future__ import annotations

import base64
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from dmpclient._xml import NS, parse_untrusted, qname, serialize
from dmpclient.errors import DmpProtocolError, DmpValidationError
from dmpclient.soap.mtom import (
    DEFAULT_MAX_PARTS,
    MtomDecoded,
    MtomDecoder,
    MtomMessage,
    OutgoingPart,
    decode,
    encode,
    inline_xop,
    is_multipart,
    new_content_id,
    xop_href,
    xop_include,
)

ACTION = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
BOUNDARY = "MIMEBoundary_0123456789abcdef0123456789abcdef"
DELIMITER = b"--" + BOUNDARY.encode()
XDS_CID = "8ba22b9e-fcff-49d8-945e-438a11f25b0f-1@urn:ihe:iti:xds-b:2007"

#: Byte runs that look like MIME framing, to be mixed into random payloads.
TRICKY = [
    b"\r\n--",
    b"--MIMEBoundary_",
    b"\r\n--" + BOUNDARY[:-1].encode(),
    b"\n--" + BOUNDARY[:20].encode(),
    b"\r\n\r\n",
    b"\n\n",
    b"\r",
    b"\n",
    b"--",
    b"Content-Type: text/plain\r\n\r\n",
]
payloads = st.lists(st.one_of(st.binary(max_size=48), st.sampled_from(TRICKY)), max_size=10).map(b"".join)


def cid(index: int) -> str:
    return f"doc{index}-{index}@urn:ihe:iti:xds-b:2007"


def build(root: bytes, datas: Sequence[bytes], *, boundary: str | None = BOUNDARY) -> MtomMessage:
    parts = [OutgoingPart(cid(i), data) for i, data in enumerate(datas)]
    return encode(root, parts, action=ACTION, boundary=boundary, root_content_id="root.message@dmpclient")


def contents(decoded: MtomDecoded) -> dict[str, bytes]:
    return {key: attachment.read_bytes() for key, attachment in decoded.attachments.items()}


def split(raw: bytes, sizes: Sequence[int]) -> Iterator[bytes]:
    position, turn = 0, 0
    while position < len(raw):
        size = sizes[turn % len(sizes)]
        yield raw[position : position + size]
        position, turn = position + size, turn + 1


def feed_all(decoder: MtomDecoder, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        decoder.feed(chunk)


def multipart(
    parts: Sequence[tuple[str, bytes]], *, boundary: str = "b1", newline: bytes = b"\r\n", close: bool = True
) -> bytes:
    """A hand-made multipart body: each part is (header lines joined by '|', body)."""
    out = b""
    for headers, body in parts:
        lines = [line.encode() for line in headers.split("|") if line]
        out += b"--" + boundary.encode() + newline + b"".join(line + newline for line in lines) + newline
        out += body + newline
    return out + (b"--" + boundary.encode() + b"--" + newline if close else b"")


CT = 'multipart/related; type="application/xop+xml"; boundary="b1"; start="<root@x>"'
ROOT_HEADERS = "Content-Type: application/xop+xml; type=application/soap+xml|Content-ID: <root@x>"


# --- round trips --------------------------------------------------------------------------------


@given(root=payloads, datas=st.lists(payloads, max_size=6), random_boundary=st.booleans())
def test_round_trip_of_random_binary_parts(root: bytes, datas: list[bytes], random_boundary: bool) -> None:
    if not random_boundary and any(DELIMITER in data for data in [root, *datas]):
        with pytest.raises(DmpValidationError, match="occurs in a payload"):
            build(root, datas)
        return
    message = build(root, datas, boundary=None if random_boundary else BOUNDARY)
    with decode(message.content_type, message.to_bytes()) as decoded:
        assert decoded.root_xml == root
        assert contents(decoded) == {cid(i): data for i, data in enumerate(datas)}
        assert decoded.warnings == ()
        assert decoded.root_content_type == 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'


@settings(max_examples=60)
@given(
    root=payloads,
    datas=st.lists(payloads, max_size=5),
    sizes=st.lists(st.integers(1, 90), min_size=1, max_size=12),
    threshold=st.sampled_from([8, 1 << 20]),
)
def test_feeding_in_random_chunks_gives_the_same_result(
    root: bytes, datas: list[bytes], sizes: list[int], threshold: int
) -> None:
    assume(all(DELIMITER not in data for data in [root, *datas]))
    message = build(root, datas)
    decoder = MtomDecoder(message.content_type, spool_threshold=threshold)
    feed_all(decoder, split(message.to_bytes(), sizes))
    with decoder.close() as decoded:
        assert decoded.root_xml == root
        assert contents(decoded) == {cid(i): data for i, data in enumerate(datas)}
        for attachment in decoded.attachments.values():
            assert (attachment.path is not None) == (attachment.size > threshold)


@given(
    datas=st.lists(payloads.map(lambda data: data.rstrip(b"\r")), min_size=1, max_size=4),
    preamble=st.sampled_from([b"", b"This is a MIME message.\n", b"preamble\r\n\r\n"]),
    epilogue=st.sampled_from([b"", b"trailing text", b"\n--" + BOUNDARY.encode() + b"\nmore"]),
)
def test_lf_only_bodies_with_preamble_and_epilogue(datas: list[bytes], preamble: bytes, epilogue: bytes) -> None:
    assume(all(DELIMITER not in data for data in datas))
    parts = [(ROOT_HEADERS, b"<e/>")] + [(f"Content-ID: <{cid(i)}>", data) for i, data in enumerate(datas)]
    body = preamble + multipart(parts, boundary=BOUNDARY, newline=b"\n") + epilogue
    with decode(f'multipart/related; boundary="{BOUNDARY}"; start="<root@x>"', body) as decoded:
        assert decoded.root_xml == b"<e/>"
        assert contents(decoded) == {cid(i): data for i, data in enumerate(datas)}


def test_empty_and_boundary_like_payloads_survive() -> None:
    datas = [b"", b"\r\n", b"\r\n--" + BOUNDARY[:-1].encode() + b"\r\n", b"--" + BOUNDARY.encode()[:-3]]
    message = build(b"<e/>", datas)
    with decode(message.content_type, message.to_bytes()) as decoded:
        assert contents(decoded) == {cid(i): data for i, data in enumerate(datas)}


def test_many_parts() -> None:
    datas = [bytes([i % 256]) * i for i in range(300)]
    message = build(b"<e/>", datas, boundary=None)
    with decode(message.content_type, message.iter_bytes(chunk_size=777)) as decoded:
        assert contents(decoded) == {cid(i): data for i, data in enumerate(datas)}


# --- encoder ------------------------------------------------------------------------------------


def test_content_type_has_exactly_the_reference_parameters() -> None:
    message = build(b"<e/>", [b"x"])
    assert message.content_type == (
        f'multipart/related; boundary="{BOUNDARY}"; type="application/xop+xml"; start="<root.message@dmpclient>"; '
        f'start-info="application/soap+xml"; action="{ACTION}"'
    )


def test_default_boundary_and_root_content_id_are_random() -> None:
    first = encode(b"<e/>", [], action=ACTION)
    second = encode(b"<e/>", [], action=ACTION)
    assert re.fullmatch(r"MIMEBoundary_[0-9a-f]{32}", first.boundary)
    assert first.boundary != second.boundary
    assert first.root_content_id != second.root_content_id
    assert f'start="<{first.root_content_id}>"' in first.content_type


def test_parts_are_raw_binary_with_the_reference_headers() -> None:
    payload = bytes(range(256)) * 4
    body = build(b"<e/>", [payload]).to_bytes()
    assert payload in body
    assert body.startswith(
        f'--{BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        "Content-Transfer-Encoding: binary\r\nContent-ID: <root.message@dmpclient>\r\n\r\n<e/>\r\n".encode()
    )
    part_head = (
        f"--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{cid(0)}>\r\n\r\n"
    ).encode()
    assert part_head + payload + f"\r\n--{BOUNDARY}--\r\n".encode() in body
    assert b"base64" not in body


@pytest.mark.parametrize("chunk_size", [1, 100, 4096, 65536])
def test_lengths_agree_and_chunks_are_bounded(chunk_size: int) -> None:
    message = build(b"<e/>" * 50, [b"a" * 70000, b"", b"b" * 10])
    chunks = list(message.iter_bytes(chunk_size=chunk_size))
    assert all(0 < len(chunk) <= chunk_size for chunk in chunks)
    assert message.content_length() == len(message.to_bytes()) == sum(map(len, chunks))
    assert b"".join(chunks) == message.to_bytes()


def test_file_parts_are_streamed_from_disk(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1200  # 300 KiB, several chunks
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    from_file = encode(
        b"<e/>",
        [OutgoingPart(cid(0), path, "application/pdf")],
        action=ACTION,
        boundary=BOUNDARY,
        root_content_id="r@x",
    )
    in_memory = encode(
        b"<e/>",
        [OutgoingPart(cid(0), data, "application/pdf")],
        action=ACTION,
        boundary=BOUNDARY,
        root_content_id="r@x",
    )
    chunks = list(from_file.iter_bytes(chunk_size=65536))
    assert len(chunks) > 4
    assert b"".join(chunks) == in_memory.to_bytes()
    assert from_file.content_length() == in_memory.content_length()
    with decode(from_file.content_type, iter(chunks)) as decoded:
        assert decoded.attachments[cid(0)].read_bytes() == data
        assert decoded.attachments[cid(0)].content_type == "application/pdf"


def test_file_changing_size_after_encoding_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "doc.bin"
    path.write_bytes(b"12345")
    message = encode(b"<e/>", [OutgoingPart(cid(0), path)], action=ACTION)
    path.write_bytes(b"123456")
    with pytest.raises(DmpValidationError, match="changed size"):
        message.to_bytes()
    path.write_bytes(b"1234")
    with pytest.raises(DmpValidationError, match="changed size"):
        message.to_bytes()


def test_missing_file_is_refused_at_encoding(tmp_path: Path) -> None:
    with pytest.raises(DmpValidationError, match="cannot be read"):
        encode(b"<e/>", [OutgoingPart(cid(0), tmp_path / "absent")], action=ACTION)


async def test_aiter_bytes_yields_the_same_chunks() -> None:
    message = build(b"<e/>", [b"x" * 100000])
    chunks = [chunk async for chunk in message.aiter_bytes(chunk_size=30000)]
    assert chunks == list(message.iter_bytes(chunk_size=30000))


@pytest.mark.parametrize("bad", ["", "a b@x", "<a@x>", 'a"@x', "a\r\n@x", "é@x"])
def test_invalid_content_ids_are_refused(bad: str) -> None:
    with pytest.raises(DmpValidationError) as info:
        OutgoingPart(bad, b"")
    assert info.value.field == "content_id"


def test_encoder_validates_its_inputs() -> None:
    with pytest.raises(DmpValidationError, match="unique"):
        encode(b"<e/>", [OutgoingPart("a@x", b""), OutgoingPart("a@x", b"")], action=ACTION)
    with pytest.raises(DmpValidationError, match="unique"):
        encode(b"<e/>", [OutgoingPart("a@x", b"")], action=ACTION, root_content_id="a@x")
    with pytest.raises(DmpValidationError) as info:
        encode(b"<e/>", [], action='urn:a" x="y')
    assert info.value.field == "action"
    with pytest.raises(DmpValidationError, match="occurs in a payload"):
        encode(b"<e/>", [OutgoingPart("a@x", b"x\r\n--" + BOUNDARY.encode())], action=ACTION, boundary=BOUNDARY)
    with pytest.raises(DmpValidationError, match="RFC 2046"):
        encode(b"<e/>", [], action=ACTION, boundary="bad\nboundary")
    with pytest.raises(DmpValidationError, match="Content-Type"):
        OutgoingPart("a@x", b"", "text/plain\r\nX-Injected: 1")


def test_new_content_ids_are_unique_and_usable() -> None:
    ids = {new_content_id() for _ in range(100)}
    assert len(ids) == 100
    for content_id in ids:
        OutgoingPart(content_id, b"")


def test_xop_href_percent_encodes_like_cxf() -> None:
    assert xop_href(XDS_CID) == "cid:8ba22b9e-fcff-49d8-945e-438a11f25b0f-1@urn%3Aihe%3Aiti%3Axds-b%3A2007"
    assert xop_href("72f7c587-1@apache.org") == "cid:72f7c587-1@apache.org"
    assert xop_href("a/b%c@x") == "cid:a%2Fb%25c@x"


# --- decoder: lookups, spooling, tolerance -------------------------------------------------------


def test_attachment_for_href_accepts_every_spelling() -> None:
    message = build(b"<e/>", [b"payload"])
    with decode(message.content_type, message.to_bytes()) as decoded:
        for href in (xop_href(cid(0)), "cid:" + cid(0), cid(0), " CID:" + cid(0) + " "):
            assert decoded.attachment_for_href(href).read_bytes() == b"payload"
        with pytest.raises(DmpProtocolError, match="absent@x"):
            decoded.attachment_for_href("cid:absent@x")


def test_large_part_is_spooled_to_disk_and_deleted_on_close() -> None:
    data = bytes(range(256)) * 400
    message = build(b"<e/>", [data, b"small"])
    decoded = decode(message.content_type, message.to_bytes(), spool_threshold=4096)
    big, small = decoded.attachments[cid(0)], decoded.attachments[cid(1)]
    assert big.path is not None
    assert big.path.is_file()
    assert big.size == len(data) == big.path.stat().st_size
    assert big.read_bytes() == data
    with big.open() as stream:
        assert stream.read() == data
    assert small.path is None
    assert small.open().read() == b"small"
    path = big.path
    decoded.close()
    assert not path.exists()
    with pytest.raises(ValueError, match="closed"):
        big.read_bytes()


def test_spooled_root_part_is_read_back_into_memory() -> None:
    root = b"<e>" + b"x" * 10000 + b"</e>"
    message = build(root, [])
    with decode(message.content_type, message.to_bytes(), spool_threshold=100) as decoded:
        assert decoded.root_xml == root


def test_base64_and_quoted_printable_parts_are_decoded() -> None:
    data = bytes(range(256)) * 3
    encoded = base64.encodebytes(data)  # 76-column lines
    qp = b"caf=C3=A9 au lait=\r\nsoft break\r\nline two"
    body = multipart(
        [
            (ROOT_HEADERS + "|Content-Transfer-Encoding: 8bit", b"<e/>"),
            ("Content-ID: <b64@x>|Content-Transfer-Encoding: BASE64", encoded),
            ("Content-ID: <qp@x>|Content-Transfer-Encoding: quoted-printable", qp),
        ]
    )
    decoder = MtomDecoder(CT)
    feed_all(decoder, split(body, [5, 3, 11]))
    with decoder.close() as decoded:
        assert contents(decoded) == {"b64@x": data, "qp@x": "café au laitsoft break\r\nline two".encode()}


def test_start_naming_no_part_falls_back_to_the_first_part() -> None:
    body = multipart([("Content-ID: <first@x>", b"<root/>"), ("Content-ID: <att@x>", b"data")])
    content_type = 'multipart/related; boundary=b1; start="<missing@x>"'
    with decode(content_type, body) as decoded:
        assert decoded.root_xml == b"<root/>"
        assert list(decoded.attachments) == ["att@x"]
        assert any("missing@x" in warning for warning in decoded.warnings)


def test_start_may_name_a_later_part() -> None:
    body = multipart([("Content-ID: <att@x>", b"data"), ("Content-ID: <root@x>", b"<root/>")])
    with decode(CT, body) as decoded:
        assert decoded.root_xml == b"<root/>"
        assert contents(decoded) == {"att@x": b"data"}
        assert decoded.warnings == ()


def test_a_boundary_that_does_not_match_the_body_is_detected() -> None:
    body = multipart([(ROOT_HEADERS, b"<e/>"), ("Content-ID: <a@x>", b"data")], boundary="uuid:actual")
    with decode('multipart/related; boundary="MIMEBoundary_declared"; start="<root@x>"', body) as decoded:
        assert decoded.root_xml == b"<e/>"
        assert contents(decoded) == {"a@x": b"data"}
        assert any("MIMEBoundary_declared" in w and "uuid:actual" in w for w in decoded.warnings)


def test_single_part_message_has_no_attachments() -> None:
    with decode(CT, multipart([(ROOT_HEADERS, b"<e/>")], newline=b"\n")) as decoded:
        assert decoded.root_xml == b"<e/>"
        assert decoded.attachments == {}


def test_header_folding_padding_and_boundary_lookalikes() -> None:
    body = (
        b"--b1 \t\r\nContent-Type: application/xop+xml;\r\n type=application/soap+xml\r\nContent-ID: <root@x>\r\n\r\n"
        b"<e/>\r\n--b1\r\nContent-ID: <a@x>\r\n\r\nbefore\r\n--b1X not a delimiter\r\n--b1-\r\nafter\r\n--b1--"
    )
    with decode(CT, body) as decoded:
        assert decoded.root_content_type == "application/xop+xml; type=application/soap+xml"
        assert contents(decoded) == {"a@x": b"before\r\n--b1X not a delimiter\r\n--b1-\r\nafter"}


def test_parts_without_content_id_are_ignored_with_a_warning() -> None:
    body = multipart([(ROOT_HEADERS, b"<e/>"), ("", b"anonymous"), ("Content-ID: <a@x>", b"data")])
    with decode(CT, body) as decoded:
        assert contents(decoded) == {"a@x": b"data"}
        assert any("without Content-ID" in warning for warning in decoded.warnings)


def test_decode_accepts_a_binary_file(tmp_path: Path) -> None:
    message = build(b"<e/>", [b"z" * 200000])
    path = tmp_path / "body"
    path.write_bytes(message.to_bytes())
    with path.open("rb") as stream, decode(message.content_type, stream) as decoded:
        assert decoded.attachments[cid(0)].size == 200000


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ('multipart/related; type="application/xop+xml"; boundary="x"', True),
        ("Multipart/Related;boundary=x", True),
        ("application/soap+xml; charset=utf-8", False),
        ("", False),
        (None, False),
    ],
)
def test_is_multipart(content_type: str | None, expected: bool) -> None:
    assert is_multipart(content_type) is expected


# --- decoder: malformed input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("application/soap+xml", "expected a multipart/related"),
        (None, "expected a multipart/related"),
        ('multipart/related; type="application/xop+xml"', "no usable"),
        ('multipart/related; boundary=""', "no usable"),
    ],
)
def test_unusable_content_types(content_type: str | None, message: str) -> None:
    with pytest.raises(DmpProtocolError, match=message):
        decode(content_type, b"--b1\r\n\r\nx\r\n--b1--")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"no delimiter in this body at all", "before any delimiter"),
        (b"--b1\r\nContent-ID: <root@x>\r\n\r\n<e/>\r\n--b1\r\nContent-ID: <a@x>\r\n\r\ndata", "truncated"),
        (b"--b1\r\nContent-ID: <root@x>\r\n", "inside part headers"),
        (b"--b1\r\nContent-ID: <root@x>\r\n<e/>\r\n--b1\r\nContent-ID: <a@x>\r\n\r\nx\r\n--b1--", "malformed header"),
        (b"--b1--\r\n", "no parts"),
        (b"--b1\r\nContent-Transfer-Encoding: x-gzip\r\n\r\nx\r\n--b1--", "unsupported Content-Transfer-Encoding"),
        (b"--b1\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@\r\n--b1--", "not valid base64"),
        (b"--b1\r\nContent-Transfer-Encoding: base64\r\n\r\nYWJjZ\r\n--b1--", "not valid base64"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(DmpProtocolError, match=message):
        decode(CT, body)


def test_truncated_encoder_output_is_detected_at_every_cut() -> None:
    raw = build(b"<e/>", [b"abc", b"defgh"]).to_bytes()
    content_type = build(b"", []).content_type
    for cut in range(len(raw) - len(b"--\r\n") - 1):
        with pytest.raises(DmpProtocolError):
            decode(content_type, raw[:cut])


def test_duplicate_content_ids_are_refused() -> None:
    body = multipart([(ROOT_HEADERS, b"<e/>"), ("Content-ID: <a@x>", b"1"), ("Content-ID: <a@x>", b"2")])
    with pytest.raises(DmpProtocolError, match="same Content-ID"):
        decode(CT, body)


def test_root_part_too_large_is_refused_while_streaming() -> None:
    message = build(b"<e>" + b"x" * 5000 + b"</e>", [])
    decoder = MtomDecoder(message.content_type, max_root_bytes=1000)
    chunks = list(message.iter_bytes(chunk_size=500))
    with pytest.raises(DmpProtocolError, match="max_root_bytes"):
        feed_all(decoder, chunks[:4])  # long before the end of the body


def test_fallback_root_too_large_is_refused_at_close() -> None:
    body = multipart([("Content-ID: <first@x>", b"x" * 5000)])
    with pytest.raises(DmpProtocolError, match="max_root_bytes"):
        decode('multipart/related; boundary=b1; start="<missing@x>"', body, max_root_bytes=1000)


def test_total_size_limit() -> None:
    message = build(b"<e/>", [b"x" * 5000])
    with pytest.raises(DmpProtocolError, match="max_total_bytes"):
        decode(message.content_type, message.iter_bytes(chunk_size=100), max_total_bytes=4000)


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        (b"a" * 100_000, "no multipart delimiter"),
        (b"--b1\r\nX-Long: " + b"a" * 100_000, "headers exceed"),
        (b"--" + b"a" * 100_000, "delimiter line exceeds"),
    ],
)
def test_unbounded_framing_is_refused_early(prefix: bytes, message: str) -> None:
    decoder = MtomDecoder(CT)
    with pytest.raises(DmpProtocolError, match=message):
        feed_all(decoder, split(prefix, [4096]))


def test_feed_after_close_is_a_usage_error() -> None:
    message = build(b"<e/>", [])
    decoder = MtomDecoder(message.content_type)
    decoder.feed(message.to_bytes())
    decoder.close()
    with pytest.raises(ValueError, match="after close"):
        decoder.feed(b"x")
    with pytest.raises(ValueError, match="twice"):
        decoder.close()


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary files of the decoder land here, so tests can see them."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_abort_deletes_spooled_files(temp_dir: Path) -> None:
    message = build(b"<e/>", [b"a" * 10000, b"b" * 10000])
    raw = message.to_bytes()
    decoder = MtomDecoder(message.content_type, spool_threshold=1000)
    decoder.feed(raw[: len(raw) - 5000])
    assert len(list(temp_dir.iterdir())) == 2
    decoder.abort()
    assert list(temp_dir.iterdir()) == []


def test_errors_delete_spooled_files(temp_dir: Path) -> None:
    message = build(b"<e/>", [b"a" * 10000, b"b" * 10000])
    raw = message.to_bytes()
    with pytest.raises(DmpProtocolError, match="truncated"):
        decode(message.content_type, raw[:-100], spool_threshold=1000)
    assert list(temp_dir.iterdir()) == []


# --- XOP ----------------------------------------------------------------------------------------


def envelope_with_document(content_id: str) -> bytes:
    envelope = etree.Element(qname("soap", "Envelope"), nsmap={"soap": NS["soap"], "xdsb": NS["xdsb"]})
    body = etree.SubElement(envelope, qname("soap", "Body"))
    document = etree.SubElement(body, qname("xdsb", "Document"), id="Document01")
    document.append(xop_include(content_id))
    return serialize(envelope)


def test_xop_include_element() -> None:
    include = xop_include(XDS_CID)
    assert include.tag == "{http://www.w3.org/2004/08/xop/include}Include"
    assert include.get("href") == xop_href(XDS_CID)


def test_inline_xop_puts_base64_in_place_of_each_include() -> None:
    data = bytes(range(256)) * 10
    message = encode(envelope_with_document(XDS_CID), [OutgoingPart(XDS_CID, data)], action=ACTION)
    with decode(message.content_type, message.to_bytes()) as decoded:
        root = parse_untrusted(decoded.root_xml)
        inline_xop(root, decoded)
    document = root.find(".//xdsb:Document", NS)
    assert document is not None
    assert document.find("xop:Include", NS) is None
    assert base64.b64decode(document.text or "") == data


def test_inline_xop_keeps_surrounding_text_and_reports_missing_parts() -> None:
    root = etree.fromstring(
        b'<d xmlns:xop="http://www.w3.org/2004/08/xop/include"> <a/> <xop:Include href="cid:p@x"/> </d>'
    )
    decoded = MtomDecoded(b"", "application/xop+xml", {})
    with pytest.raises(DmpProtocolError, match="p@x"):
        inline_xop(root, decoded)
    message = encode(b"<e/>", [OutgoingPart("p@x", b"\x00\x01")], action=ACTION)
    with decode(message.content_type, message.to_bytes()) as decoded:
        inline_xop(root, decoded)
    assert etree.tostring(root) == b'<d xmlns:xop="http://www.w3.org/2004/08/xop/include"> <a/> AAE= </d>'


# --- hardening: part floods, one large chunk, lines split anywhere --------------------------------


def _tiny_parts(count: int, newline: bytes) -> bytes:
    parts = [(ROOT_HEADERS, b"<e/>")] + [(f"Content-ID: <{cid(i)}>", b"x") for i in range(count)]
    return multipart(parts, boundary="b1", newline=newline)


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
def test_a_flood_of_tiny_parts_in_one_chunk_is_read_up_to_max_parts(newline: bytes) -> None:
    """The root and 999 attachments fit the default bound; one more part is refused."""
    body = _tiny_parts(DEFAULT_MAX_PARTS - 1, newline)
    decoder = MtomDecoder(CT)
    decoder.feed(body)
    with decoder.close() as decoded:
        assert len(decoded.attachments) == DEFAULT_MAX_PARTS - 1
    with pytest.raises(DmpProtocolError, match=f"more than {DEFAULT_MAX_PARTS} parts"):
        decode(CT, _tiny_parts(DEFAULT_MAX_PARTS, newline))


def test_max_parts_is_configurable() -> None:
    with decode(CT, _tiny_parts(2, b"\r\n"), max_parts=3) as decoded:
        assert len(decoded.attachments) == 2
    with pytest.raises(DmpProtocolError, match="more than 2 parts"):
        decode(CT, _tiny_parts(2, b"\r\n"), max_parts=2)


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
def test_byte_by_byte_feeding_splits_every_line_break(newline: bytes) -> None:
    body = _tiny_parts(5, newline).replace(b"--b1" + newline, b"--b1 \t" + newline)  # transport padding too
    decoder = MtomDecoder(CT)
    feed_all(decoder, (body[i : i + 1] for i in range(len(body))))
    with decoder.close() as decoded:
        assert contents(decoded) == {cid(i): b"x" for i in range(5)}


@settings(max_examples=40)
@given(
    datas=st.lists(payloads.map(lambda data: data.replace(b"\r", b"")), min_size=1, max_size=4),
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=12),
)
def test_lf_only_bodies_in_random_chunks(datas: list[bytes], sizes: list[int]) -> None:
    assume(all(DELIMITER not in data for data in datas))
    parts = [(ROOT_HEADERS, b"<e/>")] + [(f"Content-ID: <{cid(i)}>", data) for i, data in enumerate(datas)]
    body = multipart(parts, boundary=BOUNDARY, newline=b"\n")
    decoder = MtomDecoder(f'multipart/related; boundary="{BOUNDARY}"; start="<root@x>"')
    feed_all(decoder, split(body, sizes))
    with decoder.close() as decoded:
        assert contents(decoded) == {cid(i): data for i, data in enumerate(datas)}


def test_padding_longer_than_its_bound_is_not_a_delimiter() -> None:
    body = (
        b"--b1\r\nContent-ID: <root@x>\r\n\r\n<e/>\r\n--b1\r\nContent-ID: <a@x>\r\n\r\n"
        b"data\r\n--b1" + b" " * 2000 + b"\r\nmore\r\n--b1--"
    )
    with decode(CT, body) as decoded:
        assert contents(decoded) == {"a@x": b"data\r\n--b1" + b" " * 2000 + b"\r\nmore"}
