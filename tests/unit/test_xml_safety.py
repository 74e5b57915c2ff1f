"""The hardened parser refuses hostile XML and never opens a file or a URL named by the document.

Two oracles prove "nothing fetched": a local HTTP server that records every request, and a named pipe
whose reader side is watched (opening a FIFO for reading blocks until a writer comes, so a watcher
thread sees any open and lets it through with an empty stream).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lxml import etree

from dmpclient._xml import DEFAULT_MAX_XML_BYTES, NS, parse_untrusted
from dmpclient.errors import DmpProtocolError, DmpUnsafeXmlError
from dmpclient.soap.envelope import read_soap
from dmpclient.xds.submission import document_digest

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


@dataclass
class Traps:
    """Where a hostile document may point, and what reached those places."""

    url: str
    fifo: Path
    http_hits: list[str] = field(default_factory=list)
    fifo_opens: list[bool] = field(default_factory=list)

    @property
    def file_url(self) -> str:
        return self.fifo.as_uri()

    def untouched(self) -> bool:
        return not self.http_hits and not self.fifo_opens


def _watch_fifo(path: Path, opens: list[bool], done: threading.Event) -> None:
    while not done.is_set():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: nobody has the pipe open for reading
            time.sleep(0.002)
            continue
        opens.append(True)
        os.close(fd)


@pytest.fixture
def traps(tmp_path: Path) -> Iterator[Traps]:
    hits: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY leak "fetched">')

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    fifo = tmp_path / "secret.pipe"
    os.mkfifo(fifo)
    result = Traps(url=f"http://127.0.0.1:{server.server_port}", fifo=fifo, http_hits=hits)
    done = threading.Event()
    threads = [
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True),
        threading.Thread(target=_watch_fifo, args=(fifo, result.fifo_opens, done), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield result
    finally:
        done.set()
        server.shutdown()
        server.server_close()
        for thread in threads:
            thread.join()


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]><lolz>&lol9;</lolz>"
)

HOSTILE: dict[str, Callable[[Traps], str]] = {
    "billion laughs": lambda t: LAUGHS,
    "quadratic blowup": lambda t: f'<!DOCTYPE r [<!ENTITY a "{"x" * 10_000}">]><r>{"&a;" * 1_000}</r>',
    "xxe file": lambda t: f'<!DOCTYPE r [<!ENTITY s SYSTEM "{t.file_url}">]><r>&s;</r>',
    "xxe http": lambda t: f'<!DOCTYPE r [<!ENTITY s SYSTEM "{t.url}/xxe">]><r>&s;</r>',
    "external dtd file": lambda t: f'<!DOCTYPE r SYSTEM "{t.file_url}"><r/>',
    "external dtd http": lambda t: f'<!DOCTYPE r PUBLIC "-//X//DTD X//EN" "{t.url}/x.dtd"><r/>',
    "parameter entity file": lambda t: f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{t.file_url}"> %p;]><r/>',
    "parameter entity http": lambda t: f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{t.url}/p.dtd"> %p;]><r>&leak;</r>',
    "doctype after comment, pi and bom": lambda t: (
        f'\ufeff<?xml version="1.0"?>\n<!-- x --><?p?>\n<!DOCTYPE r SYSTEM "{t.url}/d"><r/>'
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_documents_are_refused_without_fetching(traps: Traps, name: str) -> None:
    with pytest.raises(DmpUnsafeXmlError, match="declares a DTD"):
        parse_untrusted(HOSTILE[name](traps).encode())
    assert traps.untouched()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_documents_in_utf16_are_refused_without_fetching(traps: Traps, name: str) -> None:
    """UTF-16 hides ``<!DOCTYPE`` from the byte-level prolog scan: the parser-level defences hold.

    (libxml2 may stop entity amplification itself first, hence no check of the message.)
    """
    document = HOSTILE[name](traps).removeprefix("\ufeff").replace('<?xml version="1.0"?>', "")
    with pytest.raises(DmpUnsafeXmlError):
        parse_untrusted(('<?xml version="1.0" encoding="UTF-16"?>' + document).encode("utf-16"))
    assert traps.untouched()


def test_the_fifo_oracle_sees_a_parser_that_loads_dtds(traps: Traps) -> None:
    """Control: an lxml parser asked to load DTDs opens the pipe, so the oracle is not blind."""
    permissive = etree.XMLParser(load_dtd=True, no_network=True)
    etree.fromstring(f'<!DOCTYPE r SYSTEM "{traps.file_url}"><r/>'.encode(), permissive)
    assert traps.fifo_opens


def test_file_contents_never_reach_the_error(tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("CANARY-7f3a")
    document = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY s SYSTEM "{canary.as_uri()}">]><r>&s;</r>'
    with pytest.raises(DmpUnsafeXmlError) as info:
        parse_untrusted(document.encode("utf-16"))
    assert "CANARY" not in str(info.value)


def test_xinclude_is_not_processed(traps: Traps) -> None:
    document = f'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{traps.url}/inc" parse="text"/></r>'
    root = parse_untrusted(document.encode())
    assert root[0].tag == "{http://www.w3.org/2001/XInclude}include"
    assert traps.untouched()


# --- size and shape limits ------------------------------------------------------------------------


def test_documents_over_the_limit_are_refused_before_parsing() -> None:
    with pytest.raises(DmpUnsafeXmlError, match="exceeds the 64-byte limit"):
        parse_untrusted(b"<a>" + b"x" * 100 + b"</a>", max_bytes=64)
    with pytest.raises(DmpUnsafeXmlError, match=f"exceeds the {DEFAULT_MAX_XML_BYTES}-byte limit"):
        parse_untrusted(b"<a>" + b"x" * DEFAULT_MAX_XML_BYTES + b"</a>")
    assert parse_untrusted(b"<a>" + b"x" * 57 + b"</a>", max_bytes=64).text == "x" * 57


def test_absurd_nesting_is_refused() -> None:
    with pytest.raises(DmpUnsafeXmlError, match="not well-formed"):
        parse_untrusted(b"<a>" * 5_000 + b"</a>" * 5_000)


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"not xml at all",
        b"<a><b></a>",
        b"<a>",
        b"<a/><b/>",
        b'<w:Security xmlns:s="urn:s"/>',
        b"<a>&undefined;</a>",
        b"\xff\xfe\x00garbage",
    ],
)
def test_malformed_xml_is_refused(document: bytes) -> None:
    with pytest.raises(DmpUnsafeXmlError, match="not well-formed"):
        parse_untrusted(document)


# --- legitimate documents are accepted ------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0" encoding="ISO-8859-1"?><r a="é">Médecin généraliste</r>'.encode("latin-1"),
        '<?xml version="1.0" encoding="windows-1252"?><r a="é">Médecin généraliste</r>'.encode("cp1252"),
        '<?xml version="1.0" encoding="UTF-16"?><r a="é">Médecin généraliste</r>'.encode("utf-16"),
        '\ufeff<r a="é">Médecin généraliste</r>'.encode(),
        '<!-- <!DOCTYPE r SYSTEM "x"> --><r a="é">Médecin généraliste</r>'.encode(),
    ],
)
def test_legitimate_encodings_and_prologs_are_accepted(document: bytes) -> None:
    root = parse_untrusted(document)
    assert (root.text, root.get("a")) == ("Médecin généraliste", "é")


def test_doctype_text_inside_the_document_is_not_a_dtd() -> None:
    root = parse_untrusted(b"<r><!-- <!DOCTYPE x> --><![CDATA[<!DOCTYPE y>]]>&lt;!DOCTYPE z&gt;</r>")
    assert root.text is None
    assert "".join(str(text) for text in root.itertext()) == "<!DOCTYPE y><!DOCTYPE z>"


# --- the same defences through the SOAP reader ----------------------------------------------------


def soap(body: str, prolog: str = "") -> bytes:
    return f'{prolog}<s:Envelope xmlns:s="{NS["soap"]}"><s:Body>{body}</s:Body></s:Envelope>'.encode()


def test_read_soap_refuses_entity_expansion_and_xxe(traps: Traps) -> None:
    laughs_prolog = LAUGHS.split("<lolz>")[0].replace("lolz", "s:Envelope")
    with pytest.raises(DmpUnsafeXmlError):
        read_soap(soap("<x>&lol9;</x>", laughs_prolog))
    with pytest.raises(DmpUnsafeXmlError):
        read_soap(soap("<x>&s;</x>", f'<!DOCTYPE s:Envelope [<!ENTITY s SYSTEM "{traps.url}/soap">]>'))
    with pytest.raises(DmpUnsafeXmlError):
        read_soap(soap("<x>&s;</x>", f'<!DOCTYPE s:Envelope [<!ENTITY s SYSTEM "{traps.file_url}">]>'))
    assert traps.untouched()


def test_read_soap_refuses_malformed_and_tells_non_soap_apart() -> None:
    with pytest.raises(DmpUnsafeXmlError):
        read_soap(soap("<unclosed>"))
    with pytest.raises(DmpProtocolError) as info:
        read_soap(b"<html><body><h1>503 Service Unavailable</h1></body></html>")
    assert not isinstance(info.value, DmpUnsafeXmlError)


def test_read_soap_accepts_a_latin1_envelope() -> None:
    xml = soap("<x>Médecin</x>", '<?xml version="1.0" encoding="ISO-8859-1"?>').decode().encode("latin-1")
    msg = read_soap(xml)
    assert msg.body is not None
    assert msg.body.text == "Médecin"


# --- processing instructions kept for canonical forms (CDA digests) --------------------------------

STYLESHEET = '<?xml-stylesheet type="text/xsl" href="CDA.xsl"?>'


def test_processing_instructions_are_dropped_kept_on_request_and_refused_when_strict() -> None:
    document = f"{STYLESHEET}<r><?p inside?></r>".encode()
    assert list(parse_untrusted(document).iter(etree.ProcessingInstruction)) == []
    kept = parse_untrusted(document, keep_pis=True)
    assert [pi.target for pi in kept.iter(etree.ProcessingInstruction)] == ["p"]
    assert [pi.target for pi in kept.itersiblings(preceding=True)] == ["xml-stylesheet"]
    with pytest.raises(DmpUnsafeXmlError, match="processing instruction"):
        parse_untrusted(document, strict=True, keep_pis=True)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_digest_of_a_document_with_a_pi_parses_it_with_the_hardened_parser(traps: Traps, name: str) -> None:
    """``document_digest`` re-reads a document holding a PI (the canonical form includes it): that read is the
    hardened one too, even when the caller passes an already parsed tree."""
    hostile = HOSTILE[name](traps)
    prolog, _, rest = hostile.partition("<!DOCTYPE")
    document = f"{prolog}{STYLESHEET}<!DOCTYPE{rest}".encode()
    with pytest.raises(DmpUnsafeXmlError):
        document_digest(document, xml=True, parsed=etree.Element("r"))
    assert traps.untouched()


def test_the_digest_of_a_document_with_a_pi_keeps_the_cda_budget() -> None:
    """Over 64 KiB, an element with more attributes than the budget (lxml reads them in quadratic time)."""
    attributes = " ".join(f'a{i}="{"x" * 300}"' for i in range(300))
    document = f"{STYLESHEET}<r {attributes}/>".encode()
    with pytest.raises(DmpUnsafeXmlError, match="max_attributes"):
        document_digest(document, xml=True, parsed=etree.Element("r"))


@pytest.mark.parametrize("prolog", ["", '<?xml version="1.0" encoding="UTF-8"?>\n'])
def test_a_leading_stylesheet_is_part_of_the_digest(prolog: str) -> None:
    """``<?xml-stylesheet?>`` first (no declaration) is a PI, not the XML declaration: the canonical form has it."""
    bare = f"{prolog}<r/>".encode()
    styled = f"{prolog}{STYLESHEET}\n<r/>".encode()
    assert document_digest(styled, xml=True) != document_digest(bare, xml=True)
    expected = hashlib.sha256(f"{STYLESHEET}\n<r></r>".encode()).digest()  # C14N by hand: PI, newline, root
    assert document_digest(styled, xml=True) == expected
