"""Enveloped XML-DSig for the VIHF (reference §2.3): sign and verify, the only module importing signxml.

Profile: one ``ds:Signature`` inserted at a given child position of the signed element (right after
``saml2:Issuer`` for the VIHF), exclusive c14n without ``InclusiveNamespaces`` (signxml's PrefixList option
yields signatures that fail verification), exactly one ``Reference URI="#ID"`` with the transforms
enveloped-signature then exc-c14n, RSA PKCS#1 v1.5 with SHA-256 (SHA-1 only as an explicit, warned legacy
option), ``KeyInfo/X509Data/X509Certificate`` = the signing certificate only. Signing returns **bytes**,
serialised once: callers graft them verbatim and never re-serialise the signed subtree.

Two engines produce the same structure. ``"fast"`` (default) computes exc-c14n with lxml and signs with the
:class:`Signer`; ``"signxml"`` delegates to signxml (needs a :class:`SoftwareSigner`, ~3× slower).
:func:`verify_enveloped` is a lean verifier (lxml exc-c14n + cryptography) that enforces the same profile
and returns the *signed subtree* so that callers read nothing else (signature-wrapping safe).

The ``Signer`` protocol (how a PKCS#11 / CPS card signer plugs in, DIRECTE mode)::

    class CardSigner:
        @property
        def certificate(self) -> x509.Certificate:   # the card's *signature* certificate
            ...
        def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
            # RSA PKCS#1 v1.5 signature of ``data`` (the canonical SignedInfo) with the hash of
            # ``algorithm`` (SHA-256 → CKM_SHA256_RSA_PKCS); return the raw signature bytes.
            ...

The key stays where it is (card, HSM, or the object held by :class:`SoftwareSigner`): it is loaded once,
never per call, never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import warnings
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final, Literal, Protocol, TypeVar, runtime_checkable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from dmpclient.errors import DmpSecurityError, DmpUsageError
from dmpclient.security.credentials import Credential

__all__ = [
    "DS",
    "ENVELOPED_SIGNATURE",
    "EXC_C14N",
    "DigestAlgorithm",
    "DsigFailure",
    "LegacyAlgorithmWarning",
    "SignatureAlgorithm",
    "SignatureError",
    "SignatureInfo",
    "Signer",
    "SoftwareSigner",
    "VerifiedSignature",
    "detached_copy",
    "sign_enveloped",
    "signature_info",
    "verify_enveloped",
]

_log = logging.getLogger(__name__)

DS: Final = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED_SIGNATURE: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_DS_SIGNATURE: Final = f"{{{DS}}}Signature"
#: XML whitespace, allowed (and dropped) inside base64 element content.
_XML_SPACE: Final = str.maketrans("", "", " \t\r\n")
_Alg = TypeVar("_Alg", bound=StrEnum)


class SignatureAlgorithm(StrEnum):
    """``SignatureMethod/@Algorithm`` values (RSA PKCS#1 v1.5)."""

    RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    RSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
    RSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
    RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"


class DigestAlgorithm(StrEnum):
    """``DigestMethod/@Algorithm`` values."""

    SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
    SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
    SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"


_SIG_HASH: Final[dict[SignatureAlgorithm, type[hashes.HashAlgorithm]]] = {
    SignatureAlgorithm.RSA_SHA256: hashes.SHA256,
    SignatureAlgorithm.RSA_SHA384: hashes.SHA384,
    SignatureAlgorithm.RSA_SHA512: hashes.SHA512,
    SignatureAlgorithm.RSA_SHA1: hashes.SHA1,
}
_DIGEST_NAME: Final[dict[DigestAlgorithm, str]] = {
    DigestAlgorithm.SHA256: "sha256",
    DigestAlgorithm.SHA384: "sha384",
    DigestAlgorithm.SHA512: "sha512",
    DigestAlgorithm.SHA1: "sha1",
}


class LegacyAlgorithmWarning(UserWarning):
    """A SHA-1 based algorithm was explicitly requested (accepted by old DMP examples, not secure)."""


class DsigFailure(StrEnum):
    """Why :func:`verify_enveloped` refused a signature (each value is also a ``VihfRule`` id)."""

    UNSIGNED = "unsigned"
    SIGNATURE_INVALID = "signature_invalid"
    DIGEST_MISMATCH = "digest_mismatch"
    REFERENCE_COUNT = "reference_count"
    REFERENCE_TARGET = "reference_target"
    TRANSFORM_NOT_ALLOWED = "transform_not_allowed"
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    CERTIFICATE_MISSING = "certificate_missing"


class SignatureError(DmpSecurityError):
    """An XML signature failed one rule of the profile; ``failure`` says which."""

    def __init__(self, failure: DsigFailure, message: str) -> None:
        super().__init__(f"XML signature rejected ({failure.value}): {message}", rule=failure.value)
        self.failure = failure


@runtime_checkable
class Signer(Protocol):
    """Holds a signing certificate and produces RSA PKCS#1 v1.5 signatures (see the module docstring)."""

    @property
    def certificate(self) -> x509.Certificate:
        """The certificate whose key signs (embedded in ``KeyInfo``; its DN is the VIHF ``Issuer``)."""
        ...

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Return the raw RSA PKCS#1 v1.5 signature of ``data`` with the hash of ``algorithm``."""
        ...


class SoftwareSigner:
    """A :class:`Signer` over a private key held in memory (ORG SIGN PEM or PKCS#12), loaded once."""

    __slots__ = ("_certificate", "_key")

    def __init__(self, certificate: x509.Certificate, private_key: rsa.RSAPrivateKey) -> None:
        self._certificate = certificate
        self._key = private_key

    @classmethod
    def from_credential(cls, credential: Credential) -> SoftwareSigner:
        """Use a loaded :class:`~dmpclient.security.credentials.Credential` (``load_pem`` / ``load_pkcs12``)."""
        return cls(credential.certificate, credential.private_key)

    def __repr__(self) -> str:  # never show key material
        return f"SoftwareSigner(subject={self._certificate.subject.rfc4514_string()!r})"

    @property
    def certificate(self) -> x509.Certificate:
        """The signing certificate."""
        return self._certificate

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        """The key object (for the signxml engine); never serialise it."""
        return self._key

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """RSA PKCS#1 v1.5 signature of ``data``."""
        return self._key.sign(data, padding.PKCS1v15(), _SIG_HASH[algorithm]())


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """What :func:`verify_enveloped` established.

    Attributes:
        signed: a detached copy of the element exactly as digested (signature and comments removed);
            read the document from here only.
        certificate: the certificate whose key verified the signature (not yet chain-checked).
        extra_certificates: other certificates found in ``X509Data`` (untrusted intermediates).
    """

    signed: etree._Element
    certificate: x509.Certificate
    extra_certificates: tuple[x509.Certificate, ...]
    signature_algorithm: SignatureAlgorithm
    digest_algorithm: DigestAlgorithm


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """What a signature *claims* (algorithms, embedded certificate), read without verifying it."""

    signature_algorithm: str | None
    digest_algorithm: str | None
    certificate: x509.Certificate | None


# --- signing ------------------------------------------------------------------------------------


def _warn_legacy(signature_algorithm: SignatureAlgorithm, digest_algorithm: DigestAlgorithm) -> None:
    if signature_algorithm is SignatureAlgorithm.RSA_SHA1 or digest_algorithm is DigestAlgorithm.SHA1:
        message = "SHA-1 XML signature requested (legacy DMP compatibility only; SHA-256 is the default)"
        warnings.warn(message, LegacyAlgorithmWarning, stacklevel=3)
        _log.warning(message)


@lru_cache(maxsize=64)
def _certificate_b64(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


def _c14n(element: etree._Element, prefixes: tuple[str, ...] = ()) -> bytes:
    """Exclusive c14n 1.0 without comments, in the element's context (ancestors' namespaces in scope)."""
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes)


def _signature_element(
    reference_id: str,
    digest: bytes,
    signature_algorithm: SignatureAlgorithm,
    digest_algorithm: DigestAlgorithm,
) -> tuple[etree._Element, etree._Element]:
    """A ``ds:Signature`` with its SignedInfo filled in and an empty SignatureValue."""
    ds = f"{{{DS}}}"
    signature = etree.Element(ds + "Signature", nsmap={"ds": DS})
    signed_info = etree.SubElement(signature, ds + "SignedInfo")
    etree.SubElement(signed_info, ds + "CanonicalizationMethod", Algorithm=EXC_C14N)
    etree.SubElement(signed_info, ds + "SignatureMethod", Algorithm=signature_algorithm.value)
    reference = etree.SubElement(signed_info, ds + "Reference", URI=f"#{reference_id}")
    transforms = etree.SubElement(reference, ds + "Transforms")
    etree.SubElement(transforms, ds + "Transform", Algorithm=ENVELOPED_SIGNATURE)
    etree.SubElement(transforms, ds + "Transform", Algorithm=EXC_C14N)
    etree.SubElement(reference, ds + "DigestMethod", Algorithm=digest_algorithm.value)
    etree.SubElement(reference, ds + "DigestValue").text = base64.b64encode(digest).decode("ascii")
    value = etree.SubElement(signature, ds + "SignatureValue")
    return signature, value


def _sign_fast(
    element: etree._Element,
    signer: Signer,
    position: int,
    signature_algorithm: SignatureAlgorithm,
    digest_algorithm: DigestAlgorithm,
    reference_id: str,
) -> bytes:
    digest = hashlib.new(_DIGEST_NAME[digest_algorithm], _c14n(element)).digest()
    signature, value = _signature_element(reference_id, digest, signature_algorithm, digest_algorithm)
    value.text = base64.b64encode(signer.sign(_c14n(signature[0]), signature_algorithm)).decode("ascii")
    x509_data = etree.SubElement(etree.SubElement(signature, f"{{{DS}}}KeyInfo"), f"{{{DS}}}X509Data")
    etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = _certificate_b64(signer.certificate)
    element.insert(position, signature)
    try:
        return etree.tostring(element, encoding="utf-8", with_tail=False)
    finally:
        element.remove(signature)


def _sign_signxml(
    element: etree._Element,
    signer: Signer,
    position: int,
    signature_algorithm: SignatureAlgorithm,
    digest_algorithm: DigestAlgorithm,
    reference_id: str,
) -> bytes:
    from signxml.algorithms import SignatureConstructionMethod  # noqa: PLC0415 - general path only
    from signxml.signer import XMLSigner  # noqa: PLC0415

    if not isinstance(signer, SoftwareSigner):
        raise DmpUsageError("the signxml engine needs a SoftwareSigner (a private key object); use engine='fast'")

    class _ProfileSigner(XMLSigner):
        def check_deprecated_methods(self) -> None:
            """SHA-1 was already opted into explicitly (and warned about) by the caller."""

    copy = etree.fromstring(etree.tostring(element, with_tail=False))
    copy.insert(position, etree.Element(_DS_SIGNATURE, Id="placeholder", nsmap={"ds": DS}))
    xml_signer = _ProfileSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=signature_algorithm.value,
        digest_algorithm=digest_algorithm.value,
        c14n_algorithm=EXC_C14N,
    )
    signed = xml_signer.sign(
        copy, key=signer.private_key, cert=[signer.certificate], reference_uri=f"#{reference_id}", id_attribute="ID"
    )
    for certificate in signed.iter(f"{{{DS}}}X509Certificate"):  # one line, like the fast engine
        certificate.text = "".join((certificate.text or "").split())
    return etree.tostring(signed, encoding="utf-8", with_tail=False)


