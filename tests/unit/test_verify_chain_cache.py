"""The chain cache of VerificationPolicy: one chain build per signing certificate, never past validity."""

from __future__ import annotations

import datetime as dt

import pytest

from dmpclient.errors import DmpSecurityError
from dmpclient.security.pki import TestPki
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
