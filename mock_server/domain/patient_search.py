"""TD0.5 matching (recherche sans INS): which patients fit a PDQ search, and how well (``POURCENTAGE``).

Project design (the DMP's matching is not public; DMPCONNECT offers exact and approximate searches): names,
cities are compared without case, accents, hyphens or apostrophes; the family name matches the used or the
birth name, exactly (100) or by its beginning (80); a given name must start one of the patient's given names
(−10 when it is only a beginning); gender, birth date, postal code and city must be equal when given.
Patients without a DMP are never returned. A family name of fewer than 2 characters once normalised, or a given
name of none, is refused (:func:`search_problem`): it would match everyone.
"""

from __future__ import annotations

import unicodedata

from dmpclient.hl7v3.pdq import PatientSearch
from mock_server.store.records import DmpStatus, Patient

__all__ = ["MIN_FAMILY", "match_score", "normalise", "search_problem"]

#: Characters of the family name left once normalised (DMPCONNECT: a name of at least 2 characters).
MIN_FAMILY = 2


def normalise(text: str | None) -> str:
    """Upper case, no accents, one space between words (``Le Gall`` = ``LE-GALL`` = ``le gall``)."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii").upper()
    return " ".join(folded.replace("-", " ").replace("'", " ").split())


def _family_score(wanted: str, patient: Patient) -> int:
    names = [normalise(patient.family_name), normalise(patient.birth_name)]
    if wanted in names:
        return 100
    if any(name.startswith(wanted) for name in names if name):
        return 80
    return 0


def _given_penalty(wanted: str, patient: Patient) -> int | None:
    given = [normalise(name) for name in patient.given_names]
    if wanted in given:
        return 0
    if any(name.startswith(wanted) for name in given):
        return 10
    return None


def _address_matches(search: PatientSearch, patient: Patient) -> bool:
    if not (search.city or search.postal_code):
        return True
    return any(
        (not search.postal_code or address.postal_code == search.postal_code)
        and (not search.city or normalise(address.city) == normalise(search.city))
        for address in patient.addresses
    )


def search_problem(search: PatientSearch) -> str | None:
    """Why a search cannot be run, or ``None``: names that normalise to (almost) nothing would match every
    patient (``--``, ``'``, a script the comparison drops), so they are refused rather than answered."""
    if len(normalise(search.family)) < MIN_FAMILY:
        return (
            f"le nom de famille doit compter au moins {MIN_FAMILY} lettres ou chiffres "
            "(tirets, apostrophes et espaces ne comptent pas)"
        )
    if search.given is not None and not normalise(search.given):
        return "le prénom doit compter au moins une lettre ou un chiffre"
    return None


def match_score(search: PatientSearch, patient: Patient) -> int | None:
    """The match percentage of ``patient`` for ``search``, or ``None`` when he does not match."""
    if patient.dmp_status is DmpStatus.NONE:
        return None
    score = _family_score(normalise(search.family), patient)
    if score == 0:
        return None
    if search.given:
        penalty = _given_penalty(normalise(search.given), patient)
        if penalty is None:
            return None
        score -= penalty
    if search.gender and search.gender != patient.gender:
        return None
    if search.birth_date and search.birth_date != patient.birth_date:
        return None
    return score if _address_matches(search, patient) else None