def sign_enveloped(
    element: etree._Element,
    signer: Signer,
    *,
    position: int,
    id_attribute: str = "ID",
    signature_algorithm: SignatureAlgorithm = SignatureAlgorithm.RSA_SHA256,
    digest_algorithm: DigestAlgorithm = DigestAlgorithm.SHA256,
    engine: Literal["fast", "signxml"] = "fast",
) -> bytes:
    """Sign ``element`` (enveloped, reference ``#@ID``) and return the signed element serialised once.

    Args:
        element: the element to sign; it must carry ``id_attribute``. It is left unchanged.
        position: child index where ``ds:Signature`` goes (1 = right after the VIHF ``saml2:Issuer``).
        signature_algorithm / digest_algorithm: SHA-1 variants are legacy and emit a
            :class:`LegacyAlgorithmWarning`.
        engine: ``"fast"`` (lxml + the signer) or ``"signxml"`` (general path, SoftwareSigner only).

    Returns:
        UTF-8 bytes without XML declaration; graft them verbatim.
    """
    reference_id = element.get(id_attribute)
    if not reference_id:
        raise DmpUsageError(f"the element to sign has no {id_attribute} attribute for the signature reference")
    _warn_legacy(signature_algorithm, digest_algorithm)
    sign = _sign_fast if engine == "fast" else _sign_signxml
    return sign(element, signer, position, signature_algorithm, digest_algorithm, reference_id)


