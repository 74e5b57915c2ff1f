"""The decoders under fuzz: one :class:`Target` per decoder, built from the corpus.

A target turns bytes into a decoded value or raises :class:`~dmpclient.errors.DmpError`; anything else is a
finding. Adding a decoder is one line in :func:`default_targets`; the response decoder of every transaction of
the catalogue (``TransactionSpec.decode``, a ``Callable[[Response], object]``) is fuzzed behind the client's pure
read path by :func:`response_decoder_target`, from its golden response and the corpus' answers.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dmpclient._logging import MAX_DEBUG_CHARS, redact
from dmpclient._xml import parse_untrusted
from dmpclient.errors import DmpError
from dmpclient.hl7v3.patient_query import parse_patient_query, parse_patient_response
from dmpclient.security.verify import VerificationPolicy, VerifiedVihf, verify_vihf
from dmpclient.security.xades import verify_submission_signature
from dmpclient.soap.envelope import read_soap
from dmpclient.soap.faults import fault_from_message
from dmpclient.soap.mtom import MtomDecoder, decode
from dmpclient.soap.request import PreparedRequest
from dmpclient.soap.response import Response, ResponseReader, read_response
from dmpclient.transactions import catalog
from dmpclient.transactions.spec import TransactionSpec
from dmpclient.xds.cda_metadata import read_cda
from dmpclient.xds.submission import document_digest
from fuzz.corpus import FUZZ_REQUEST_ID, MTOM_CONTENT_TYPE, Corpus
from fuzz.mutations import (
    MIME_FAMILIES,
    SIGNATURE_PRESERVING,
    XML_FAMILIES,
    content_type_mutation,
    mutate_bytes,
    mutate_tree,
)

__all__ = ["Case", "Target", "closing", "default_targets", "is_expected", "response_decoder_target"]

#: The MTOM limits of the fuzzed decoders (the mock's: 128 MiB would only make endless streams slower).
_MTOM_TOTAL: Final = 32 * 1024 * 1024
_ENDLESS: Final = b"<<endless>>"
_GOLDEN: Final = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "golden"
_XMLSEC1: Final = shutil.which("xmlsec1")


@dataclass(frozen=True, slots=True)
class Case:
    """One input: which target, how it was made (``family``), and the bytes."""

    target: str
    family: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Target:
    """A decoder and how to make hostile inputs for it.

    Attributes:
        name: shown in the report.
        decode: bytes → decoded value; must raise only :class:`~dmpclient.errors.DmpError` subclasses.
        seeds: valid inputs the mutations start from.
        families: payload families that apply (XML or MIME ones).
        check: an oracle on *accepted* inputs (e.g. the xmlsec1 differential); returns a finding or None.
        preserving: mutations after which a correct decoder must give the seed's result.
    """

    name: str
    decode: Callable[[bytes], object]
    seeds: Sequence[bytes]
    families: dict[str, Callable[[random.Random, bytes], bytes]] = field(default_factory=lambda: dict(XML_FAMILIES))
    check: Callable[[bytes, object], str | None] | None = None
    preserving: Sequence[Callable[[random.Random, bytes], bytes]] = ()

    def case(self, rng: random.Random, others: Sequence[bytes]) -> Case:
        """A hostile input: a payload family, a structural or byte mutation of a seed, or a preserving one."""
        seed = rng.choice(self.seeds)
        roll = rng.random()
        if roll < 0.3 and self.families:
            family = rng.choice(sorted(self.families))
            return Case(self.name, family, self.families[family](rng, seed))
        if roll < 0.45 and self.preserving:
            return Case(self.name, "signature-preserving", rng.choice(self.preserving)(rng, seed))
        if roll < 0.7:
            return Case(self.name, "tree-mutation", mutate_tree(rng, seed))
        return Case(self.name, "byte-mutation", mutate_bytes(rng, seed, others))


#: The request every fuzzed answer answers (seeds relate to it, so ``read_response`` reads them through).
_REQUEST: Final = PreparedRequest(
    url="https://fuzz.invalid/si-dmp-server/v2/services/fuzz",
    service="fuzz",
    td="fuzz",
    action="urn:fuzz",
    message_id=FUZZ_REQUEST_ID,
    envelope=b"",
    headers={},
    idempotent=True,
)
_SOAP_TYPE: Final = "application/soap+xml; charset=UTF-8"
#: ``DmpConfig.max_response_bytes`` by default: what the client accepts for a plain answer.
_CLIENT_MAX_BYTES: Final = 64 * 1024 * 1024


def response_decoder_target(
    name: str, decoder: Callable[[Response], object], seeds: Sequence[bytes], *, content_type: str = _SOAP_TYPE
) -> Target:
    """A response decoder behind the client's whole pure read path: the body is fed to a ``ResponseReader``
    (MTOM when ``content_type`` says so), ``read_response`` raises faults and foreign answers, then ``decoder``."""

    def read(data: bytes) -> object:
        reader = ResponseReader(_CLIENT_MAX_BYTES, max_mtom_bytes=_MTOM_TOTAL)
        reader.start(200, content_type)
        try:
            reader.feed(data)
            raw = reader.finish()
        except BaseException:
            reader.abort()
            raise
        with read_response(_REQUEST, raw, max_bytes=_CLIENT_MAX_BYTES) as response:
            return decoder(response)

    return Target(name, read, seeds)


def _request_parser_target(spec: TransactionSpec[Any], golden: Path) -> Target:
    """The mock's side: a request body of ``spec`` read by its request parser (``TransactionSpec.read_request``)."""
    parser = spec.read_request
    assert parser is not None

    def read(data: bytes) -> object:
        return parser(parse_untrusted(data))

    return Target(f"{spec.td} request", read, [golden.read_bytes()])


