"""Who acts, from command-line options: the same options and checks for ``dmp vihf build`` and the TD commands."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from dmpclient import Actor, AuthMode, CallerIdentity, DmpValidationError, NonPsRole, PurposeOfUse

__all__ = [
    "AuthModeOption",
    "DeviceOption",
    "Mode",
    "ModeOption",
    "NameOption",
    "ProfessionOption",
    "PsIdOption",
    "PurposeOption",
    "SpecialtyOption",
    "actor_from_options",
    "identity_from_options",
]


class Mode(StrEnum):
    """CLI names of the authentication modes."""

    AIR = "air"
    INDIRECTE = "indirecte"
    PSC = "psc"
    DIRECTE = "directe"


_AUTH_MODES = {Mode.AIR: AuthMode.AIR, Mode.INDIRECTE: AuthMode.INDIRECTE, Mode.DIRECTE: AuthMode.DIRECTE}

PsIdOption = Annotated[
    str | None, typer.Option("--ps-id", envvar="DMP_PS_ID", help="National id of the user (NameID; env DMP_PS_ID).")
]
NameOption = Annotated[
    str | None,
    typer.Option("--name", envvar="DMP_PS_NAME", help="subject-id: 'NOM Prénom' of the user (env DMP_PS_NAME)."),
]
ProfessionOption = Annotated[str, typer.Option(help="TRE_G15 profession code (10 médecin, 60 infirmier…).")]
SpecialtyOption = Annotated[str | None, typer.Option(help="TRE_R01 savoir-faire (TRE_G05 section for 21), e.g. SM26.")]
DeviceOption = Annotated[NonPsRole | None, typer.Option(help="Non-PS role instead of a profession (staff, automated).")]
ModeOption = Annotated[Mode, typer.Option("--mode", help="Authentication mode of the VIHF.")]
AuthModeOption = Annotated[
    Mode, typer.Option("--auth-mode", help="Authentication mode of the VIHF (air, indirecte, directe).")
]
PurposeOption = Annotated[PurposeOfUse, typer.Option(help="Access mode (normal, bris_de_glace, centre_15).")]


def actor_from_options(
    ps_id: str | None, name: str | None, profession: str, specialty: str | None, device: NonPsRole | None
) -> Actor:
    """The acting professional (or staff member / device) the options describe.

    Raises:
        DmpValidationError: no national id, or an unknown code.
    """
    if not ps_id:
        raise DmpValidationError("--ps-id: give the national id of the user (or of the feed's owner)", field="ps_id")
    if device is not None:
        return Actor.device(ps_id, name=name or "dmpclient", kind=device)
    return Actor.professional(ps_id, name=name, profession=profession, specialty=specialty)


def identity_from_options(
    ps_id: str | None,
    name: str | None,
    profession: str,
    specialty: str | None,
    device: NonPsRole | None,
    mode: Mode,
    purpose: PurposeOfUse,
) -> CallerIdentity:
    """The caller of a transaction command (``--mode psc`` has no meaning there: use air)."""
    if mode not in _AUTH_MODES:
        raise DmpValidationError("--mode: air, indirecte or directe for a transaction", field="mode")
    return CallerIdentity(
        actor_from_options(ps_id, name, profession, specialty, device), mode=_AUTH_MODES[mode], purpose=purpose
    )