# --- verification -------------------------------------------------------------------------------


def _text(element: etree._Element) -> str:
    return "".join(part for part in element.itertext() if isinstance(part, str))


def _base64(element: etree._Element) -> bytes:
    """A ``ds:CryptoBinary``/``base64Binary`` value, decoded strictly: XML whitespace is allowed between the
    characters, anything else outside the alphabet is refused (as xmlsec1 does), never silently skipped.

    Raises:
        ValueError: not base64.
    """
    return base64.b64decode(_text(element).translate(_XML_SPACE), validate=True)


_LAYOUT: Final = (f"{{{DS}}}SignedInfo", f"{{{DS}}}SignatureValue")
_KEY_INFO: Final = f"{{{DS}}}KeyInfo"
_OBJECT: Final = f"{{{DS}}}Object"


def _check_layout(signature: etree._Element) -> None:
    """``SignedInfo, SignatureValue, KeyInfo?, Object*`` (XML-DSig schema): a second, unsigned ``KeyInfo`` or
    any foreign element is refused, as xmlsec1 does (found by the fuzz differential)."""
    names = [child.tag for child in signature if isinstance(child.tag, str)]
    rest = names[3:] if names[2:3] == [_KEY_INFO] else names[2:]
    if tuple(names[:2]) != _LAYOUT or any(name != _OBJECT for name in rest):
        raise SignatureError(
            DsigFailure.SIGNATURE_INVALID,
            "ds:Signature must hold SignedInfo, SignatureValue, at most one KeyInfo, then only ds:Object",
        )


