"""Verification of a received VIHF, for the mock DMP and ``dmp vihf verify`` (reference §2.12, project design).

:func:`verify_vihf` applies every rule of :class:`~dmpclient.security.vihf_rules.VihfRule` and raises
:class:`~dmpclient.errors.DmpSecurityError` with ``rule`` = the stable rule id and ``dmp_code`` = the DMP-style
fault subcode. Order: size of the assertion, signature and chain, size of every field, Issuer/TLS DN, mode ↔
signing certificate (:mod:`~dmpclient.security.vihf_checks`), times, attribute profile and value sets. The typed
:class:`~dmpclient.security.vihf_model.Vihf` is built from the verified subtree only.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import verification
from lxml import etree
from pydantic import ValidationError

from dmpclient._xml import NS, parse_untrusted
from dmpclient.errors import DmpSecurityError, DmpUnsafeXmlError, DmpValidationError
from dmpclient.ids import validate_ins
from dmpclient.security.credentials import load_certificates
from dmpclient.security.vihf_build import SPECIALTY_MISSING_MESSAGE
from dmpclient.security.vihf_checks import (
    VihfLimits,
    check_assertion_size,
    check_codes,
    check_key_usage,
    check_signer,
    check_structure,
    check_value_sizes,
)
from dmpclient.security.vihf_dn import same_dn
from dmpclient.security.vihf_model import (
    REQUIRED_ATTRIBUTES,
    RESSOURCE_URN,
    VIHF_VERSIONS,
    AuthMode,
    PatientId,
    PurposeOfUse,
    RawAssertion,
    Vihf,
    VihfAttribute,
    find_assertions,
    missing_savoir_faire,
    parse_instant,
    read_assertion,
    vihf_from_raw,
)
from dmpclient.security.vihf_rules import VihfRule, rule_error
from dmpclient.security.xmldsig import (
    DigestAlgorithm,
    SignatureAlgorithm,
    SignatureError,
    VerifiedSignature,
    detached_copy,
    verify_enveloped,
)

__all__ = ["ReplayCache", "VerificationPolicy", "VerifiedVihf", "VihfLimits", "VihfRule", "verify_vihf"]

_ASSERTION: Final = "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"
_SIGNATURE_TAG: Final = "{http://www.w3.org/2000/09/xmldsig#}Signature"


class ReplayCache:
    """Thread-safe set of recently seen ``Assertion/@ID`` values, each kept for ``ttl`` (AIR single use)."""

    def __init__(self, *, ttl: dt.timedelta = dt.timedelta(minutes=5), max_entries: int = 100_000) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._expiry: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def check_and_add(self, key: str, *, now: dt.datetime, expires_at: dt.datetime | None = None) -> bool:
        """Record ``key`` until ``now + ttl`` (or ``expires_at`` if later); False if it is a replay."""
        with self._lock:
            expiry = self._expiry.get(key)
            if expiry is not None and expiry > now:
                return False
            self._expiry.pop(key, None)
            self._purge(now)
            self._expiry[key] = max(now + self._ttl, expires_at or now)
            return True

    def _purge(self, now: dt.datetime) -> None:
        """At the bound, drop expired entries, then the oldest ones (insertion order = expiry order)."""
        if len(self._expiry) < self._max:
            return
        for key in [k for k, expiry in self._expiry.items() if expiry <= now]:
            del self._expiry[key]
        while len(self._expiry) >= self._max:
            del self._expiry[next(iter(self._expiry))]


class _ChainCache:
    """Chains already verified, per signing certificate and presented intermediates.

    A structure signs every VIHF with the same certificate, so building and checking its chain on every
    request is wasted work. A hit is honoured only while every certificate of the verified chain is
    valid and for at most ``ttl`` (trust anchors are fixed per policy; there is no revocation checking).
    """

    def __init__(self, *, ttl: dt.timedelta = dt.timedelta(minutes=10), max_entries: int = 1024) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[bytes, tuple[dt.datetime, dt.datetime]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(certificate: x509.Certificate, presented: tuple[x509.Certificate, ...]) -> bytes:
        return b"".join(c.fingerprint(hashes.SHA256()) for c in (certificate, *presented))

    def hit(self, key: bytes, now: dt.datetime) -> bool:
        with self._lock:
            window = self._entries.get(key)
        return window is not None and window[0] <= now <= window[1]

    def add(self, key: bytes, chain: list[x509.Certificate], now: dt.datetime) -> None:
        valid_from = max(c.not_valid_before_utc for c in chain)
        valid_until = min([now + self._ttl, *(c.not_valid_after_utc for c in chain)])
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = (valid_from, valid_until)


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    """What :func:`verify_vihf` enforces; every knob of §2.12 is here.

    Attributes:
        trust_anchors: trusted root (or pinned) CA certificates.
        intermediates: untrusted intermediates used to build the chain (e.g. the ORGANISATIONS CA).
        require_signature: False accepts unsigned VIHFs (test switch; the official TD examples are unsigned).
        clock_skew: IssueInstant window outside AIR (past and future).
        air_max_age: maximum age of an AIR token (EX_AIR-040).
        air_clock_skew: future tolerance for AIR tokens (kept small, or a future-dated token would outlive 30 s).
        replay_cache: AIR single-use memory (None disables the replay check).
        check_issuer_dn: Issuer must equal the signing certificate DN.
        check_tls_subject: when a TLS client DN is given, it must equal the signing certificate DN.
        check_ins_key: validate the INS control key of the resource-id (public test data has wrong keys).
        check_structure_ou: in INDIRECTE/AIR, ``Identifiant_Structure`` must equal the signing certificate's ``OU``
            (true of every official example, §1.4/§2.7 — a structure cannot speak for another).
        check_signer_kind: the mode must agree with the signing certificate: DIRECTE = the card holder's
            personal signature certificate (``CN`` = ``NameID``), INDIRECTE/AIR = an organisation certificate.
        limits: size bounds of the assertion and of every field.
        min_rsa_bits: smallest RSA key accepted for the signing certificate.
        expected_mode: refuse any other ``Authentification_mode``.
        required_attributes: mandatory attributes per mode (default: §2.7).
    """

    trust_anchors: tuple[x509.Certificate, ...] = ()
    intermediates: tuple[x509.Certificate, ...] = ()
    require_signature: bool = True
    clock_skew: dt.timedelta = dt.timedelta(minutes=5)
    air_max_age: dt.timedelta = dt.timedelta(seconds=30)
    air_clock_skew: dt.timedelta = dt.timedelta(seconds=5)
    replay_cache: ReplayCache | None = field(default_factory=ReplayCache)
    check_issuer_dn: bool = True
    check_tls_subject: bool = True
    check_ins_key: bool = True
    check_structure_ou: bool = True
    check_signer_kind: bool = True
    limits: VihfLimits = field(default_factory=VihfLimits)
    min_rsa_bits: int = 2048
    expected_mode: AuthMode | None = None
    allowed_signature_algorithms: frozenset[SignatureAlgorithm] = frozenset(SignatureAlgorithm)
    allowed_digest_algorithms: frozenset[DigestAlgorithm] = frozenset(DigestAlgorithm)
    required_attributes: Mapping[AuthMode, frozenset[VihfAttribute]] = field(
        default_factory=lambda: dict(REQUIRED_ATTRIBUTES)
    )
    vihf_versions: frozenset[str] = VIHF_VERSIONS
    max_chain_depth: int = 4
    _store: verification.Store | None = field(init=False, repr=False, compare=False, default=None)
    _chains: _ChainCache = field(init=False, repr=False, compare=False, default_factory=_ChainCache)

    def __post_init__(self) -> None:
        store = verification.Store(list(self.trust_anchors)) if self.trust_anchors else None
        object.__setattr__(self, "_store", store)

    @classmethod
    def from_ca_file(cls, path: Path | str, **options: object) -> VerificationPolicy:
        """Trust the self-signed certificates of a PEM bundle; the others become intermediates."""
        certificates = load_certificates(path)
        roots = tuple(c for c in certificates if c.issuer == c.subject)
        others = tuple(c for c in certificates if c.issuer != c.subject)
        return cls(trust_anchors=roots, intermediates=others, **options)  # type: ignore[arg-type]

    def chain_verifier(self, now: dt.datetime) -> verification.ClientVerifier | None:
        """A verifier with explicit policies: CA rules as Web PKI, end entity unconstrained (no EKU/KU rule,
        so IGC-Santé ORG certificates with clientAuth or emailProtection EKU both pass)."""
        if self._store is None:
            return None
        return (
            verification.PolicyBuilder()
            .store(self._store)
            .time(now)
            .max_chain_depth(self.max_chain_depth)
            .extension_policies(
                ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                ee_policy=verification.ExtensionPolicy.permit_all(),
            )
            .build_client_verifier()
        )


@dataclass(frozen=True, slots=True)
class VerifiedVihf:
    """A VIHF that passed :func:`verify_vihf`: the typed model (from the verified subtree) and how it was signed.

    ``certificate`` and the algorithms are None only when the policy accepted an unsigned VIHF.
    """

    vihf: Vihf
    certificate: x509.Certificate | None
    signature_algorithm: SignatureAlgorithm | None
    digest_algorithm: DigestAlgorithm | None


def _locate(root: etree._Element) -> etree._Element:
    """The one assertion: ``root`` itself or its only descendant assertion; nesting or duplicates is XSW.

    In a SOAP envelope only ``Header/wsse:Security`` counts (an assertion elsewhere is not the VIHF).
    """
    if etree.QName(root).localname == "Envelope":
        holders = root.findall(f"{{*}}Header/{{{NS['wsse']}}}Security")
        candidates = [found for holder in holders for found in find_assertions(holder)]
    else:
        candidates = find_assertions(root)
    if not candidates:
        raise rule_error(VihfRule.MALFORMED, "no saml2:Assertion found")
    if len(candidates) > 1 or any(True for _ in candidates[0].iterdescendants(_ASSERTION)):
        raise rule_error(VihfRule.WRAPPED_ASSERTION, "more than one saml2:Assertion (signature wrapping refused)")
    return candidates[0]


def _check_certificate(signed: VerifiedSignature, policy: VerificationPolicy, now: dt.datetime) -> None:
    certificate = signed.certificate
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise rule_error(VihfRule.CERTIFICATE_EXPIRED, "the signing certificate is not valid at this time")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey) or public_key.key_size < policy.min_rsa_bits:
        raise rule_error(
            VihfRule.CERTIFICATE_WEAK_KEY, f"the signing key must be RSA of at least {policy.min_rsa_bits} bits"
        )
    try:
        is_ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if is_ca:
        raise rule_error(VihfRule.CERTIFICATE_NOT_END_ENTITY, "the signing certificate is a CA certificate")
    check_key_usage(certificate)
    key = _ChainCache.key(certificate, tuple(signed.extra_certificates))
    if policy._chains.hit(key, now):
        return
    verifier = policy.chain_verifier(now)
    if verifier is None:
        raise rule_error(VihfRule.CERTIFICATE_UNTRUSTED, "no trusted CA is configured")
    try:
        verified = verifier.verify(certificate, [*signed.extra_certificates, *policy.intermediates])
    except verification.VerificationError:
        raise rule_error(
            VihfRule.CERTIFICATE_UNTRUSTED, "the signing certificate does not chain to a trusted CA"
        ) from None
    policy._chains.add(key, verified.chain, now)


def _check_identity(raw: RawAssertion, signed: VerifiedSignature, policy: VerificationPolicy, tls: str | None) -> None:
    subject = signed.certificate.subject
    if policy.check_issuer_dn and not same_dn(raw.issuer or "", subject):
        raise rule_error(VihfRule.ISSUER_MISMATCH, "Issuer is not the DN of the signing certificate")
    if policy.check_tls_subject and tls is not None and not same_dn(tls, subject):
        raise rule_error(VihfRule.TLS_SUBJECT_MISMATCH, "the TLS client DN is not the DN of the signing certificate")


def _mode(raw: RawAssertion, policy: VerificationPolicy) -> AuthMode | None:
    value = raw.strings(VihfAttribute.AUTHENTIFICATION_MODE)
    if not value:
        return None
    try:
        mode = AuthMode(value[0].strip().upper())
    except ValueError:
        raise rule_error(VihfRule.AUTH_MODE, f"unknown Authentification_mode {value[0]!r}") from None
    if policy.expected_mode is not None and mode is not policy.expected_mode:
        raise rule_error(
            VihfRule.AUTH_MODE, f"Authentification_mode {mode.value} where {policy.expected_mode.value} is expected"
        )
    return mode


def _check_times(raw: RawAssertion, mode: AuthMode | None, policy: VerificationPolicy, now: dt.datetime) -> None:
    try:
        issued = parse_instant(raw.issue_instant or "")
    except ValueError:
        raise rule_error(VihfRule.MALFORMED, "IssueInstant is not an xs:dateTime") from None
    future_skew = policy.air_clock_skew if mode is AuthMode.AIR else policy.clock_skew
    if issued > now + future_skew:
        raise rule_error(VihfRule.ISSUE_INSTANT_FUTURE, f"IssueInstant is more than {future_skew} in the future")
    if mode is AuthMode.AIR and now - issued > policy.air_max_age:
        raise rule_error(VihfRule.AIR_TOKEN_EXPIRED, f"an AIR VIHF lives {policy.air_max_age.total_seconds():g} s")
    if mode is not AuthMode.AIR and now - issued > policy.clock_skew:
        raise rule_error(VihfRule.ISSUE_INSTANT_STALE, f"IssueInstant is older than {policy.clock_skew}")


def _check_profile(raw: RawAssertion, mode: AuthMode | None, policy: VerificationPolicy) -> None:
    """Attribute rules of §2.7–§2.9 and §2.12 (4–7)."""
    required = policy.required_attributes.get(mode, frozenset()) if mode else {VihfAttribute.AUTHENTIFICATION_MODE}
    for name in sorted(required):
        if not raw.attributes.get(name):
            raise rule_error(VihfRule.MISSING_ATTRIBUTE, f"mandatory attribute {name} is missing")
    if mode is AuthMode.AIR and not raw.authn_context_decl:
        raise rule_error(
            VihfRule.AIR_AUTHN_CONTEXT_DECL, "AuthnContextDecl (primary authentication) is required in AIR"
        )
    version = raw.first(VihfAttribute.VIHF_VERSION)
    if version is not None and version not in policy.vihf_versions:
        raise rule_error(
            VihfRule.VIHF_VERSION, f"VIHF_Version {version!r} is not one of {sorted(policy.vihf_versions)}"
        )
    urn = raw.first(VihfAttribute.RESSOURCE_URN)
    if urn is not None and urn != RESSOURCE_URN:
        raise rule_error(VihfRule.RESSOURCE_URN, f"Ressource_URN must be {RESSOURCE_URN}")
    check_codes(raw)
    if missing_savoir_faire(raw.coded(VihfAttribute.ROLE)):
        raise rule_error(VihfRule.SPECIALTY_REQUIRED, SPECIALTY_MISSING_MESSAGE)
    purposes = raw.attributes.get(VihfAttribute.PURPOSE_OF_USE, [])
    if len(purposes) > 1:
        raise rule_error(VihfRule.PURPOSE_COUNT, f"exactly one purposeofuse is allowed, got {len(purposes)}")
    codes = [p.code for p in raw.coded(VihfAttribute.PURPOSE_OF_USE)]
    if purposes and (not codes or codes[0] not in set(PurposeOfUse)):
        raise rule_error(VihfRule.PURPOSE_UNKNOWN, f"purposeofuse must be one of {', '.join(PurposeOfUse)}")
    _check_resource(raw, policy)


def _check_resource(raw: RawAssertion, policy: VerificationPolicy) -> None:
    values = raw.attributes.get(VihfAttribute.RESOURCE_ID, [])
    if not values:
        return
    try:
        if len(values) != 1 or not isinstance(values[0], str):
            raise DmpValidationError("one CX value expected")
        validate_ins(PatientId.from_cx(values[0]).ins, check_key=policy.check_ins_key)
    except (DmpValidationError, ValidationError):  # never echo the INS
        raise rule_error(
            VihfRule.RESOURCE_ID, "resource-id is not a valid INS in CX form (INS^^^&OID&ISO^NH)"
        ) from None


def verify_vihf(
    assertion: etree._Element | bytes,
    policy: VerificationPolicy,
    *,
    now: dt.datetime,
    tls_client_subject: str | None = None,
) -> VerifiedVihf:
    """Verify a VIHF (element or bytes; an envelope or ``wsse:Security`` holding exactly one assertion is fine).

    Raises:
        DmpSecurityError: ``rule`` is a :class:`VihfRule` value, ``dmp_code`` its fault subcode; any other
            failure on hostile input is reported as rule ``malformed``.
        DmpValidationError: ``now`` is naive.
    """
    if now.tzinfo is None:
        raise DmpValidationError("now: give an aware datetime (UTC)", field="now")
    try:
        return _verify(assertion, policy, now, tls_client_subject)
    except DmpSecurityError:
        raise
    except Exception as exc:  # hostile input must never escape as anything but a security error
        raise rule_error(VihfRule.MALFORMED, f"unreadable assertion ({type(exc).__name__})") from None


def _verify(
    assertion: etree._Element | bytes, policy: VerificationPolicy, now: dt.datetime, tls_client_subject: str | None
) -> VerifiedVihf:
    try:
        root = parse_untrusted(assertion, strict=True) if isinstance(assertion, bytes) else assertion
    except DmpUnsafeXmlError as exc:
        raise rule_error(VihfRule.MALFORMED, exc.message) from None
    element = _locate(root)
    check_assertion_size(element, policy.limits)
    signed: VerifiedSignature | None = None
    if policy.require_signature or any(child.tag == _SIGNATURE_TAG for child in element):
        try:
            signed = verify_enveloped(
                element,
                allowed_signature_algorithms=policy.allowed_signature_algorithms,
                allowed_digest_algorithms=policy.allowed_digest_algorithms,
            )
        except SignatureError as exc:
            raise rule_error(VihfRule(exc.failure.value), exc.message) from None
        _check_certificate(signed, policy, now)
    raw = read_assertion(signed.signed if signed else detached_copy(element))
    check_value_sizes(raw, policy.limits)
    if signed is not None:
        _check_identity(raw, signed, policy, tls_client_subject)
    mode = _mode(raw, policy)
    if signed is not None and policy.check_signer_kind:
        check_signer(raw, signed.certificate, mode)
    if signed is not None and policy.check_structure_ou:
        check_structure(raw, signed.certificate, mode)
    _check_times(raw, mode, policy, now)
    _check_profile(raw, mode, policy)
    try:
        vihf = vihf_from_raw(raw)
    except (ValueError, DmpValidationError) as exc:
        raise rule_error(
            VihfRule.MALFORMED, f"the assertion does not fit the VIHF model ({type(exc).__name__})"
        ) from None
    cache = policy.replay_cache if mode is AuthMode.AIR else None
    last_use = vihf.issue_instant + policy.air_max_age
    if cache is not None and not cache.check_and_add(vihf.assertion_id, now=now, expires_at=last_use):
        raise rule_error(VihfRule.REPLAY, "this AIR VIHF was already used (single use)")
    return VerifiedVihf(
        vihf=vihf,
        certificate=signed.certificate if signed else None,
        signature_algorithm=signed.signature_algorithm if signed else None,
        digest_algorithm=signed.digest_algorithm if signed else None,
    )