def _catalogue_request_targets() -> list[Target]:
    """One target per transaction whose request the mock parses, seeded with its golden request."""
    return [
        _request_parser_target(spec, _GOLDEN / f"{spec.td}.request.xml")
        for spec in catalog.SPECS
        if spec.read_request is not None and (_GOLDEN / f"{spec.td}.request.xml").is_file()
    ]


def _catalogue_targets(corpus: Corpus) -> list[Target]:
    """One target per transaction of the catalogue, seeded with its golden answer when the repo has one."""
    targets = []
    for spec in catalog.SPECS:
        golden = _GOLDEN / f"{spec.td}.response.xml"
        # its own golden answer (what a valid answer of this TD is); without one, the corpus' answers
        seeds = [corpus.answer(golden.read_bytes(), spec.response_action)] if golden.is_file() else corpus.responses
        targets.append(response_decoder_target(f"{spec.td} response", spec.decode, seeds))
    return targets


# --- decoders needing more than bytes -------------------------------------------------------------------------


def _mtom_stream(data: bytes) -> object:
    """Feed the MTOM decoder in chunk sizes derived from the data (1 byte to 64 KiB); data ending with the
    endless marker is repeated forever, like a peer that never stops: the decoder must refuse it."""
    endless = data.endswith(_ENDLESS)
    body = data.removesuffix(_ENDLESS) or b"x"
    size = 1 + zlib.crc32(body) % 65536
    decoder = MtomDecoder(MTOM_CONTENT_TYPE, max_total_bytes=_MTOM_TOTAL)
    fed = 0
    for chunk in _chunks(body, size, endless):
        decoder.feed(chunk)
        fed += len(chunk)
        if fed > 2 * _MTOM_TOTAL:
            raise AssertionError("an endless MTOM stream was never refused")
    return decoder.close()


def _chunks(body: bytes, size: int, endless: bool) -> Iterator[bytes]:
    while True:
        for start in range(0, len(body), size):
            yield body[start : start + size]
        if not endless:
            return


def _endless(rng: random.Random, seed: bytes) -> bytes:
    cut = seed.find(b"\r\n--MIMEBoundary_fuzz--")
    return (seed[: rng.randrange(cut)] if cut > 0 else seed) + _ENDLESS


def _mtom_content_type_target(corpus: Corpus) -> Target:
    """A hostile Content-Type header in front of a valid MTOM body."""
    body = corpus.mtom_bodies[0]

    def decode_with(data: bytes) -> object:
        return decode(data.decode("utf-8", "replace"), body, max_total_bytes=_MTOM_TOTAL)

    mutate = {"content-type": lambda rng, seed: content_type_mutation(rng, seed.decode()).encode()}
    return Target("mtom.content_type", decode_with, [MTOM_CONTENT_TYPE.encode()], mutate)


