"""XAdES "signature du lot" of a TD2.1 submission (reference §5.4; IHE Document Digital Signature).

One enveloping ``ds:Signature`` per submission, sent as the signature entry's document (§5.3)::

    ds:Signature @Id
      ds:SignedInfo            c14n#WithComments, RSA (SHA-256 by default), two references:
        #IHEManifest           Type …xmldsig#Manifest
        #{SignedProperties}    Type …/01903/v1.1.1#SignedProperties (or …/01903#SignedProperties in 1.3.2)
      ds:SignatureValue, ds:KeyInfo/ds:X509Data/ds:X509Certificate (the signer)
      ds:Object/ds:Manifest @Id=IHEManifest
        ds:Reference urn:oid:{submission set uniqueId}   placeholder digest (as the DMP example)
        ds:Reference urn:oid:{document uniqueId} ×n      C14N#WithComments transform, digest of the document
      ds:Object/ds:SignatureProperties/ds:SignatureProperty @Id=purposeOfSignature  1.2.840.10065.1.12.1.14
      ds:Object/xades:QualifyingProperties @Target
        xades:SignedProperties: SigningTime, SigningCertificate (signer + chain: digest, issuer, serial),
                                SignaturePolicyImplied; empty SignedDataObjectProperties

**XAdES version (decision).** The official DMP example and the integrators' builders use XAdES v1.1.1
(``http://uri.etsi.org/01903/v1.1.1#``), where ``CertDigest`` holds ``xades:DigestMethod`` /
``xades:DigestValue``; :attr:`XadesVersion.V1_1_1` is the default because it is what the DMP is known to
accept. :attr:`XadesVersion.V1_3_2` (the current ETSI edition, the one of ``shared/schemas/xades``) writes
``ds:DigestMethod`` / ``ds:DigestValue`` and the version-less SignedProperties type; both are tested (1.3.2
against the XSD, 1.1.1 against the same XSD once its two known differences are mapped).

``SignatureProperties`` is written in no namespace, as in the DMP example: the purpose is text, and an
XML-DSig ``ds:SignatureProperty`` must hold an element (its schema), so the ``ds`` form would not validate;
inside ``ds:Object`` a no-namespace element is accepted (lax wildcard). Signing goes through the
:class:`~.xmldsig.Signer` protocol (ORG SIGN in software, or a card in DIRECTE): lxml computes the
canonical forms, the signer only signs the canonical ``SignedInfo``. :func:`verify_submission_signature`
is the mock's verifier.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from dmpclient._xml import parse_untrusted
from dmpclient.errors import DmpSecurityError, DmpValidationError
from dmpclient.security.xmldsig import DS, DigestAlgorithm, LegacyAlgorithmWarning, SignatureAlgorithm, Signer

__all__ = [
    "C14N_WITH_COMMENTS",
    "IHE_MANIFEST_ID",
    "PURPOSE_OF_SIGNATURE",
    "ManifestEntry",
    "ManifestReference",
    "SubmissionSignature",
    "SubmissionSignatureError",
    "SubmissionSigner",
    "XadesVersion",
    "read_submission_signature",
    "verify_submission_signature",
]

C14N: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_WITH_COMMENTS: Final = C14N + "#WithComments"
_EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
_CANONICAL: Final = {
    C14N: (False, False),
    C14N_WITH_COMMENTS: (False, True),
    _EXC_C14N: (True, False),
    _EXC_C14N + "WithComments": (True, True),
}
MANIFEST_TYPE: Final = f"{DS}Manifest"
IHE_MANIFEST_ID: Final = "IHEManifest"
#: ``SignatureProperty purposeOfSignature``: ISO 17090 "Source" (the author's signature, IHE DSG).
PURPOSE_OF_SIGNATURE: Final = "1.2.840.10065.1.12.1.14"
#: Digest of the submission-set reference, which designates no bytes (the DMP example writes ``AA==``).
_PLACEHOLDER: Final = b"\x00"
_HASH_NAMES: Final = {
    DigestAlgorithm.SHA1: "sha1",
    DigestAlgorithm.SHA256: "sha256",
    DigestAlgorithm.SHA384: "sha384",
    DigestAlgorithm.SHA512: "sha512",
}
_SIGNATURE_HASHES: Final = {
    SignatureAlgorithm.RSA_SHA1: "sha1",
    SignatureAlgorithm.RSA_SHA256: "sha256",
    SignatureAlgorithm.RSA_SHA384: "sha384",
    SignatureAlgorithm.RSA_SHA512: "sha512",
}


class XadesVersion(StrEnum):
    """The XAdES namespace written (see the module notes for the choice)."""

    V1_1_1 = "http://uri.etsi.org/01903/v1.1.1#"
    V1_3_2 = "http://uri.etsi.org/01903/v1.3.2#"

    @property
    def signed_properties_type(self) -> str:
        """``Reference/@Type`` of the SignedProperties reference."""
        return (
            f"{self.value}SignedProperties"
            if self is XadesVersion.V1_1_1
            else "http://uri.etsi.org/01903#SignedProperties"
        )

    @property
    def cert_digest_namespace(self) -> str:
        """Namespace of ``CertDigest``'s DigestMethod / DigestValue (XAdES in 1.1.1, XML-DSig in 1.3.2)."""
        return self.value if self is XadesVersion.V1_1_1 else DS


