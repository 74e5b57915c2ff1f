"""Shared helpers for the VIHF tests: signers from the session test PKI, valid VIHFs per mode, re-signing."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from dmpclient.ids import InsOid
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import CertificateFiles, TestPki
from dmpclient.security.verify import VerificationPolicy
from dmpclient.security.vihf import (
    Actor,
    AuthMode,
    LpsIdentity,
    PatientId,
    SoftwareSigner,
    Structure,
    Vihf,
    VihfRequest,
    build_vihf,
    vihf_to_element,
)
from dmpclient.security.xmldsig import DigestAlgorithm, SignatureAlgorithm, sign_enveloped

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"saml2": SAML, "ds": DS, "hl7": "urn:hl7-org:v3"}
INS = "207058575627097"
XMLSEC1 = shutil.which("xmlsec1")
needs_xmlsec1 = pytest.mark.skipif(XMLSEC1 is None, reason="the xmlsec1 command-line tool is not installed")
ID_ATTR = ["--id-attr:ID", f"{SAML}:Assertion"]

LPS = LpsIdentity(nom="DMPCLIENT TEST", version="1.0", homologation="BCO-465897-tmp2", id="1.2.250.1.999.888.2")
STRUCTURE = Structure.of("10B0127189", "SA01")
PATIENT = PatientId(ins=INS, oid=InsOid.TEST)
DOCTOR = Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26")


def now() -> dt.datetime:
    """The current time (the session PKI is valid around it), truncated to milliseconds."""
    current = dt.datetime.now(dt.UTC)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


@cache
def signer_of(files: CertificateFiles) -> SoftwareSigner:
    """A signer over a generated certificate/key pair (loaded once per pair)."""
    return SoftwareSigner.from_credential(load_pem(files.cert, files.key))


def policy_for(pki: TestPki, **options: object) -> VerificationPolicy:
    """Trust the PKI's root; its ORGANISATIONS and PERSONNES CAs are untrusted intermediates."""
    return VerificationPolicy.from_ca_file(pki.ca_bundle, **options)


def build(mode: AuthMode, signer: SoftwareSigner, when: dt.datetime, **options: object) -> Vihf:
    """A valid VIHF of ``mode`` for the test physician (``options`` are fields of the request)."""
    fields: dict[str, object] = {"actor": DOCTOR, "structure": STRUCTURE, "lps": LPS, "patient": PATIENT} | options
    return build_vihf(VihfRequest(mode=mode, now=when, **fields), signer)  # type: ignore[arg-type]


def sign_element(element: etree._Element, signer: SoftwareSigner) -> bytes:
    """Sign an (edited) unsigned assertion exactly as sign_vihf does."""
    return sign_enveloped(element, signer, position=1)


def edited(vihf: Vihf, signer: SoftwareSigner, xpath: str, action: str, value: str = "") -> bytes:
    """Edit the unsigned assertion (``remove`` the matches, or ``set`` their text/``code``), then sign it."""
    element = vihf_to_element(vihf)
    for node in element.xpath(xpath, namespaces=NS):
        if action == "remove":
            node.getparent().remove(node)
        elif node.get("code") is not None:
            node.set("code", value)
        else:
            node.text = value
    return sign_element(element, signer)


def resign_signed_info(root: etree._Element, signer: SoftwareSigner) -> None:
    """Recompute the SignatureValue after editing SignedInfo (a correctly signed but off-profile signature)."""
    signature = root.find("ds:Signature", NS)
    signed_info = signature.find("ds:SignedInfo", NS)
    canonical = etree.tostring(signed_info, method="c14n", exclusive=True)
    signature.find("ds:SignatureValue", NS).text = base64.b64encode(
        signer.sign(canonical, SignatureAlgorithm.RSA_SHA256)
    ).decode()


def xmlsec1_verify(path: Path, pki: TestPki) -> subprocess.CompletedProcess[str]:
    """``xmlsec1 --verify`` with the test root trusted and the intermediate CAs untrusted."""
    assert XMLSEC1 is not None
    command = [XMLSEC1, "--verify", *ID_ATTR, "--trusted-pem", str(pki.root_ca)]
    command += ["--untrusted-pem", str(pki.org_ca), "--untrusted-pem", str(pki.personnes_ca), str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


_TEMPLATE = """<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
  <SignedInfo>
    <CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
    <SignatureMethod Algorithm="{sig}"/>
    <Reference URI="#{id}">
      <Transforms>
        <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
        <Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">{prefixes}</Transform>
      </Transforms>
      <DigestMethod Algorithm="{digest}"/>
      <DigestValue/>
    </Reference>
  </SignedInfo>
  <SignatureValue/>
  <KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo>
</Signature>"""


def xmlsec1_signed(
    pki: TestPki, tmp_path: Path, unsigned: etree._Element, *, prefix_list: str = "", sha1: bool = False
) -> bytes:
    """Sign a template (default-namespace ds, pretty-printed, optional PrefixList) with ``xmlsec1 --sign``."""
    prefixes = (
        f'<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="{prefix_list}"/>'
        if prefix_list
        else ""
    )
    sig = SignatureAlgorithm.RSA_SHA1 if sha1 else SignatureAlgorithm.RSA_SHA256
    digest = DigestAlgorithm.SHA1 if sha1 else DigestAlgorithm.SHA256
    template = etree.fromstring(
        _TEMPLATE.format(sig=sig.value, digest=digest.value, id=unsigned.get("ID"), prefixes=prefixes)
    )
    template.tail = "\n  "
    document = copy.deepcopy(unsigned)
    document.insert(1, template)
    source, out = tmp_path / "template.xml", tmp_path / "signed.xml"
    source.write_bytes(etree.tostring(document))
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(signer_of(pki.org_sign).certificate.public_bytes(Encoding.PEM))  # the leaf alone
    key = f"{pki.org_sign.key},{leaf}"
    command = [str(XMLSEC1), "--sign", "--privkey-pem", key, *ID_ATTR, "--output", str(out), str(source)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return out.read_bytes()