def _one(parent: etree._Element, local: str, failure: DsigFailure) -> etree._Element:
    found = [child for child in parent if child.tag == f"{{{DS}}}{local}"]
    if len(found) != 1:
        raise SignatureError(failure, f"expected exactly one ds:{local} in ds:{etree.QName(parent).localname}")
    return found[0]


def _prefix_list(method: etree._Element) -> tuple[str, ...]:
    """The ``ec:InclusiveNamespaces/@PrefixList`` of a c14n method or transform (tolerated on input)."""
    for child in method:
        if child.tag == f"{{{EXC_C14N}}}InclusiveNamespaces":
            return tuple((child.get("PrefixList") or "").split())
    return ()


def _algorithm(kind: type[_Alg], value: str | None, allowed: frozenset[_Alg], what: str) -> _Alg:
    try:
        algorithm = kind(value or "")
    except ValueError:
        raise SignatureError(DsigFailure.ALGORITHM_NOT_ALLOWED, f"{what} {value!r} is not supported") from None
    if algorithm not in allowed:
        raise SignatureError(DsigFailure.ALGORITHM_NOT_ALLOWED, f"{what} {value} is not allowed by the policy")
    return algorithm


def _check_transforms(reference: etree._Element) -> tuple[str, ...]:
    """Exactly enveloped-signature then exc-c14n; return the exc-c14n PrefixList (usually empty)."""
    transforms = [t for t in _one(reference, "Transforms", DsigFailure.TRANSFORM_NOT_ALLOWED) if isinstance(t.tag, str)]
    algorithms = [t.get("Algorithm") for t in transforms]
    if algorithms != [ENVELOPED_SIGNATURE, EXC_C14N]:
        raise SignatureError(
            DsigFailure.TRANSFORM_NOT_ALLOWED, f"transforms must be enveloped-signature then exc-c14n, got {algorithms}"
        )
    return _prefix_list(transforms[1])