@dataclass(frozen=True, slots=True)
class ManifestReference:
    """One reference of the IHE manifest: a document uniqueId and the digest of its bytes (§5.4)."""

    unique_id: str
    digest: bytes

    @property
    def uri(self) -> str:
        return f"urn:oid:{self.unique_id}"


def _c14n(element: etree._Element, algorithm: str = C14N) -> bytes:
    exclusive, comments = _CANONICAL[algorithm]
    return etree.tostring(element, method="c14n", exclusive=exclusive, with_comments=comments)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _ds(parent: etree._Element, local: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{DS}}}{local}", attributes)
    element.text = text
    return element


def _digest_element(parent: etree._Element, namespace: str, algorithm: DigestAlgorithm, digest: bytes) -> None:
    etree.SubElement(parent, f"{{{namespace}}}DigestMethod", Algorithm=algorithm.value)
    etree.SubElement(parent, f"{{{namespace}}}DigestValue").text = _b64(digest)


@dataclass(frozen=True, slots=True)
class SubmissionSigner:
    """Signs submissions with one key: a :class:`~.xmldsig.Signer` and the certificates above it.

    Attributes:
        signer: ORG SIGN (INDIRECTE) or a card signer (DIRECTE), the VIHF's signer (§5.4).
        chain: the intermediate (and root) certificates listed in ``SigningCertificate`` after the signer.
        signature_algorithm / digest_algorithm: SHA-256 by default; SHA-1 reproduces the DMP example.
        version: the XAdES namespace (v1.1.1 by default, see the module notes).
    """

    signer: Signer
    chain: tuple[x509.Certificate, ...] = ()
    signature_algorithm: SignatureAlgorithm = SignatureAlgorithm.RSA_SHA256
    digest_algorithm: DigestAlgorithm = DigestAlgorithm.SHA256
    version: XadesVersion = XadesVersion.V1_1_1

    @property
    def hash_name(self) -> str:
        """The :mod:`hashlib` name of the digest algorithm (for the manifest digests)."""
        return _HASH_NAMES[self.digest_algorithm]

    def sign(
        self,
        *,
        submission_set_unique_id: str,
        documents: Sequence[ManifestReference],
        signing_time: dt.datetime,
        signature_id: str,
    ) -> bytes:
        """The signature document of one submission (UTF-8 XML, no declaration).

        Raises:
            DmpValidationError: no document, or a naive signing time.
        """
        if not documents:
            raise DmpValidationError("a submission signature needs at least one document", field="documents")
        if signing_time.tzinfo is None:
            raise DmpValidationError("signing_time: give an aware datetime (UTC)", field="signing_time")
        if SignatureAlgorithm.RSA_SHA1 is self.signature_algorithm or DigestAlgorithm.SHA1 is self.digest_algorithm:
            message = "SHA-1 submission signature requested (the DMP example's profile; SHA-256 is the default)"
            warnings.warn(message, LegacyAlgorithmWarning, stacklevel=2)
        signature = etree.Element(f"{{{DS}}}Signature", Id=signature_id, nsmap={"ds": DS})
        signed_info = _ds(signature, "SignedInfo")
        _ds(signed_info, "CanonicalizationMethod", Algorithm=C14N_WITH_COMMENTS)
        _ds(signed_info, "SignatureMethod", Algorithm=self.signature_algorithm.value)
        value = _ds(signature, "SignatureValue")
        x509_data = _ds(_ds(signature, "KeyInfo"), "X509Data")
        _ds(x509_data, "X509Certificate", _certificate_b64(self.signer.certificate))
        manifest = self._manifest(_ds(signature, "Object"), submission_set_unique_id, documents)
        properties = etree.SubElement(_ds(signature, "Object"), "SignatureProperties")
        purpose = etree.SubElement(properties, "SignatureProperty", Id="purposeOfSignature", Target=f"#{signature_id}")
        purpose.text = PURPOSE_OF_SIGNATURE
        signed_properties = self._qualifying(_ds(signature, "Object"), signature_id, signing_time)
        for target, kind in ((manifest, MANIFEST_TYPE), (signed_properties, self.version.signed_properties_type)):
            reference = _ds(signed_info, "Reference", URI=f"#{target.get('Id')}", Type=kind)
            _digest_element(reference, DS, self.digest_algorithm, hashlib.new(self.hash_name, _c14n(target)).digest())
        canonical = _c14n(signed_info, C14N_WITH_COMMENTS)
        value.text = _b64(self.signer.sign(canonical, self.signature_algorithm))
        return etree.tostring(signature, encoding="utf-8")

    def _manifest(
        self, parent: etree._Element, submission_set: str, documents: Sequence[ManifestReference]
    ) -> etree._Element:
        manifest = _ds(parent, "Manifest", Id=IHE_MANIFEST_ID)
        placeholder = _ds(manifest, "Reference", URI=f"urn:oid:{submission_set}")
        _digest_element(placeholder, DS, self.digest_algorithm, _PLACEHOLDER)
        for document in documents:
            reference = _ds(manifest, "Reference", URI=document.uri)
            _ds(_ds(reference, "Transforms"), "Transform", Algorithm=C14N_WITH_COMMENTS)
            _digest_element(reference, DS, self.digest_algorithm, document.digest)
        return manifest

    def _qualifying(self, parent: etree._Element, signature_id: str, signing_time: dt.datetime) -> etree._Element:
        xades = self.version.value
        qualifying = etree.SubElement(
            parent, f"{{{xades}}}QualifyingProperties", Target=f"#{signature_id}", nsmap={"xades": xades}
        )
        signed = etree.SubElement(qualifying, f"{{{xades}}}SignedProperties", Id=f"{signature_id}-signed-properties")
        signature_properties = etree.SubElement(signed, f"{{{xades}}}SignedSignatureProperties")
        etree.SubElement(signature_properties, f"{{{xades}}}SigningTime").text = (
            signing_time.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        )
        certificates = etree.SubElement(signature_properties, f"{{{xades}}}SigningCertificate")
        for certificate in (self.signer.certificate, *self.chain):
            cert = etree.SubElement(certificates, f"{{{xades}}}Cert")
            der = certificate.public_bytes(serialization.Encoding.DER)
            _digest_element(
                etree.SubElement(cert, f"{{{xades}}}CertDigest"),
                self.version.cert_digest_namespace,
                self.digest_algorithm,
                hashlib.new(self.hash_name, der).digest(),
            )
            issuer_serial = etree.SubElement(cert, f"{{{xades}}}IssuerSerial")
            _ds(issuer_serial, "X509IssuerName", certificate.issuer.rfc4514_string())
            _ds(issuer_serial, "X509SerialNumber", str(certificate.serial_number))
        policy = etree.SubElement(signature_properties, f"{{{xades}}}SignaturePolicyIdentifier")
        etree.SubElement(policy, f"{{{xades}}}SignaturePolicyImplied")
        etree.SubElement(signed, f"{{{xades}}}SignedDataObjectProperties")
        return signed


