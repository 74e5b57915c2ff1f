"""Valid messages the campaign starts from (seeds), built with the project's own core and a throw-away PKI.

Seeds are what a well-behaved peer sends: TD0.2 requests and answers, SOAP faults, MTOM messages, signed
VIHFs of every mode. Real captures of the same IHE stack (eHealth Suisse, ``DMP_SHARED`` or ``../shared``)
are added when present. Everything is built once, with a fixed clock, so that a case index reproduces.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from lxml import etree

from dmpclient.codes import Code
from dmpclient.hl7v3.patient_query import (
    AuthorizationStatus,
    DmpStatus,
    ExistenceAnswer,
    PatientIdentity,
    build_patient_response,
    parse_patient_query,
)
from dmpclient.hl7v3.wrapper import Device
from dmpclient.ids import InsOid
from dmpclient.security.credentials import load_pem
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.pki import TestPki
from dmpclient.security.verify import ReplayCache, VerificationPolicy
from dmpclient.security.vihf import (
    Actor,
    AuthMode,
    LpsIdentity,
    PatientId,
    SoftwareSigner,
    Structure,
    VihfRequest,
    build_vihf,
    sign_vihf,
)
from dmpclient.security.xades import ManifestReference, SubmissionSigner
from dmpclient.soap.envelope import build_request, build_response
from dmpclient.soap.faults import build_fault
from dmpclient.soap.mtom import OutgoingPart, encode, xop_include
from dmpclient.transactions import patients
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation
from dmpclient.xds.submission import document_digest
from mock_server.seed.cda import CdaAuthor, CdaDocument, CdaPatient, NonXmlBody, Section, build_cda, minimal_pdf

__all__ = ["FUZZ_REQUEST_ID", "INS", "MTOM_CONTENT_TYPE", "Corpus", "test_existence_operation"]

INS: Final = "207058575627097"  # PATB-QUATRE (public test identity, seeded in the mock)
DOCTOR: Final = Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26")
LPS: Final = LpsIdentity(nom="DMPCLIENT FUZZ", version="1.0", homologation="FUZZ-1-tmp1", id="1.2.250.1.999.888.2")
#: The Content-Type every MTOM seed is framed with (mutations change the body, a dedicated target this header).
MTOM_CONTENT_TYPE: Final = (
    'multipart/related; boundary="MIMEBoundary_fuzz"; type="application/xop+xml"; start="<root@fuzz>"; '
    'start-info="application/soap+xml"; action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"'
)
#: The MessageID of the request every answer of the corpus relates to.
FUZZ_REQUEST_ID: Final = "urn:uuid:00000000-0000-4000-8000-00000000f022"
#: The document ids of the CDA seeds (the project's test OID arc).
_CDA_ROOT: Final = "1.2.250.1.999.4"
_FIXTURES: Final = ("ITI-18_request_raw.xml", "ITI-18_response_raw.xml", "ITI-43_response_raw.xml")


def _ids() -> str:
    return str(uuid.uuid4())


def corpus_answer(body: etree._Element, action: str) -> bytes:
    """The SOAP answer to the fuzz request (:data:`FUZZ_REQUEST_ID`) carrying ``body``."""
    return build_response(body, action=action, relates_to=FUZZ_REQUEST_ID, message_id=f"urn:uuid:{_ids()}")


def test_existence_operation(when: dt.datetime) -> Operation[ExistenceAnswer]:
    """A TD0.2 operation of the fuzz software, at ``when``."""
    return patients.test_existence(CallContext(Device("1.2.250.1.999.1", "FUZZ"), clock=lambda: when), INS, InsOid.TEST)


test_existence_operation.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name


def _cdas(pki: TestPki, when: dt.datetime) -> tuple[bytes, ...]:
    """A level-1 CDA (PDF body) and a structured one (a table), as fed to the DMP and read back."""
    patient = CdaPatient(INS, InsOid.TEST, "PATB-QUATRE", "LAURENCE", "F", dt.date(1970, 5, 20))
    author = CdaAuthor(pki.ps_id, "LIBRE", "MAX", pki.structure_id, "CENTRE HOSPITALIER DE TEST")
    report = Code("11488-4", "2.16.840.1.113883.6.1", "CR de consultation")
    pdf = NonXmlBody("application/pdf", minimal_pdf(["Compte rendu"], title="CR"))
    table = (Section("Résultats", ("Bilan.",), (("Analyse", "Résultat"), ("Glycémie", "0,95 g/L"))),)
    bodies: tuple[NonXmlBody | tuple[Section, ...], ...] = (pdf, table)
    return tuple(
        build_cda(CdaDocument(f"{_CDA_ROOT}.{n}", f"{_CDA_ROOT}.set.{n}", 1, report, "CR", when, patient, author, body))
        for n, body in enumerate(bodies)
    )


def _submission_signature(signer: SoftwareSigner, cdas: tuple[bytes, ...], when: dt.datetime) -> bytes:
    """The XAdES signature of a submission of those CDAs, as the mock receives it (§5.4)."""
    references = [ManifestReference(f"{_CDA_ROOT}.{n}", document_digest(cda, xml=True)) for n, cda in enumerate(cdas)]
    return SubmissionSigner(signer).sign(
        submission_set_unique_id=f"{_CDA_ROOT}.99",
        documents=references,
        signing_time=when,
        signature_id=f"_{uuid.UUID(int=4)}",
    )


def _shared_samples() -> list[bytes]:
    """The eHealth Suisse captures, when the shared folder is around (optional seeds)."""
    for base in (os.environ.get("DMP_SHARED"), Path(__file__).resolve().parents[2] / "shared", "/work/shared"):
        folder = Path(base) / "fixtures" / "ehealthsuisse" / "samples" if base else None
        if folder is not None and folder.is_dir():
            return [(folder / name).read_bytes() for name in _FIXTURES if (folder / name).is_file()]
    return []


@dataclass(frozen=True, slots=True)
class Corpus:
    """The seeds of every target, and what decoding them needs (trust anchors, the fixed clock)."""

    pki: TestPki
    now: dt.datetime
    policy: VerificationPolicy
    requests: tuple[bytes, ...]
    responses: tuple[bytes, ...]
    faults: tuple[bytes, ...]
    hl7_requests: tuple[bytes, ...]
    hl7_responses: tuple[bytes, ...]
    assertions: tuple[bytes, ...]
    mtom_bodies: tuple[bytes, ...]
    samples: tuple[bytes, ...]
    cdas: tuple[bytes, ...]
    submission_signatures: tuple[bytes, ...]

    @classmethod
    def build(cls, pki: TestPki, *, now: dt.datetime | None = None) -> Corpus:
        """Seeds signed by ``pki`` at ``now`` (default: the current time, truncated to the second)."""
        when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        org = SoftwareSigner.from_credential(load_pem(pki.org_sign.cert, pki.org_sign.key))
        card = SoftwareSigner.from_credential(load_pem(pki.ps_sign.cert, pki.ps_sign.key))
        common = {"structure": Structure.of(pki.structure_id, "SA01"), "lps": LPS, "now": when}
        patient = PatientId(ins=INS, oid=InsOid.TEST)
        holder = DOCTOR.model_copy(update={"national_id": pki.ps_id})
        assertions = tuple(
            sign_vihf(build_vihf(VihfRequest(mode=mode, actor=actor, patient=patient, **common), signer), signer)
            for mode, actor, signer in (
                (AuthMode.AIR, DOCTOR, org),
                (AuthMode.INDIRECTE, DOCTOR, org),
                (AuthMode.DIRECTE, holder, card),
            )
        )
        operation = test_existence_operation(when)
        action = operation.spec.request_action
        requests = tuple(
            build_request(operation.body, action=action, message_id=f"urn:uuid:{_ids()}", assertion=assertion)
            for assertion in assertions[:2]
        )
        query = parse_patient_query(operation.body)
        identity = PatientIdentity(ins=INS, ins_oid=InsOid.TEST, family="PATB-QUATRE", given="LAURENCE", gender="F")
        answers = (
            ExistenceAnswer(
                status=DmpStatus.ACTIVE,
                authorization=AuthorizationStatus.VALIDE,
                treating_physician=True,
                patient=identity,
                observations={"OPPOSITION_BRIS_DE_GLACE": False},
            ),
            ExistenceAnswer(status=DmpStatus.NONE),
        )
        hl7 = [build_patient_response(query, answer, response_id=_ids(), now=when) for answer in answers]
        relates = FUZZ_REQUEST_ID
        responses = tuple(
            build_response(
                body, action=operation.spec.response_action, relates_to=relates, message_id=f"urn:uuid:{_ids()}"
            )
            for body in hl7
        )
        faults = (
            build_fault(code="Sender", reason="Le VIHF est invalide", subcode="DMPInvalidVihf", relates_to=relates),
            build_fault(code="Receiver", reason="Erreur interne"),
        )
        cdas = _cdas(pki, when)
        return cls(
            pki=pki,
            now=when,
            policy=VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=ReplayCache()),
            requests=requests,
            responses=responses,
            faults=faults,
            hl7_requests=(etree.tostring(operation.body),),
            hl7_responses=tuple(etree.tostring(body) for body in hl7),
            assertions=assertions,
            mtom_bodies=(_mtom(requests[0]), _mtom(requests[1], parts=3)),
            samples=tuple(_shared_samples()),
            cdas=cdas,
            submission_signatures=(_submission_signature(org, cdas, when),),
        )

    def answer(self, body_xml: bytes, action: str) -> bytes:
        """A SOAP answer to the fuzz request carrying ``body_xml`` (a golden response body)."""
        return corpus_answer(etree.fromstring(body_xml), action)

    def identity(self) -> CallerIdentity:
        """The caller of the liveness checks against the mock (AIR, the test physician)."""
        return CallerIdentity(DOCTOR)

    def issuer(self) -> VihfIssuer:
        """Signs fresh VIHFs (AIR tokens live 30 s: the mock phase builds its own, just in time)."""
        org = SoftwareSigner.from_credential(load_pem(self.pki.org_sign.cert, self.pki.org_sign.key))
        return VihfIssuer(org, structure=Structure.of(self.pki.structure_id, "SA01"), lps=LPS)


def _mtom(envelope: bytes, *, parts: int = 1) -> bytes:
    """An MTOM body framing ``envelope`` (with ``xop:Include`` elements appended to its body) and ``parts``
    attachments, in the boundary of :data:`MTOM_CONTENT_TYPE`."""
    ids = [f"doc{index}@fuzz" for index in range(parts)]
    includes = b"".join(b"<Document>" + etree.tostring(xop_include(cid)) + b"</Document>" for cid in ids)
    root = envelope.replace(b"</soap:Body>", includes + b"</soap:Body>")
    attachments = [
        OutgoingPart(cid, b"%%PDF-1.4 fuzz document %d\n" % index + bytes(range(256))) for index, cid in enumerate(ids)
    ]
    message = encode(
        root,
        attachments,
        action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
        boundary="MIMEBoundary_fuzz",
        root_content_id="root@fuzz",
    )
    return message.to_bytes()
