"""Administrative details of seeded patients (TD1.3a): addresses, telecoms, birth place, INS-C, representatives.

Drawn in a last pass of the seed (after documents, authorisations and trace), so that adding these details did
not change anything drawn before them. Children and their legal representatives share the household address;
each representative gets a mobile and a mail; adults mostly have a mobile, often a mail, sometimes a landline.
"""

from __future__ import annotations

import dataclasses
import random
import unicodedata
from typing import Final

from dmpclient.hl7v3.person import Address, Telecom, TelecomKind
from mock_server.seed.data import ADDITIONAL_LOCATORS, BIRTH_PLACES_ABROAD, CITIES, FEMALE_NAMES, MALE_NAMES, STREETS
from mock_server.store.records import DmpStatus, LegalRepresentative, Patient

__all__ = ["with_contacts"]

_MAIL_DOMAINS: Final = ("exemple.fr", "courriel.example", "messagerie.example")
_LANDLINE_PREFIX: Final = {"75": "1", "13": "4", "69": "4", "59": "3", "33": "5", "35": "2", "67": "3", "31": "5"}


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(c if c.isalnum() else "-" for c in folded.lower()).strip("-")


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _home(rng: random.Random) -> Address:
    postal_code, city = rng.choice(CITIES)
    locator = rng.choice(ADDITIONAL_LOCATORS) if rng.random() < 0.3 else None
    street = f"{rng.randint(1, 140)} {rng.choice(STREETS)}"
    return Address(
        street_lines=(street,),
        additional_locator=locator,
        postal_code=postal_code,
        city=city,
        country="FRANCE",
        use="H",
    )


def _birth_place(rng: random.Random) -> Address:
    if rng.random() < 0.1:
        city, country = rng.choice(BIRTH_PLACES_ABROAD)
        return Address(city=city, country=country)
    postal_code, city = rng.choice(CITIES)
    return Address(postal_code=postal_code, city=city, country="FRANCE")


def _mobile(rng: random.Random) -> Telecom:
    return Telecom(kind=TelecomKind.MOBILE, value=f"+33{rng.choice('67')}{_digits(rng, 8)}", use="MC")


def _mail(rng: random.Random, given: str, family: str) -> Telecom:
    local = f"{_ascii(given)}.{_ascii(family)}"
    return Telecom(kind=TelecomKind.MAIL, value=f"{local}@{rng.choice(_MAIL_DOMAINS)}", use="H")


def _landline(rng: random.Random, home: Address) -> Telecom:
    prefix = _LANDLINE_PREFIX.get((home.postal_code or "")[:2], "9")
    return Telecom(kind=TelecomKind.PHONE, value=f"+33{prefix}{_digits(rng, 8)}", use="H")


def _representative(rng: random.Random, representative: LegalRepresentative, home: Address) -> LegalRepresentative:
    telecoms = (_mobile(rng), _mail(rng, representative.given_name, representative.family_name))
    return dataclasses.replace(representative, addresses=(home,), telecoms=telecoms)


def _other_given_names(rng: random.Random, gender: str) -> tuple[str, ...]:
    if rng.random() >= 0.3:
        return ()
    return (rng.choice(FEMALE_NAMES if gender == "F" else MALE_NAMES),)


def with_contacts(patient: Patient, rng: random.Random) -> Patient:
    """The patient with realistic administrative details (a household address shared with his representatives)."""
    home = _home(rng)
    telecoms: list[Telecom] = []
    if not patient.minor:  # a child is reached through his legal representatives
        if rng.random() < 0.85:
            telecoms.append(_mobile(rng))
        if rng.random() < 0.6:
            telecoms.append(_mail(rng, patient.given_name, patient.family_name))
        if rng.random() < 0.25:
            telecoms.append(_landline(rng, home))
    return dataclasses.replace(
        patient,
        other_given_names=_other_given_names(rng, patient.gender),
        addresses=(home,),
        telecoms=tuple(telecoms),
        birth_place=_birth_place(rng),
        deceased=patient.dmp_status is DmpStatus.CLOSED,  # the seed's closed DMP is a deceased patient's
        ins_c=_digits(rng, 22) if not patient.minor and rng.random() < 0.35 else None,
        legal_representatives=tuple(_representative(rng, r, home) for r in patient.legal_representatives),
    )
