"""Property tests: build → sign → verify round trips over random valid attribute sets, in every mode."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from dmpclient.codes import ValueSetId, load_value_set
from dmpclient.ids import InsOid, make_ins
from dmpclient.security.pki import TestPki
from dmpclient.security.verify import verify_vihf
from dmpclient.security.vihf import (
    SECRET_CONNECTION,
    Actor,
    AuthMode,
    LpsIdentity,
    NonPsRole,
    PatientId,
    PurposeOfUse,
    Structure,
    Vihf,
    VihfRequest,
    build_vihf,
    psc_request,
    read_assertion,
    sign_vihf,
    vihf_from_raw,
)
from tests.unit.vihf_factory import now, policy_for, signer_of

# Text as users type it: accents, XML specials, spaces inside (never only blanks).
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÉéèçô&<>\"'-., 0123456789", min_size=1, max_size=30).map(
    lambda s: f"X{s.strip()}"
)
bodies = st.builds(
    lambda sex, middle, department, rest: f"{sex}{middle}{department}{rest}",
    st.sampled_from("123478"),
    st.text("0123456789", min_size=4, max_size=4),
    st.one_of(st.sampled_from(["2A", "2B"]), st.text("0123456789", min_size=2, max_size=2)),
    st.text("0123456789", min_size=6, max_size=6),
)
patients = st.one_of(
    st.none(),
    st.builds(lambda body, oid: PatientId(ins=make_ins(body), oid=oid), bodies, st.sampled_from(list(InsOid))),
)
lps = st.builds(
    LpsIdentity,
    nom=words,
    version=st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}", fullmatch=True),
    homologation=words,
    id=st.one_of(st.none(), words),
)
structures = st.builds(
    Structure.of,
    st.sampled_from(["10B0127189", "499900063480001", "10B0041968"]),
    st.sampled_from(load_value_set(ValueSetId.SECTEUR_ACTIVITE).codes()),
)


@st.composite
def professionals(draw: st.DrawFn) -> Actor:
    profession = draw(st.sampled_from(load_value_set(ValueSetId.PROFESSION).codes()))
    specialty = None
    if profession == "21":
        specialty = draw(st.sampled_from(load_value_set(ValueSetId.SECTION_PHARMACIEN).codes()))
    elif profession == "10" or draw(st.booleans()):
        specialty = draw(st.sampled_from(load_value_set(ValueSetId.SAVOIR_FAIRE).codes()))
    ps_id = "8" + draw(st.text("0123456789", min_size=11, max_size=11))
    return Actor.professional(ps_id, name=draw(words), profession=profession, specialty=specialty)


devices = st.builds(
    lambda name, kind: Actor.device("899900063480", name=name, kind=kind), words, st.sampled_from(list(NonPsRole))
)
common = {
    "structure": structures,
    "lps": lps,
    "patient": patients,
    "purpose": st.sampled_from(list(PurposeOfUse)),
    "confidentiality": st.sampled_from([None, SECRET_CONNECTION]),
    "vihf_version": st.sampled_from(["3.0", "4.0"]),
}
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def round_trip(vihf: Vihf, pki: TestPki, mode: AuthMode) -> None:
    signer = signer_of(pki.ps_sign if mode is AuthMode.DIRECTE else pki.org_sign)
    data = sign_vihf(vihf, signer)
    # random structures are signed with one ORG certificate: the OU rule has its own tests (test_verify)
    verified = verify_vihf(data, policy_for(pki, check_structure_ou=False), now=now())
    assert verified.vihf == vihf
    assert vihf_from_raw(read_assertion(etree.fromstring(data))) == vihf


@SETTINGS
@given(actor=st.one_of(professionals(), devices), options=st.fixed_dictionaries(common))
def test_indirecte_round_trip(pki: TestPki, actor: Actor, options: dict[str, object]) -> None:
    request = VihfRequest(mode=AuthMode.INDIRECTE, actor=actor, now=now(), **options)  # type: ignore[arg-type]
    vihf = build_vihf(request, signer_of(pki.org_sign))
    round_trip(vihf, pki, AuthMode.INDIRECTE)


@SETTINGS
@given(
    actor=professionals(),
    options=st.fixed_dictionaries(common),
    primary=st.sampled_from(["CONF_EXI_PGSSIS", "APP_BROWSER_AUTH"]),
)
def test_air_round_trip(pki: TestPki, actor: Actor, options: dict[str, object], primary: str) -> None:
    request = VihfRequest(mode=AuthMode.AIR, actor=actor, now=now(), primary_authentication=primary, **options)  # type: ignore[arg-type]
    vihf = build_vihf(request, signer_of(pki.org_sign))
    round_trip(vihf, pki, AuthMode.AIR)


@SETTINGS
@given(actor=professionals(), options=st.fixed_dictionaries(common))
def test_directe_round_trip(pki: TestPki, actor: Actor, options: dict[str, object]) -> None:
    card_holder = actor.model_copy(update={"national_id": pki.ps_id})  # DIRECTE speaks for the card holder only
    request = VihfRequest(mode=AuthMode.DIRECTE, actor=card_holder, now=now(), **options)  # type: ignore[arg-type]
    vihf = build_vihf(request, signer_of(pki.ps_sign))
    round_trip(vihf, pki, AuthMode.DIRECTE)


@SETTINGS
@given(
    actor=professionals(),
    structure=structures,
    mode=st.sampled_from([AuthMode.AIR, AuthMode.INDIRECTE]),
    purpose=st.sampled_from(list(PurposeOfUse)),
    lps_identity=lps,
)
def test_psc_round_trip(
    pki: TestPki, actor: Actor, structure: Structure, mode: AuthMode, purpose: PurposeOfUse, lps_identity: LpsIdentity
) -> None:
    savoir_faire = actor.savoir_faire.code if actor.savoir_faire else ""
    pharmacist = actor.profession.code == "21"
    document = {
        "SubjectNameID": actor.national_id,
        "given_name": "Prénom",
        "family_name": "NOM",
        "SubjectRefPro": {
            "exercices": [
                {
                    "codeProfession": actor.profession.code,
                    "codeCategorieProfessionnelle": "C",
                    "codeSavoirFaire": "" if pharmacist else savoir_faire,
                    "activities": [
                        {
                            "codeSecteurDactivite": structure.secteur_activite,
                            "codeSectionPharmacien": savoir_faire if pharmacist else "",
                            "ancienIdentifiantDeLaStructure": structure.id,
                        }
                    ],
                }
            ]
        },
    }
    signer = signer_of(pki.org_sign)
    vihf = build_vihf(psc_request(document, lps=lps_identity, now=now(), mode=mode, purpose=purpose), signer)
    assert vihf.roles == actor.roles
    assert (vihf.structure_id, vihf.secteur_activite) == (structure.id, structure.secteur_activite)
    round_trip(vihf, pki, mode)