def _certificate_b64(certificate: x509.Certificate) -> str:
    return _b64(certificate.public_bytes(serialization.Encoding.DER))


# --- reading and verifying (the mock) -------------------------------------------------------------


class SubmissionSignatureError(DmpSecurityError):
    """A submission signature is malformed or does not verify (the mock answers XDSRegistryMetadataError)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"submission signature: {message}", rule="submission_signature")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One manifest reference as read: URI, hashlib name of its digest algorithm, digest."""

    uri: str
    hash_name: str | None
    digest: bytes


@dataclass(frozen=True, slots=True)
class SubmissionSignature:
    """What a submission signature says (read, or verified when :attr:`verified`)."""

    signature_id: str
    manifest: tuple[ManifestEntry, ...]
    certificate: x509.Certificate | None
    signing_time: str | None
    version: str | None
    verified: bool = False

    def manifest_unique_ids(self) -> set[str]:
        """The uniqueIds the manifest names (``urn:oid:`` removed)."""
        return {entry.uri.removeprefix("urn:oid:") for entry in self.manifest}


def _find(root: etree._Element, local: str) -> etree._Element | None:
    return root.find(f".//{{{DS}}}{local}")


def _digest_of(reference: etree._Element) -> tuple[str | None, bytes]:
    method = reference.find(f"{{{DS}}}DigestMethod")
    value = reference.findtext(f"{{{DS}}}DigestValue") or ""
    try:
        algorithm = DigestAlgorithm(method.get("Algorithm", "")) if method is not None else None
        digest = base64.b64decode("".join(value.split()), validate=True)
    except (ValueError, binascii.Error):
        raise SubmissionSignatureError("a reference has an unknown digest method or an invalid digest") from None
    return (_HASH_NAMES[algorithm] if algorithm else None), digest


