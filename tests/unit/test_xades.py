"""XAdES "signature du lot" (reference §5.4): xmlsec1 verifies what we sign, the schemas validate it.

xmlsec1 is the independent implementation: it checks the SignatureValue, the two SignedInfo references
(IHE manifest, SignedProperties) and the signer's chain up to the test root; with ``--url-map`` it also
dereferences the manifest's ``urn:oid:`` references to the document files and recomputes their digests
(inclusive c14n with comments, processing instructions included) — our digests against its own.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
from lxml import etree

from dmpclient.errors import DmpValidationError
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import TestPki
from dmpclient.security.xades import (
    ManifestReference,
    SubmissionSignatureError,
    SubmissionSigner,
    XadesVersion,
    read_submission_signature,
    verify_submission_signature,
)
from dmpclient.security.xmldsig import DigestAlgorithm, LegacyAlgorithmWarning, SignatureAlgorithm, SoftwareSigner
from dmpclient.xds.submission import document_digest
from tests.feed_samples import cda
from tests.xsd import assert_valid

pytestmark = pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 not installed")

VECTORS = Path(__file__).parent.parent / "vectors" / "feeding"
WHEN = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)
DS = "http://www.w3.org/2000/09/xmldsig#"


def _signer(pki: TestPki, **options: object) -> SubmissionSigner:
    credential = load_pem(pki.org_sign.cert, pki.org_sign.key)
    return SubmissionSigner(SoftwareSigner.from_credential(credential), chain=credential.chain, **options)  # type: ignore[arg-type]


def _documents(tmp_path: Path) -> dict[str, Path]:
    """Two documents on disk: a hand-written CDA with a PI and comments, and a generated one."""
    files = {"1.2.250.1.999.777.1.42": tmp_path / "lab.xml", "1.2.250.1.999.777.1.43": tmp_path / "cr.xml"}
    shutil.copy(VECTORS / "lab_report_device_author.xml", files["1.2.250.1.999.777.1.42"])
    files["1.2.250.1.999.777.1.43"].write_bytes(cda(43))
    return files


def _sign(signer: SubmissionSigner, files: dict[str, Path]) -> bytes:
    references = [
        ManifestReference(uid, document_digest(path, xml=True, algorithm=signer.hash_name))
        for uid, path in files.items()
    ]
    return signer.sign(
        submission_set_unique_id="1.2.250.1.999.777.9", documents=references, signing_time=WHEN, signature_id="sig-1"
    )


def _xmlsec1(signature: Path, pki: TestPki, version: XadesVersion, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        "xmlsec1",
        "--verify",
        "--trusted-pem",
        str(pki.root_ca),
        "--untrusted-pem",
        str(pki.org_ca),
        "--id-attr:Id",
        f"{version.value}:SignedProperties",
        *extra,
        str(signature),
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("version", list(XadesVersion), ids=lambda v: v.name)
def test_xmlsec1_verifies_the_signature_its_chain_and_the_signed_properties(
    version: XadesVersion, pki: TestPki, tmp_path: Path
) -> None:
    signature = tmp_path / "signature.xml"
    signature.write_bytes(_sign(_signer(pki, version=version), _documents(tmp_path)))
    result = _xmlsec1(signature, pki, version, "--ignore-manifests")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "SignedInfo References (ok/all): 2/2" in result.stderr


def test_xmlsec1_recomputes_the_manifest_digests_of_the_documents(pki: TestPki, tmp_path: Path) -> None:
    files = _documents(tmp_path)
    signature = tmp_path / "signature.xml"
    signature.write_bytes(_sign(_signer(pki), files))
    placeholder = tmp_path / "placeholder.bin"  # the submission-set reference designates no bytes (§5.4)
    placeholder.write_bytes(b"-")
    mapped = [f"--url-map:urn:oid:{uid}" for uid in files]
    pairs = [arg for uid_arg, path in zip(mapped, files.values(), strict=True) for arg in (uid_arg, str(path))]
    result = _xmlsec1(
        signature,
        pki,
        XadesVersion.V1_1_1,
        "--store-references",
        "--url-map:urn:oid:1.2.250.1.999.777.9",
        str(placeholder),
        *pairs,
    )
    assert "SignedInfo References (ok/all): 2/2" in result.stderr
    assert "Manifests References (ok/all): 2/3" in result.stderr  # both documents; not the placeholder
    statuses = dict(_reference_statuses(result.stdout))
    assert statuses == {
        "urn:oid:1.2.250.1.999.777.9": "invalid",
        "urn:oid:1.2.250.1.999.777.1.42": "succeeded",
        "urn:oid:1.2.250.1.999.777.1.43": "succeeded",
    }


def _reference_statuses(dump: str) -> list[tuple[str, str]]:
    """(URI, status) of the manifest references in xmlsec1's ``--store-references`` dump."""
    lines, found = dump.splitlines(), []
    for index, line in enumerate(lines):
        if line.startswith('== URI: "urn:oid:'):
            found.append((line.split('"')[1], lines[index - 1].removeprefix("== Status: ").strip()))
    return found


def test_the_signature_validates_against_the_xmldsig_and_xades_1_3_2_schemas(pki: TestPki, tmp_path: Path) -> None:
    root = etree.fromstring(_sign(_signer(pki, version=XadesVersion.V1_3_2), _documents(tmp_path)))
    assert_valid(root, "xmldsig/xmldsig-core-schema.xsd")
    assert_valid(root, "xades/XAdES.xsd")  # ds:Signature, with xades:QualifyingProperties checked (1.3.2)


