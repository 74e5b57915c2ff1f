"""What the mock derives about a professional from his VIHF: authorSpecialty-style code, its label, his names."""

from __future__ import annotations

from dmpclient.valuesets import ValueSetId, display_name, load_value_set

__all__ = ["specialty_code", "specialty_label", "split_name"]


def specialty_code(profession: str | None, specialty: str | None) -> str | None:
    """``G15_{profession}/{savoir-faire}`` as TD1.6 ``codeSpeciality`` shows it (``G15_10/SM26``)."""
    if not profession:
        return None
    return f"G15_{profession}/{specialty}" if specialty else f"G15_{profession}"


def specialty_label(code: str | None) -> str | None:
    """ "Médecin - Qualifié en médecine générale (SM)" for ``G15_10/SM26`` (TD1.6 ``libSpeciality``)."""
    if not code or not code.startswith("G15_"):
        return None
    profession, _, specialty = code[4:].partition("/")
    labels = [display_name(load_value_set(ValueSetId.PROFESSION).oid, profession)]
    if specialty:
        labels.append(display_name(load_value_set(ValueSetId.SAVOIR_FAIRE).oid, specialty))
    return " - ".join(label for label in labels if label) or None


def split_name(subject_id: str | None) -> tuple[str | None, str | None]:
    """(family, given) from a VIHF ``subject-id`` "NOM Prénom[, service]" (project design: first word = family)."""
    if not subject_id:
        return None, None
    person = subject_id.split(",", 1)[0].split()
    if not person:
        return None, None
    return person[0], " ".join(person[1:]) or None