def read_submission_signature(data: bytes) -> SubmissionSignature:
    """Read a submission signature without verifying it (hardened parser).

    Raises:
        DmpUnsafeXmlError: not well-formed, or declaring a DTD.
        SubmissionSignatureError: not a ds:Signature, or without the IHE manifest.
    """
    root = parse_untrusted(data)
    return _read(root)


def _read(root: etree._Element) -> SubmissionSignature:
    if root.tag != f"{{{DS}}}Signature":
        raise SubmissionSignatureError("the signature document is not a ds:Signature")
    manifest = next((m for m in root.iter(f"{{{DS}}}Manifest") if m.get("Id") == IHE_MANIFEST_ID), None)
    if manifest is None:
        raise SubmissionSignatureError(f"no ds:Manifest with Id {IHE_MANIFEST_ID}")
    entries = []
    for reference in manifest.iterchildren(f"{{{DS}}}Reference"):
        hash_name, digest = _digest_of(reference)
        entries.append(ManifestEntry(reference.get("URI", ""), hash_name, digest))
    certificate_text = _find(root, "X509Certificate")
    certificate = None
    if certificate_text is not None:
        try:
            certificate = x509.load_der_x509_certificate(
                base64.b64decode("".join((certificate_text.text or "").split()))
            )
        except ValueError:
            raise SubmissionSignatureError("ds:X509Certificate is not a DER certificate") from None
    signing_time = next(
        (e.text for e in root.iter() if isinstance(e.tag, str) and e.tag.endswith("}SigningTime")), None
    )
    qualifying = next(
        (e for e in root.iter() if isinstance(e.tag, str) and e.tag.endswith("}QualifyingProperties")), None
    )
    version = etree.QName(qualifying).namespace if qualifying is not None else None
    return SubmissionSignature(root.get("Id", ""), tuple(entries), certificate, signing_time, version)


