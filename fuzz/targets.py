"""The decoders under fuzz: one :class:`Target` per decoder, built from the corpus.

A target turns bytes into a decoded value or raises :class:`~dmpclient.errors.DmpError`; anything else is a
finding. Adding a decoder is one line in :func:`default_targets`; a response decoder of any transaction is
``response_decoder_target(name, decode)`` with ``decode: Callable[[SoapMessage], object]`` (the ``decode`` of
a transaction spec, an :class:`~dmpclient.transactions.operation.Operation`'s ``parse``…).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from dmpclient._logging import MAX_DEBUG_CHARS, redact
from dmpclient._xml import parse_untrusted
from dmpclient.errors import DmpError
from dmpclient.hl7v3.patient_query import parse_patient_query, parse_patient_response
from dmpclient.hl7v3.wrapper import Device
from dmpclient.ids import InsOid
from dmpclient.security.verify import VerificationPolicy, VerifiedVihf, verify_vihf
from dmpclient.soap.envelope import SoapMessage, read_soap
from dmpclient.soap.faults import fault_from_message
from dmpclient.soap.mtom import MtomDecoder, decode
from dmpclient.transactions import patients
from fuzz.corpus import INS, MTOM_CONTENT_TYPE, Corpus
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
            return Case(self.name, "signature-preserving", _apply(rng, self.preserving, seed))
        if roll < 0.7:
            return Case(self.name, "tree-mutation", mutate_tree(rng, seed))
        return Case(self.name, "byte-mutation", mutate_bytes(rng, seed, others))


def _apply(rng: random.Random, mutations: Sequence[Callable[[random.Random, bytes], bytes]], seed: bytes) -> bytes:
    return rng.choice(mutations)(rng, seed)


def response_decoder_target(
    name: str, decoder: Callable[[SoapMessage], object], seeds: Sequence[bytes], *, allow_soap11: bool = False
) -> Target:
    """A transaction's response decoder behind the client's pure read path (``read_soap`` then ``decoder``)."""
    return Target(name, lambda data: decoder(read_soap(data, allow_soap11=allow_soap11)), seeds)


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
    td02 = patients.test_existence(
        INS, InsOid.TEST, lps=Device("1.2.250.1.999.1", "FUZZ"), now=corpus.now, new_id=lambda: str(uuid.uuid4())
    )
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
        response_decoder_target("TD0.2 response", td02.parse, corpus.responses),
        _vihf_target(corpus),
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
