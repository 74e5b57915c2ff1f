"""People of the seed: professionals (RPPS with a Luhn key) and patients (valid INS, one role each).

Roles tell the seed what to do with a patient: the public test patients' roles come from
:mod:`mock_server.seed.data`, generated patients cover the remaining categories (a minor with a secret
connection, no DMP, oppositions, a DMP not attached to Mon espace santé) and ``plain`` ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from dmpclient.codes import Code
from dmpclient.ids import InsOid, make_ins, validate_ins
from mock_server.seed.data import (
    FAMILY_NAMES,
    FEMALE_NAMES,
    MALE_NAMES,
    PROFESSIONALS,
    PUBLIC_PATIENTS,
    ProfessionalSpec,
    PublicPatient,
    specialty_code,
)
from mock_server.store.records import DmpStatus, LegalRepresentative, Patient

__all__ = ["GENERATED_ROLES", "People", "Professional", "is_minor", "luhn_digit"]

#: Roles given to the first generated patients (the categories the public ones do not cover).
GENERATED_ROLES: Final = ("minor_secret", "no_dmp", "opposes_acces_urgence", "opposes_both", "not_attached_to_mes")
_DEPARTMENTS: Final = ("75", "13", "69", "59", "33", "2A", "2B", "35", "67", "31", "06", "44")


def luhn_digit(digits: str) -> str:
    """The Luhn check digit completing ``digits`` (RPPS numbers pass Luhn, reference §12.3, inferred rule)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def is_minor(patient: Patient, today: date) -> bool:
    """Under 18 at ``today``."""
    born = patient.birth_date
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day)) < 18


@dataclass(frozen=True, slots=True)
class Professional:
    """A drawn professional: his spec, idNat_PS, names and authorSpecialty code."""

    spec: ProfessionalSpec
    ps_id: str
    family_name: str
    given_name: str
    specialty: Code


class People:
    """Draws the seed's professionals and patients from the seeded generator."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng, self.now = rng, now
        self.professionals: list[Professional] = []
        self.patients: list[tuple[Patient, str]] = []
        self._used: set[str] = set()

    def _first_name(self, gender: str) -> str:
        return self.rng.choice(FEMALE_NAMES if gender == "F" else MALE_NAMES)

    def make_professionals(self) -> list[Professional]:
        """One professional per :data:`PROFESSIONALS` entry; missing ids and names are drawn."""
        used: set[str] = set()
        for spec in PROFESSIONALS:
            ps_id = spec.ps_id
            while ps_id is None or ps_id in used:
                body = "".join(str(self.rng.randrange(10)) for _ in range(10))
                ps_id = "8" + body + luhn_digit(body)
            used.add(ps_id)
            gender = self.rng.choice("FM")
            family = spec.family_name or self.rng.choice(FAMILY_NAMES)
            given = spec.given_name or self._first_name(gender)
            self.professionals.append(Professional(spec, ps_id, family, given, specialty_code(spec)))
        return self.professionals

    def make_patients(self, total: int) -> list[tuple[Patient, str]]:
        """The public test patients, then generated ones up to ``total``, each with its role."""
        for public in PUBLIC_PATIENTS:
            self._add(self._public_patient(public), public.role)
        extra = total - len(PUBLIC_PATIENTS) - len(GENERATED_ROLES)
        for role in (*GENERATED_ROLES, *("plain",) * extra):
            self._add(self._generated_patient(role), role)
        return self.patients

    def _add(self, patient: Patient, role: str) -> None:
        self._used.add(patient.ins)
        self.patients.append((patient, role))

    def _public_patient(self, public: PublicPatient) -> Patient:
        body = public.ins[:13]
        gender = "M" if body[0] in "137" else "F"
        century = 2000 if 2000 + int(body[1:3]) <= self.now.year else 1900
        month = int(body[3:5]) if 1 <= int(body[3:5]) <= 12 else self.rng.randint(1, 12)
        born = date(century + int(body[1:3]), month, self.rng.randint(1, 28))
        given = public.given_name or self._first_name(gender)
        family = public.family_name or self.rng.choice(FAMILY_NAMES)
        return self._patient(
            validate_ins(public.ins), public.oid, family, given, gender, born, public.role, public.birth_name
        )

    def _generated_patient(self, role: str) -> Patient:
        gender = self.rng.choice("MF")
        age_days = self.rng.randint(5_500, 6_000) if role == "minor_secret" else self.rng.randint(6_600, 33_000)
        born = self.now.date() - timedelta(days=age_days)
        ins = ""
        while not ins or ins in self._used:
            dept = self.rng.choice(_DEPARTMENTS)
            commune, order = self.rng.randrange(1, 990), self.rng.randrange(1, 999)
            ins = make_ins(f"{1 if gender == 'M' else 2}{born:%y%m}{dept}{commune:03d}{order:03d}")
        family = self.rng.choice(FAMILY_NAMES)
        birth_name = self.rng.choice(FAMILY_NAMES) if gender == "F" and self.rng.random() < 0.3 else None
        return self._patient(ins, InsOid.TEST, family, self._first_name(gender), gender, born, role, birth_name)

    def _patient(
        self, ins: str, oid: str, family: str, given: str, gender: str, born: date, role: str, birth_name: str | None
    ) -> Patient:
        draft = Patient(ins, oid, family, given, born, gender)
        minor = is_minor(draft, self.now.date())
        status = {"closed": DmpStatus.CLOSED, "no_dmp": DmpStatus.NONE}.get(role, DmpStatus.ACTIVE)
        mes = status is not DmpStatus.NONE and role != "not_attached_to_mes"
        reps = (
            (
                LegalRepresentative("MTH", family, self._first_name("F")),
                LegalRepresentative("FTH", family, self._first_name("M")),
            )
            if minor
            else ()
        )
        return Patient(
            ins=ins,
            ins_oid=oid,
            family_name=family,
            given_name=given,
            birth_date=born,
            gender=gender,
            birth_name=birth_name,
            dmp_status=status,
            opposition_bris_de_glace=role in ("opposes_bris_de_glace", "opposes_both"),
            opposition_acces_urgence=role in ("opposes_acces_urgence", "opposes_both"),
            masked_visible_in_emergency=role == "emergency",
            mes_attached=mes,
            web_account=mes and self.rng.random() < 0.8,
            secret_connection=role == "minor_secret",
            minor=minor,
            legal_representatives=reps,
            closed_at=self.now - timedelta(days=200) if status is DmpStatus.CLOSED else None,
        )
