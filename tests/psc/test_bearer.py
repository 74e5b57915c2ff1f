"""The mock DMP's check of the Bearer token sent next to the VIHF in PSC mode."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from dmpclient.psc import PscTokenError
from dmpclient.psc.tokens import ProviderKeys
from mock_server.psc.bearer import check_bearer

ISSUER = "https://as.example/realms/dmp"
AUDIENCE = "urn:dmp"
KEY = RSAKey.generate_key(2048, parameters={"kid": "as-1", "alg": "RS256"})
KEYS = ProviderKeys({"keys": [KEY.as_dict(private=False)]})


def bearer(**changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now + 3600,
        "iat": now,
        "SubjectNameID": "899900063480",
        "azp": "lps",
    }
    claims.update(changes)
    return "Bearer " + jwt.encode(
        {"alg": "RS256", "kid": "as-1"}, {k: v for k, v in claims.items() if v is not None}, KEY
    )


def check(header: str | None, name_id: str = "899900063480", **options: Any) -> Any:
    return check_bearer(header, name_id, keys=KEYS, issuer=ISSUER, audience=AUDIENCE, now=int(time.time()), **options)


def test_accepted_token_names_the_vihf_subject() -> None:
    caller = check(bearer())
    assert caller.national_id == "899900063480"
    assert caller.client_id == "lps"
    assert check(None) is None


@pytest.mark.parametrize(
    ("header", "name_id", "rule"),
    [
        (bearer(), "899700366240", "bearer_subject"),
        (bearer(SubjectNameID=None), "899900063480", "bearer_subject"),
        (bearer(aud="urn:other"), "899900063480", "audience"),
        (bearer(exp=int(time.time()) - 600), "899900063480", "expired"),
        (bearer(iss="https://evil.example"), "899900063480", "issuer"),
        ("Basic dXNlcjpwdw==", "899900063480", "bearer_scheme"),
        ("Bearer ", "899900063480", "bearer_scheme"),
        ("Bearer not.a.jwt", "899900063480", "format"),
    ],
)
def test_refused(header: str, name_id: str, rule: str) -> None:
    with pytest.raises(PscTokenError) as caught:
        check(header, name_id)
    assert caught.value.rule == rule


def test_required_in_psc_only_deployments() -> None:
    with pytest.raises(PscTokenError) as caught:
        check(None, required=True)
    assert caught.value.rule == "bearer_missing"