def _redact(data: bytes) -> object:
    text = redact(data)
    if len(text) > MAX_DEBUG_CHARS + 200:
        raise AssertionError(f"a DEBUG line of {len(text)} characters")
    return text


def _vihf_target(corpus: Corpus) -> Target:
    policy = VerificationPolicy.from_ca_file(corpus.pki.ca_bundle, replay_cache=None)
    seeds = corpus.assertions
    expected = {}
    for seed in seeds:
        verified = verify_vihf(seed, policy, now=corpus.now)
        expected[verified.vihf.assertion_id] = verified.vihf

    def check(data: bytes, result: object) -> str | None:
        vihf = result.vihf if isinstance(result, VerifiedVihf) else None
        if vihf is not None and expected.get(vihf.assertion_id) != vihf:
            return "an accepted assertion reads differently from the signed one"
        return _xmlsec1_disagrees(corpus, data)

    return Target(
        "vihf.verify_vihf",
        lambda data: verify_vihf(data, policy, now=corpus.now),
        seeds,
        check=check,
        preserving=SIGNATURE_PRESERVING,
    )


def _xmlsec1_disagrees(corpus: Corpus, data: bytes) -> str | None:
    """xmlsec1 must accept what we accept (root trusted, intermediates untrusted, ID attribute declared)."""
    if _XMLSEC1 is None:
        return None
    pki = corpus.pki
    with tempfile.TemporaryDirectory(prefix="fuzz-xmlsec1-") as folder:
        document = Path(folder) / "assertion.xml"
        document.write_bytes(data)
        command = [_XMLSEC1, "--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"]
        command += ["--trusted-pem", str(pki.root_ca), "--untrusted-pem", str(pki.org_ca)]
        command += ["--untrusted-pem", str(pki.personnes_ca), str(document)]
        result = subprocess.run(command, capture_output=True, check=False, timeout=60)
    return None if result.returncode == 0 else "verify_vihf accepted an assertion that xmlsec1 rejects"


def default_targets(corpus: Corpus) -> list[Target]:
    """Every decoder of the project; each new one is one line here."""
    envelopes = (*corpus.requests, *corpus.responses, *corpus.faults, *corpus.samples)
    mime = dict(MIME_FAMILIES) | {"endless-stream": _endless}
    return [
        Target("xml.parse_untrusted", parse_untrusted, envelopes),
        Target("soap.read_soap", lambda data: read_soap(data, allow_soap11=True), envelopes),
        Target("soap.fault_from_message", lambda data: fault_from_message(read_soap(data)), corpus.faults),
        Target(
            "mtom.decode",
            lambda data: decode(MTOM_CONTENT_TYPE, data, max_total_bytes=_MTOM_TOTAL),
            corpus.mtom_bodies,
            mime,
        ),
        Target("mtom.stream", _mtom_stream, corpus.mtom_bodies, mime),
        _mtom_content_type_target(corpus),
        Target(
            "hl7v3.parse_patient_query", lambda data: parse_patient_query(parse_untrusted(data)), corpus.hl7_requests
        ),
        Target(
            "hl7v3.parse_patient_response",
            lambda data: parse_patient_response(parse_untrusted(data)),
            corpus.hl7_responses,
        ),
        *_catalogue_targets(corpus),
        *_catalogue_request_targets(),
        _vihf_target(corpus),
        Target("xds.read_cda", read_cda, corpus.cdas),
        Target("xds.document_digest", lambda data: document_digest(data, xml=True), corpus.cdas),
        Target("xades.verify_submission_signature", verify_submission_signature, corpus.submission_signatures),
        Target("log.redact", _redact, (*envelopes, *corpus.mtom_bodies, *corpus.assertions)),
    ]


def closing(result: object) -> None:
    """Release what a decoder returned (MTOM attachments spooled to disk)."""
    close = getattr(result, "close", None)
    if callable(close):
        close()


def is_expected(exc: BaseException) -> bool:
    """Only the SDK's typed errors are expected from a decoder on hostile input."""
    return isinstance(exc, DmpError)
