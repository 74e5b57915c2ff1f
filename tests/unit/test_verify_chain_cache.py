"""The chain cache of VerificationPolicy: one chain build per signing certificate, never past validity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dmpclient.errors import DmpSecurityError
from dmpclient.security.pki import TestPki, init_test_pki
from dmpclient.security.verify import VerificationPolicy, verify_vihf
from dmpclient.security.vihf import AuthMode, sign_vihf
from tests.unit.vihf_factory import build, now, signer_of


class _CountingPolicy:
    """Wrap chain_verifier to count chain builds."""

    def __init__(self, policy: VerificationPolicy) -> None:
        self.calls = 0
        self.original = policy.chain_verifier

    def __call__(self, when: dt.datetime) -> object:
        self.calls += 1
        return self.original(when)


def test_same_signer_builds_its_chain_once(pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None)
    counter = _CountingPolicy(policy)
    monkeypatch.setattr(VerificationPolicy, "chain_verifier", lambda _self, when: counter(when))
    signer = signer_of(pki.org_sign)
    for _ in range(3):
        when = now()
        verify_vihf(sign_vihf(build(AuthMode.AIR, signer, when), signer), policy, now=when)
    assert counter.calls == 1


def test_a_cached_chain_is_not_honoured_after_the_certificate_expires(pki: TestPki) -> None:
    policy = VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None)
    signer = signer_of(pki.org_sign)
    when = now()
    verify_vihf(sign_vihf(build(AuthMode.INDIRECTE, signer, when), signer), policy, now=when)
    later = signer.certificate.not_valid_after_utc + dt.timedelta(days=1)
    with pytest.raises(DmpSecurityError) as caught:
        verify_vihf(sign_vihf(build(AuthMode.INDIRECTE, signer, later), signer), policy, now=later)
    assert caught.value.rule == "certificate_expired"


def test_an_untrusted_signer_never_hits_the_cache(pki: TestPki, rogue_pki: TestPki) -> None:
    policy = VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None)
    trusted, rogue = signer_of(pki.org_sign), signer_of(rogue_pki.org_sign)
    when = now()
    verify_vihf(sign_vihf(build(AuthMode.INDIRECTE, trusted, when), trusted), policy, now=when)
    with pytest.raises(DmpSecurityError) as caught:
        verify_vihf(sign_vihf(build(AuthMode.INDIRECTE, rogue, when), rogue), policy, now=when)
    assert caught.value.rule == "certificate_untrusted"


# --- rules added after review: structure = certificate OU, key size, CA signer, hostile tails, envelopes ---


def test_a_structure_cannot_speak_for_another(pki: TestPki) -> None:
    from dmpclient.security.vihf import Structure  # noqa: PLC0415

    policy = VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None)
    signer, when = signer_of(pki.org_sign), now()
    other = Structure.of("10B0999999", "SA01")
    for mode in (AuthMode.AIR, AuthMode.INDIRECTE):
        forged = sign_vihf(build(mode, signer, when, structure=other), signer)
        with pytest.raises(DmpSecurityError) as caught:
            verify_vihf(forged, policy, now=when)
        assert caught.value.rule == "structure_mismatch"
        relaxed = VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None, check_structure_ou=False)
        assert verify_vihf(forged, relaxed, now=when).vihf.structure_id == "10B0999999"


def test_weak_signing_keys_are_refused_before_the_chain(tmp_path: Path) -> None:
    weak = init_test_pki(tmp_path / "weak", key_size=1024)
    policy = VerificationPolicy.from_ca_file(weak.ca_bundle, replay_cache=None)
    signer, when = signer_of(weak.org_sign), now()
    with pytest.raises(DmpSecurityError) as caught:
        verify_vihf(sign_vihf(build(AuthMode.INDIRECTE, signer, when), signer), policy, now=when)
    assert caught.value.rule == "certificate_weak_key"
    assert caught.value.dmp_code == "DMPInvalidCertificate"


def test_text_after_the_assertion_is_not_a_crash(pki: TestPki) -> None:
    from lxml import etree  # noqa: PLC0415

    policy = VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None)
    signer, when = signer_of(pki.org_sign), now()
    holder = etree.fromstring(b"<holder/>")
    holder.append(etree.fromstring(sign_vihf(build(AuthMode.INDIRECTE, signer, when), signer)))
    holder[0].tail = "junk"
    assert verify_vihf(holder[0], policy, now=when).vihf.mode is AuthMode.INDIRECTE
    with pytest.raises(DmpSecurityError) as caught:
        verify_vihf(b"<saml2:Assertion xmlns:saml2='urn:oasis:names:tc:SAML:2.0:assertion'/>", policy, now=when)
    assert caught.value.rule in {"unsigned", "malformed"}


def test_in_an_envelope_only_the_security_header_counts(pki: TestPki) -> None:
    from lxml import etree  # noqa: PLC0415

    from dmpclient.soap.envelope import build_request  # noqa: PLC0415

    policy = VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None)
    signer, when = signer_of(pki.org_sign), now()
    assertion = sign_vihf(build(AuthMode.INDIRECTE, signer, when), signer)
    body = etree.fromstring(b"<x:Body xmlns:x='urn:x'/>")
    body.append(etree.fromstring(assertion))
    smuggled = build_request(body, action="urn:a", message_id="urn:uuid:1")
    with pytest.raises(DmpSecurityError) as caught:
        verify_vihf(smuggled, policy, now=when)
    assert caught.value.rule == "malformed"
    proper = build_request(
        etree.fromstring(b"<x:Body xmlns:x='urn:x'/>"), action="urn:a", message_id="urn:uuid:1", assertion=assertion
    )
    assert verify_vihf(proper, policy, now=when).vihf.mode is AuthMode.INDIRECTE


def test_future_dated_air_tokens_cannot_outlive_30_seconds(pki: TestPki) -> None:
    policy = VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None)
    signer, when = signer_of(pki.org_sign), now()
    future = sign_vihf(build(AuthMode.AIR, signer, when + dt.timedelta(minutes=4)), signer)
    with pytest.raises(DmpSecurityError) as caught:
        verify_vihf(future, policy, now=when)
    assert caught.value.rule == "issue_instant_future"
    slightly_ahead = sign_vihf(build(AuthMode.AIR, signer, when + dt.timedelta(seconds=2)), signer)
    assert verify_vihf(slightly_ahead, policy, now=when).vihf.mode is AuthMode.AIR
    indirecte = sign_vihf(build(AuthMode.INDIRECTE, signer, when + dt.timedelta(minutes=4)), signer)
    assert verify_vihf(indirecte, policy, now=when).vihf.mode is AuthMode.INDIRECTE