def _by_id(root: etree._Element, identifier: str) -> etree._Element:
    found = [element for element in root.iter() if isinstance(element.tag, str) and element.get("Id") == identifier]
    if len(found) != 1:
        raise SubmissionSignatureError(f"a SignedInfo reference names {len(found)} elements with Id {identifier!r}")
    return found[0]


def _check_reference(root: etree._Element, reference: etree._Element) -> tuple[str, str]:
    """Check one SignedInfo reference's digest; return its ``(URI, Type)``."""
    uri = reference.get("URI", "")
    if not uri.startswith("#"):
        raise SubmissionSignatureError("a SignedInfo reference points outside the signature")
    target = _by_id(root, uri[1:])
    algorithm = C14N
    transforms = reference.find(f"{{{DS}}}Transforms")
    for transform in transforms if transforms is not None else ():
        if transform.get("Algorithm") not in _CANONICAL:
            raise SubmissionSignatureError("a SignedInfo reference uses a transform other than c14n")
        algorithm = transform.get("Algorithm", C14N)
    hash_name, expected = _digest_of(reference)
    if hash_name is None or hashlib.new(hash_name, _c14n(target, algorithm)).digest() != expected:
        raise SubmissionSignatureError(f"the digest of {uri} does not match (the signed content was modified)")
    return uri, reference.get("Type", "")


def verify_submission_signature(data: bytes) -> SubmissionSignature:
    """Verify a submission signature: the SignatureValue with the embedded certificate, the digests of the
    manifest and of the SignedProperties. The manifest's document digests are the caller's to compare
    (:func:`dmpclient.xds.submission.document_digest` with each entry's ``hash_name``); the certificate
    chain is not checked here.

    Raises:
        DmpUnsafeXmlError: not well-formed, or declaring a DTD.
        SubmissionSignatureError: the first rule that failed.
    """
    root = parse_untrusted(data)
    read = _read(root)
    signed_info = root.find(f"{{{DS}}}SignedInfo")
    if signed_info is None or read.certificate is None:
        raise SubmissionSignatureError("no ds:SignedInfo, or no signer certificate in ds:KeyInfo")
    method = signed_info.find(f"{{{DS}}}CanonicalizationMethod")
    canonicalization = method.get("Algorithm", "") if method is not None else ""
    signature_method = signed_info.find(f"{{{DS}}}SignatureMethod")
    try:
        algorithm = SignatureAlgorithm(signature_method.get("Algorithm", "") if signature_method is not None else "")
    except ValueError:
        raise SubmissionSignatureError("unknown SignatureMethod") from None
    if canonicalization not in _CANONICAL:
        raise SubmissionSignatureError("unknown CanonicalizationMethod")
    signed = {_check_reference(root, reference) for reference in signed_info.iterchildren(f"{{{DS}}}Reference")}
    manifest_signed = (f"#{IHE_MANIFEST_ID}", MANIFEST_TYPE) in signed  # the very manifest read, not another one
    if not manifest_signed or not any(kind.endswith("#SignedProperties") for _, kind in signed):
        raise SubmissionSignatureError("SignedInfo must reference the IHE manifest and the SignedProperties")
    public_key = read.certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SubmissionSignatureError("the signer certificate does not hold an RSA key")
    try:
        value = base64.b64decode("".join((root.findtext(f"{{{DS}}}SignatureValue") or "").split()), validate=True)
        public_key.verify(
            value,
            _c14n(signed_info, canonicalization),
            padding.PKCS1v15(),
            _hash_algorithm(_SIGNATURE_HASHES[algorithm]),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        raise SubmissionSignatureError("the SignatureValue does not verify with the signer certificate") from None
    return SubmissionSignature(
        read.signature_id, read.manifest, read.certificate, read.signing_time, read.version, verified=True
    )


_HASH_CLASSES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _hash_algorithm(name: str) -> hashes.HashAlgorithm:
    return _HASH_CLASSES[name]()
