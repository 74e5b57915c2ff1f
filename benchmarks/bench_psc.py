"""Pro Santé Connect: ID-token validation and VIHF issuance from a PSC session, as ratios to same-run baselines.

* ID-token validation (key by ``kid``, algorithm from the key, issuer, audience, expiry, nonce, ``acr``)
  against one bare JWS verification (joserfc, RS256, same key and token): the checks' own cost;
* VIHF issuance from a PSC session (work situation → caller identity → AIR VIHF built and signed)
  against the AIR VIHF build+sign of a hand-built caller identity: the cost of PSC mode.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time

from joserfc import jwt
from joserfc.jwk import RSAKey

from benchmarks._harness import Result, median_seconds
from dmpclient.ids import InsOid
from dmpclient.psc import PscClient, PscConfig, PscSession
from dmpclient.psc.flows import SignedIn
from dmpclient.psc.identity import PscIdentity
from dmpclient.psc.protocol import TokenSet
from dmpclient.psc.tokens import ProviderKeys, validate_id_token
from dmpclient.security.credentials import load_pem
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.pki import init_test_pki
from dmpclient.security.vihf import Actor, LpsIdentity, PatientId, SoftwareSigner, Structure

ISSUER = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet"
USERINFO = {
    "sub": "f:0:899900063480",
    "SubjectNameID": "899900063480",
    "given_name": "MAX",
    "family_name": "LIBRE",
    "SubjectRefPro": {
        "exercices": [{"codeProfession": "10", "codeCategorieProfessionnelle": "C", "codeSavoirFaire": "SM26"}]
    },
}


def run(quick: bool) -> list[Result]:
    """Measure the two PSC figures and their baselines."""
    repeat, number = (5, 20) if quick else (9, 200)
    key = RSAKey.generate_key(2048, parameters={"kid": "psc-1", "alg": "RS256"})
    keys = ProviderKeys({"keys": [key.as_dict(private=False)]})
    public = keys.key_for({"kid": "psc-1"})
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "lps", "sub": "f:0:899900063480", "exp": now + 120, "iat": now, "nonce": "n"}
    token = jwt.encode({"alg": "RS256", "kid": "psc-1"}, {**claims, "acr": "eidas1"}, key)

    bare = median_seconds(lambda: jwt.decode(token, public, algorithms=["RS256"]), repeat=repeat, number=number)
    validated = median_seconds(
        lambda: validate_id_token(token, keys, issuer=ISSUER, client_id="lps", nonce="n", now=now),
        repeat=repeat,
        number=number,
    )

    with tempfile.TemporaryDirectory() as directory:
        pki = init_test_pki(directory)
        signer = SoftwareSigner.from_credential(load_pem(pki.org_sign.cert, pki.org_sign.key))
    issuer = VihfIssuer(
        signer,
        structure=Structure.of("10B0127189", "SA01"),
        lps=LpsIdentity(nom="BENCH", version="1", homologation="H"),
    )
    patient = PatientId(ins="207058575627097", oid=InsOid.TEST)
    when = dt.datetime.now(dt.UTC)
    air = CallerIdentity(Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26"))
    config = PscConfig(issuer=ISSUER, client_id="lps", client_secret_env="S")
    client = PscClient(config, env={"S": "s"})
    signed_in = SignedIn(TokenSet("a", 120, "r", 1800, token), str(claims["sub"]), PscIdentity(USERINFO), time.time())
    session = PscSession(client, signed_in)

    air_vihf = median_seconds(lambda: issuer.issue(air, patient, now=when), repeat=repeat, number=number // 4)
    psc_vihf = median_seconds(
        lambda: issuer.issue(session.caller_identity("10C"), patient, now=when),
        repeat=repeat,
        number=number // 4,
    )
    client.close()
    ms = 1000.0
    bare_name, air_name = "bare JWS RS256 verification (joserfc)", "AIR VIHF build+sign"
    return [
        Result("psc bare JWS verification (baseline)", bare * ms, "ms"),
        Result("psc ID token validation (all checks)", validated * ms, "ms", bare_name, bare * ms, "info"),
        Result("psc AIR VIHF build+sign (baseline)", air_vihf * ms, "ms"),
        Result("psc VIHF issuance from a PSC session", psc_vihf * ms, "ms", air_name, air_vihf * ms, "info"),
    ]