@lru_cache(maxsize=256)
def _load_certificate(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def _certificates(signature: etree._Element) -> list[x509.Certificate]:
    nodes = signature.findall(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    try:
        certificates = [_load_certificate(_base64(n)) for n in nodes]
    except ValueError:
        raise SignatureError(DsigFailure.CERTIFICATE_MISSING, "ds:X509Certificate is not a DER certificate") from None
    if not certificates:
        raise SignatureError(DsigFailure.CERTIFICATE_MISSING, "no ds:KeyInfo/ds:X509Data/ds:X509Certificate")
    return certificates


def _detached_without(element: etree._Element, signature: etree._Element | None) -> etree._Element:
    """A copy of ``element`` with every in-scope namespace, comments removed, minus ``signature``.

    Serialising keeps the ancestors' namespace declarations (an ``InclusiveNamespaces`` prefix or an
    ``xsi:type`` QName may rely on them); removing the signature keeps its tail text, as the
    enveloped-signature transform requires.
    """
    index = element.index(signature) if signature is not None else -1
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    copy = etree.fromstring(etree.tostring(element, with_tail=False), parser=parser)
    if index >= 0:
        removed = copy[index]
        previous = removed.getprevious()
        if removed.tail:
            if previous is not None:
                previous.tail = (previous.tail or "") + removed.tail
            else:
                copy.text = (copy.text or "") + removed.tail
        copy.remove(removed)
    return copy


def detached_copy(element: etree._Element) -> etree._Element:
    """A comment-free copy of an *unsigned* element, for callers that accept unsigned input."""
    return _detached_without(element, None)


def verify_enveloped(
    element: etree._Element,
    *,
    allowed_signature_algorithms: frozenset[SignatureAlgorithm] = frozenset(SignatureAlgorithm),
    allowed_digest_algorithms: frozenset[DigestAlgorithm] = frozenset(DigestAlgorithm),
    id_attribute: str = "ID",
) -> VerifiedSignature:
    """Verify the enveloped signature that is a direct child of ``element`` (profile in the module docstring).

    Checks: one ``ds:Signature`` child with one ``Reference`` whose URI is ``#`` + ``element/@ID``, exc-c14n,
    allowed algorithms and transforms, the digest of the element without its signature, and the signature value
    with the embedded certificate's key. The certificate chain is the caller's business.

    Raises:
        SignatureError: ``failure`` names the first rule that failed.
    """
    signatures = [child for child in element if child.tag == _DS_SIGNATURE]
    if not signatures:
        raise SignatureError(DsigFailure.UNSIGNED, "no ds:Signature child in the signed element")
    if len(signatures) > 1:
        raise SignatureError(DsigFailure.REFERENCE_COUNT, "more than one ds:Signature in the signed element")
    signature = signatures[0]
    _check_layout(signature)
    signed_info = _one(signature, "SignedInfo", DsigFailure.SIGNATURE_INVALID)
    c14n_method = _one(signed_info, "CanonicalizationMethod", DsigFailure.TRANSFORM_NOT_ALLOWED)
    if c14n_method.get("Algorithm") != EXC_C14N:
        raise SignatureError(DsigFailure.TRANSFORM_NOT_ALLOWED, "CanonicalizationMethod must be exclusive c14n")
    sig_alg = _algorithm(
        SignatureAlgorithm,
        _one(signed_info, "SignatureMethod", DsigFailure.ALGORITHM_NOT_ALLOWED).get("Algorithm"),
        allowed_signature_algorithms,
        "SignatureMethod",
    )
    references = [child for child in signed_info if child.tag == f"{{{DS}}}Reference"]
    if len(references) != 1:
        raise SignatureError(DsigFailure.REFERENCE_COUNT, f"expected exactly one ds:Reference, got {len(references)}")
    reference = references[0]
    own_id = element.get(id_attribute)
    if not own_id or reference.get("URI") != f"#{own_id}":
        raise SignatureError(DsigFailure.REFERENCE_TARGET, "the ds:Reference does not point to the signed element")
    prefixes = _check_transforms(reference)
    digest_alg = _algorithm(
        DigestAlgorithm,
        _one(reference, "DigestMethod", DsigFailure.ALGORITHM_NOT_ALLOWED).get("Algorithm"),
        allowed_digest_algorithms,
        "DigestMethod",
    )
    certificates = _certificates(signature)
    public_key = certificates[0].public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureError(DsigFailure.ALGORITHM_NOT_ALLOWED, "the signing certificate does not hold an RSA key")
    try:
        value = _base64(_one(signature, "SignatureValue", DsigFailure.SIGNATURE_INVALID))
        canonical = _c14n(signed_info, _prefix_list(c14n_method))
        public_key.verify(value, canonical, padding.PKCS1v15(), _SIG_HASH[sig_alg]())
    except (InvalidSignature, ValueError):
        raise SignatureError(DsigFailure.SIGNATURE_INVALID, "the signature value does not verify") from None
    signed = _detached_without(element, signature)
    try:
        expected = _base64(_one(reference, "DigestValue", DsigFailure.DIGEST_MISMATCH))
    except ValueError:
        raise SignatureError(DsigFailure.DIGEST_MISMATCH, "ds:DigestValue is not base64") from None
    actual = hashlib.new(_DIGEST_NAME[digest_alg], _c14n(signed, prefixes)).digest()
    if not hmac.compare_digest(actual, expected):
        raise SignatureError(DsigFailure.DIGEST_MISMATCH, "the signed content was modified (digest mismatch)")
    return VerifiedSignature(signed, certificates[0], tuple(certificates[1:]), sig_alg, digest_alg)


def signature_info(element: etree._Element) -> SignatureInfo | None:
    """Describe the ``ds:Signature`` child of ``element`` for display (``None`` if unsigned); verifies nothing."""
    signature = next((child for child in element if child.tag == _DS_SIGNATURE), None)
    if signature is None:
        return None
    try:
        certificate: x509.Certificate | None = _certificates(signature)[0]
    except SignatureError:
        certificate = None
    ds = f"{{{DS}}}"
    method = signature.find(f"{ds}SignedInfo/{ds}SignatureMethod")
    digest = signature.find(f"{ds}SignedInfo/{ds}Reference/{ds}DigestMethod")
    return SignatureInfo(
        signature_algorithm=method.get("Algorithm") if method is not None else None,
        digest_algorithm=digest.get("Algorithm") if digest is not None else None,
        certificate=certificate,
    )
