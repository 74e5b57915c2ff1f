"""Who acts, from command-line options: the same options and checks for ``dmp vihf build`` and the TD commands."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from dmpclient import Actor, AuthMode, CallerIdentity, DmpClient, DmpConfig, DmpValidationError, NonPsRole, PurposeOfUse
from dmpclient.cli.psc import signed_in

__all__ = [
    "AUTH_MODES",
    "AuthModeOption",
    "DeviceOption",
    "IdentityOptions",
    "Mode",
    "ModeOption",
    "NameOption",
    "ProfessionOption",
    "PsIdOption",
    "PscOption",
    "PurposeOption",
    "SpecialtyOption",
    "WorkSituationOption",
    "actor_from_options",
    "identity_from_options",
    "with_identity",
]


class Mode(StrEnum):
    """CLI names of the authentication modes."""

    AIR = "air"
    INDIRECTE = "indirecte"
    PSC = "psc"
    DIRECTE = "directe"


#: The VIHF ``Authentification_mode`` of each CLI mode that names one (``psc`` builds its VIHF from a PSC identity).
AUTH_MODES = {Mode.AIR: AuthMode.AIR, Mode.INDIRECTE: AuthMode.INDIRECTE, Mode.DIRECTE: AuthMode.DIRECTE}

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
PscOption = Annotated[
    bool,
    typer.Option(
        "--psc",
        help="Act as the professional signed in with `dmp psc login` (VIHF from his PSC identity; the exchanged "
        "Bearer token with each call when configured). The --ps-id/--name/--profession options are then unused.",
    ),
]
WorkSituationOption = Annotated[
    str | None, typer.Option("--work-situation", help="With --psc: the exercice to act in, e.g. 10C (default: first).")
]


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
    if mode not in AUTH_MODES:
        raise DmpValidationError("--mode: air, indirecte or directe for a transaction", field="mode")
    return CallerIdentity(
        actor_from_options(ps_id, name, profession, specialty, device), mode=AUTH_MODES[mode], purpose=purpose
    )


@dataclass(frozen=True)
class IdentityOptions:
    """The identity options of a command, turned into a caller when the command needs it."""

    ps_id: str | None
    name: str | None
    profession: str
    specialty: str | None
    device: NonPsRole | None
    auth_mode: Mode
    purpose: PurposeOfUse
    psc: bool = False
    work_situation: str | None = None

    def identity(self) -> CallerIdentity:
        """The caller (raises DmpValidationError on a missing id or an unknown code)."""
        return identity_from_options(
            self.ps_id, self.name, self.profession, self.specialty, self.device, self.auth_mode, self.purpose
        )

    @contextmanager
    def connect(self, config_path: Path | None) -> Iterator[tuple[DmpClient, CallerIdentity]]:
        """A client of the configuration and the caller: from the options, or with ``--psc`` the signed-in
        professional (his saved session restored, its Bearer token sent with each call when configured)."""
        config = DmpConfig.load(config_path)
        if not self.psc:
            caller = self.identity()
            with DmpClient(config) as dmp:
                yield dmp, caller
            return
        with signed_in(config) as session:
            caller = session.caller_identity(self.work_situation, purpose=self.purpose)
            with DmpClient(config, headers=session.dmp_authorization_header) as dmp:
                yield dmp, caller


_KEYWORD = inspect.Parameter.KEYWORD_ONLY
_IDENTITY_PARAMETERS = (
    inspect.Parameter("ps_id", _KEYWORD, default=None, annotation=PsIdOption),
    inspect.Parameter("name", _KEYWORD, default=None, annotation=NameOption),
    inspect.Parameter("profession", _KEYWORD, default="10", annotation=ProfessionOption),
    inspect.Parameter("specialty", _KEYWORD, default=None, annotation=SpecialtyOption),
    inspect.Parameter("device", _KEYWORD, default=None, annotation=DeviceOption),
    inspect.Parameter("auth_mode", _KEYWORD, default=Mode.AIR, annotation=AuthModeOption),
    inspect.Parameter("purpose", _KEYWORD, default=PurposeOfUse.NORMAL, annotation=PurposeOption),
    inspect.Parameter("psc", _KEYWORD, default=False, annotation=PscOption),
    inspect.Parameter("work_situation", _KEYWORD, default=None, annotation=WorkSituationOption),
)


def with_identity(command: Callable[..., None]) -> Callable[..., None]:
    """Give a typer command the acting-professional options once: the command declares ``who: IdentityOptions``
    and typer sees ``--ps-id``, ``--name``, ``--profession``, ``--specialty``, ``--device``, ``--auth-mode``,
    ``--purpose``, ``--psc`` and ``--work-situation`` in its place."""
    own = inspect.signature(command, eval_str=True)
    parameters = [p.replace(kind=_KEYWORD) for name, p in own.parameters.items() if name != "who"]
    parameters += _IDENTITY_PARAMETERS

    @functools.wraps(command)
    def run(**options: Any) -> None:
        who = IdentityOptions(**{p.name: options.pop(p.name) for p in _IDENTITY_PARAMETERS})
        command(who=who, **options)

    run.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    del run.__wrapped__  # typer must read this signature, not the command's
    return run
