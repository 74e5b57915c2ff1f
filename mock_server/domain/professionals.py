"""What the mock derives about a professional from his VIHF: specialty code and label, his names."""

from __future__ import annotations

from dmpclient.codes import ValueSetId, display_name, load_value_set
from dmpclient.hl7v3.patient_update import author_specialty as specialty_code
from dmpclient.hl7v3.person import split_person_name as split_name

__all__ = ["specialty_code", "specialty_label", "split_name"]


def specialty_label(code: str | None) -> str | None:
    """ "Médecin - Qualifié en médecine générale (SM)" for ``G15_10/SM26`` (TD1.6 ``libSpeciality``)."""
    if not code or not code.startswith("G15_"):
        return None
    profession, _, specialty = code[4:].partition("/")
    labels = [display_name(load_value_set(ValueSetId.PROFESSION).oid, profession)]
    if specialty:
        labels.append(display_name(load_value_set(ValueSetId.SAVOIR_FAIRE).oid, specialty))
    return " - ".join(label for label in labels if label) or None
