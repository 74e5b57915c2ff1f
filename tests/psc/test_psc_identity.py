"""Work situations and the caller identity (VIHF) they give (reference §11.3, §11.6)."""

from __future__ import annotations

import datetime as dt

import pytest

from dmpclient.errors import DmpValidationError
from dmpclient.psc import PscDmpProfile
from dmpclient.psc.identity import PscIdentity, WorkSituation
from dmpclient.security.credentials import load_pem
from dmpclient.security.issuer import VihfIssuer
from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import AuthMode, LpsIdentity, SoftwareSigner, Structure

#: Hand-written UserInfo: a physician practising as a civilian GP and as a military one (two exercices).
USERINFO = {
    "sub": "f:11111111-2222-3333-4444-555555555555:899700366240",
    "SubjectNameID": "899700366240",
    "given_name": "Paul",
    "family_name": "DURAND",
    "SubjectRefPro": {
        "exercices": [
            {
                "codeProfession": "10",
                "codeCategorieProfessionnelle": "C",
                "codeSavoirFaire": "SM26",
                "activities": [{"ancienIdentifiantDeLaStructure": "10B0127189", "raisonSocialeSite": "CABINET"}],
            },
            {"codeProfession": "10", "codeCategorieProfessionnelle": "M", "codeSavoirFaire": "SM54", "activities": []},
        ]
    },
}


def test_work_situations_and_their_vihf_roles() -> None:
    identity = PscIdentity(USERINFO)
    situations = identity.work_situations()
    assert [s.selector for s in situations] == ["10C", "10M"]
    assert [r.code for r in situations[0].roles] == ["10", "SM26"]
    assert situations[0].places == ("CABINET",)
    assert "DURAND" not in repr(identity)


def test_choose_by_code_or_callback() -> None:
    identity = PscIdentity(USERINFO)
    assert identity.caller_identity("10M").actor.savoir_faire is not None
    assert identity.caller_identity("10M").actor.savoir_faire.code == "SM54"  # type: ignore[union-attr]

    def last(situations: object) -> WorkSituation:
        return identity.work_situations()[-1]

    assert identity.caller_identity(last).actor.savoir_faire.code == "SM54"  # type: ignore[union-attr]
    with pytest.raises(DmpValidationError, match="available: 10C, 10M"):
        identity.caller_identity("60C")


def test_profile_sets_the_vihf_mode_and_contexts(pki: TestPki) -> None:
    identity = PscIdentity(USERINFO)
    caller = identity.caller_identity("10C", profile=PscDmpProfile(mode=AuthMode.INDIRECTE))
    assert caller.mode is AuthMode.INDIRECTE
    default = identity.caller_identity("10C")
    assert default.mode is AuthMode.AIR
    assert default.authn_context_class == "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered"
    issuer = VihfIssuer(
        SoftwareSigner.from_credential(load_pem(pki.org_sign.cert, pki.org_sign.key)),
        structure=Structure.of(pki.structure_id, "SA01"),
        lps=LpsIdentity(nom="LPS", version="1", homologation="H"),
    )
    vihf = issuer.build(default, None, now=dt.datetime.now(dt.UTC))
    assert vihf.subject_name_id == "899700366240"
    assert vihf.subject_id == "DURAND Paul"
    assert [r.code for r in vihf.roles] == ["10", "SM26"]
