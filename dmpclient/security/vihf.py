"""The VIHF, DMP identity assertion (SAML 2.0, reference §2): model, builders per mode, signing.

One import for callers::

    from dmpclient.security.vihf import Actor, AuthMode, Structure, VihfRequest, build_vihf, sign_vihf

    signer = SoftwareSigner.from_credential(load_pkcs12("org-sign.p12", password))   # once
    request = VihfRequest(mode=AuthMode.AIR,
                          actor=Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26"),
                          structure=Structure.of("10B0127189", "SA01"), lps=lps, now=now,
                          patient=PatientId(ins=ins, oid=InsOid.NIR))
    assertion: bytes = sign_vihf(build_vihf(request, signer), signer)    # grafted verbatim into wsse:Security

Signing goes through the :class:`~dmpclient.security.xmldsig.Signer` protocol (``certificate`` +
``sign(data, algorithm)``), documented in :mod:`dmpclient.security.xmldsig`: :class:`SoftwareSigner` holds an
ORG SIGN key; a PKCS#11 / CPS card signer implements the same two members for DIRECTE mode.

The implementation is split into :mod:`~dmpclient.security.vihf_model` (typed model, XML in/out, profile
constants), :mod:`~dmpclient.security.vihf_build` (builders, signing) and
:mod:`~dmpclient.security.vihf_psc` (Pro Santé Connect UserInfo mapping) and
:mod:`~dmpclient.security.vihf_dn` (Issuer DN). Verification is in :mod:`~dmpclient.security.verify`.
"""

from __future__ import annotations

from dmpclient.security.vihf_build import (
    AIR_SIMPLIFIE,
    SPECIALTY_MISSING_MESSAGE,
    Actor,
    NonPsRole,
    Structure,
    VihfRequest,
    build_vihf,
    new_assertion_id,
    sign_vihf,
)
from dmpclient.security.vihf_dn import certificate_dn
from dmpclient.security.vihf_model import (
    REQUIRED_ATTRIBUTES,
    SECRET_CONNECTION,
    AuthMode,
    AuthnContextClass,
    CodedValue,
    LpsIdentity,
    PatientId,
    PurposeOfUse,
    Vihf,
    VihfAttribute,
    read_assertion,
    vihf_from_raw,
    vihf_to_element,
)
from dmpclient.security.vihf_psc import PscUserInfo, psc_request
from dmpclient.security.xmldsig import DigestAlgorithm, SignatureAlgorithm, Signer, SoftwareSigner

__all__ = [
    "AIR_SIMPLIFIE",
    "REQUIRED_ATTRIBUTES",
    "SECRET_CONNECTION",
    "SPECIALTY_MISSING_MESSAGE",
    "Actor",
    "AuthMode",
    "AuthnContextClass",
    "CodedValue",
    "DigestAlgorithm",
    "LpsIdentity",
    "NonPsRole",
    "PatientId",
    "PscUserInfo",
    "PurposeOfUse",
    "SignatureAlgorithm",
    "Signer",
    "SoftwareSigner",
    "Structure",
    "Vihf",
    "VihfAttribute",
    "VihfRequest",
    "build_vihf",
    "certificate_dn",
    "new_assertion_id",
    "psc_request",
    "read_assertion",
    "sign_vihf",
    "vihf_from_raw",
    "vihf_to_element",
]