def test_the_1_1_1_form_differs_from_1_3_2_only_by_its_namespace_and_cert_digest(pki: TestPki, tmp_path: Path) -> None:
    """XAdES 1.1.1 (the DMP example's) has no schema here: mapped to 1.3.2 — the namespace, and CertDigest's
    DigestMethod/DigestValue from xades to ds — it validates; nothing else differs."""
    root = etree.fromstring(_sign(_signer(pki), _documents(tmp_path)))
    assert_valid(root, "xmldsig/xmldsig-core-schema.xsd")
    v111, v132 = XadesVersion.V1_1_1.value, XadesVersion.V1_3_2.value
    cert_digests = root.findall(f".//{{{v111}}}CertDigest/*")
    assert {etree.QName(e).namespace for e in cert_digests} == {v111}
    for element in root.iter():
        qname = etree.QName(element)
        if qname.namespace == v111:
            in_cert_digest = (
                element.getparent() is not None and etree.QName(element.getparent()).localname == "CertDigest"
            )
            element.tag = f"{{{DS if in_cert_digest else v132}}}{qname.localname}"
    etree.cleanup_namespaces(root)
    qualifying = root.find(f".//{{{v132}}}QualifyingProperties")
    assert qualifying is not None
    assert_valid(qualifying, "xades/XAdES.xsd")


def test_the_structure_of_the_dmp_profile(pki: TestPki, tmp_path: Path) -> None:
    root = etree.fromstring(_sign(_signer(pki), _documents(tmp_path)))
    signed_info = root.find(f"{{{DS}}}SignedInfo")
    assert signed_info is not None
    canonical = signed_info.find(f"{{{DS}}}CanonicalizationMethod")
    assert canonical is not None
    assert canonical.get("Algorithm") == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
    types = [reference.get("Type") for reference in signed_info.iter(f"{{{DS}}}Reference")]
    assert types == ["http://www.w3.org/2000/09/xmldsig#Manifest", "http://uri.etsi.org/01903/v1.1.1#SignedProperties"]
    manifest_uris = [r.get("URI") for r in root.iterfind(f".//{{{DS}}}Manifest/{{{DS}}}Reference")]
    assert manifest_uris == [
        "urn:oid:1.2.250.1.999.777.9",
        "urn:oid:1.2.250.1.999.777.1.42",
        "urn:oid:1.2.250.1.999.777.1.43",
    ]
    purpose = root.find(".//SignatureProperty")
    assert purpose is not None
    assert (purpose.get("Id"), purpose.text) == (
        "purposeOfSignature",
        "1.2.840.10065.1.12.1.14",
    )
    certs = root.findall(f".//{{{XadesVersion.V1_1_1.value}}}Cert")
    assert len(certs) == 2  # the signer and its intermediate CA
    assert root.findtext(f".//{{{XadesVersion.V1_1_1.value}}}SigningTime") == "2026-01-15T09:30:00Z"


def test_our_verifier_reads_and_rejects_tampering(pki: TestPki, tmp_path: Path) -> None:
    signed = _sign(_signer(pki), _documents(tmp_path))
    verified = verify_submission_signature(signed)
    assert verified.verified
    assert verified.manifest_unique_ids() >= {"1.2.250.1.999.777.1.42", "1.2.250.1.999.777.1.43"}
    assert read_submission_signature(signed).signing_time == "2026-01-15T09:30:00Z"
    for before, after in (
        (b"urn:oid:1.2.250.1.999.777.1.43", b"urn:oid:1.2.250.1.999.777.1.44"),  # manifest changed
        (b"2026-01-15T09:30:00Z", b"2026-01-16T09:30:00Z"),  # signed properties changed
        (b"<ds:SignatureValue>", b"<ds:SignatureValue>AAAA"),  # signature value changed
        (b'URI="#IHEManifest"', b'URI="#sig-1"'),  # SignedInfo signs something else than the manifest read
    ):
        with pytest.raises(SubmissionSignatureError):
            verify_submission_signature(signed.replace(before, after, 1))


def test_a_card_signs_in_directe(pki: TestPki, tmp_path: Path) -> None:
    """A card signer (DIRECTE, §5.4: the PS's signature certificate) plugs in through the Signer protocol."""
    card = load_pem(pki.ps_sign.cert, pki.ps_sign.key)
    signer = SubmissionSigner(SoftwareSigner.from_credential(card), chain=card.chain)
    signature = tmp_path / "signature.xml"
    signature.write_bytes(_sign(signer, _documents(tmp_path)))
    result = subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(pki.root_ca), "--untrusted-pem", str(pki.personnes_ca),
         "--id-attr:Id", f"{XadesVersion.V1_1_1.value}:SignedProperties", "--ignore-manifests", str(signature)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def test_sha1_reproduces_the_dmp_example_profile_with_a_warning(pki: TestPki, tmp_path: Path) -> None:
    signer = _signer(pki, signature_algorithm=SignatureAlgorithm.RSA_SHA1, digest_algorithm=DigestAlgorithm.SHA1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        signed = _sign(signer, _documents(tmp_path))
    assert any(issubclass(w.category, LegacyAlgorithmWarning) for w in caught)
    assert b"http://www.w3.org/2000/09/xmldsig#rsa-sha1" in signed
    signature = tmp_path / "signature.xml"
    signature.write_bytes(signed)
    assert _xmlsec1(signature, pki, XadesVersion.V1_1_1, "--ignore-manifests").returncode == 0


def test_a_naive_signing_time_or_no_document_is_refused(pki: TestPki) -> None:
    signer = _signer(pki)
    with pytest.raises(DmpValidationError):
        signer.sign(submission_set_unique_id="1.2", documents=[], signing_time=WHEN, signature_id="s")
    with pytest.raises(DmpValidationError):
        signer.sign(
            submission_set_unique_id="1.2",
            documents=[ManifestReference("1.3", b"x")],
            signing_time=WHEN.replace(tzinfo=None),
            signature_id="s",
        )
