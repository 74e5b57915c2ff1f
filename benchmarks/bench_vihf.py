"""VIHF build+sign and verify, each against one raw RSA-2048 PKCS#1 v1.5 SHA-256 signature of the same run.

Targets (issue "VIHF: build, sign, inspect and verify"): build+sign ≤ 3× one raw signature (the fast engine:
lxml exc-c14n + one RSA operation); verify ≤ 2 ms (lean exc-c14n + RSA verify + chain + every rule). The
signxml engine is reported for comparison. The test PKI is generated in a temporary directory.
"""

from __future__ import annotations

import datetime as dt
import tempfile

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from benchmarks._harness import Result, median_seconds
from dmpclient.ids import InsOid
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import init_test_pki
from dmpclient.security.verify import VerificationPolicy, verify_vihf
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

RAW = "raw RSA-2048 PKCS#1 v1.5 SHA-256 signature"


def run(quick: bool) -> list[Result]:
    """Measure build+sign (fast and signxml engines) and verify of an AIR VIHF."""
    repeat, number = (5, 20) if quick else (9, 100)
    with tempfile.TemporaryDirectory() as directory:
        pki = init_test_pki(directory)
        credential = load_pem(pki.org_sign.cert, pki.org_sign.key)
        policy = VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None)  # the same token, verified again
    signer = SoftwareSigner.from_credential(credential)
    actor = Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26")
    structure = Structure.of("10B0127189", "SA01")
    lps = LpsIdentity(nom="DMPCLIENT BENCH", version="1.0", homologation="BCO-465897-tmp2")
    patient = PatientId(ins="207058575627097", oid=InsOid.TEST)
    now = dt.datetime.now(dt.UTC)

    def build_and_sign(engine: str = "fast") -> bytes:
        request = VihfRequest(mode=AuthMode.AIR, actor=actor, structure=structure, lps=lps, now=now, patient=patient)
        vihf = build_vihf(request, signer)
        return sign_vihf(vihf, signer, engine=engine)  # type: ignore[arg-type]

    signed_info_sized = b"<ds:SignedInfo>" + b"x" * 900
    raw = median_seconds(
        lambda: credential.private_key.sign(signed_info_sized, padding.PKCS1v15(), hashes.SHA256()),
        repeat=repeat,
        number=number,
    )
    fast = median_seconds(build_and_sign, repeat=repeat, number=number)
    general = median_seconds(lambda: build_and_sign("signxml"), repeat=repeat, number=max(number // 4, 5))
    token = build_and_sign()
    verify = median_seconds(lambda: verify_vihf(token, policy, now=now), repeat=repeat, number=number)
    ms = 1000.0
    return [
        Result("vihf raw RSA-2048 signature (baseline)", raw * ms, "ms"),
        Result("vihf build+sign AIR (fast engine)", fast * ms, "ms", RAW, raw * ms, "<= 3x"),
        Result("vihf build+sign AIR (signxml engine)", general * ms, "ms", RAW, raw * ms, "info"),
        Result("vihf verify AIR (signature, chain, all rules)", verify * ms, "ms", RAW, raw * ms, "<= 2 ms"),
    ]
