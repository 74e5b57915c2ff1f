"""``dmp vihf``: build and sign a VIHF in any mode, show one readably, verify one (reference §2).

Never prints a private key, a password or a whole signature; the patient INS is masked but for its last 4
characters.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from lxml import etree
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dmpclient import parse_untrusted
from dmpclient.cli.identity import AUTH_MODES, Mode, actor_from_options
from dmpclient.codes import display_name
from dmpclient.errors import DmpConfigError, DmpSecurityError, DmpUnsafeXmlError, DmpValidationError
from dmpclient.ids import InsOid
from dmpclient.inspection import to_jsonable
from dmpclient.security.credentials import Credential, load_pem, load_pkcs12
from dmpclient.security.verify import VerificationPolicy, verify_vihf
from dmpclient.security.vihf import (
    AIR_SIMPLIFIE,
    AuthMode,
    DigestAlgorithm,
    LpsIdentity,
    NonPsRole,
    PatientId,
    PurposeOfUse,
    SignatureAlgorithm,
    SoftwareSigner,
    Structure,
    Vihf,
    VihfAttribute,
    VihfRequest,
    build_vihf,
    psc_request,
    read_assertion,
    sign_vihf,
)
from dmpclient.security.vihf_dn import certificate_dn
from dmpclient.security.vihf_model import RawAssertion, find_assertions, parse_instant
from dmpclient.security.xmldsig import signature_info

__all__ = ["app"]

app = typer.Typer(help="VIHF (DMP identity assertion): build, show, verify.", no_args_is_help=True)
_console = Console()


def _fail(message: str, code: int = 2) -> typer.Exit:
    _console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _credential(cert: Path | None, key: Path | None, p12: Path | None, password_env: str | None) -> Credential:
    if p12 is not None:
        if not password_env or password_env not in os.environ:
            raise DmpConfigError("--p12 needs --p12-password-env naming a set environment variable", field="p12")
        return load_pkcs12(p12, os.environ[password_env].encode())
    if cert is None or key is None:
        raise DmpConfigError("give --cert and --key (PEM), or --p12 with --p12-password-env", field="cert")
    return load_pem(cert, key)


def _now(value: str | None) -> dt.datetime:
    try:
        return parse_instant(value) if value else dt.datetime.now(dt.UTC)
    except ValueError:
        raise DmpValidationError("--now: give an ISO 8601 date-time, e.g. 2025-03-14T09:26:53Z", field="now") from None


def _lps_version() -> str:
    try:
        return version("dmpclient")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0"


def _structure(credential: Credential, structure_id: str | None, secteur: str | None) -> Structure:
    identifier = structure_id or credential.organizational_unit
    if not identifier or not secteur:
        raise DmpValidationError("give --secteur and --structure-id (default: the certificate OU)", field="structure")
    return Structure.of(identifier, secteur)


@app.command("build")
def build(
    mode: Annotated[Mode, typer.Option(help="Authentication mode.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the signed assertion.")],
    cert: Annotated[Path | None, typer.Option(help="Signing certificate (PEM, chain allowed).")] = None,
    key: Annotated[Path | None, typer.Option(help="Its private key (PEM, unencrypted).")] = None,
    p12: Annotated[Path | None, typer.Option(help="PKCS#12 file instead of --cert/--key.")] = None,
    p12_password_env: Annotated[str | None, typer.Option(help="Environment variable holding the p12 password.")] = None,
    ins: Annotated[str | None, typer.Option(help="Patient INS (resource-id); omit for TD0.4/TD0.5.")] = None,
    ins_oid: Annotated[str, typer.Option(help="INS assigning authority.")] = InsOid.NIR.value,
    purpose: Annotated[PurposeOfUse, typer.Option(help="Access mode.")] = PurposeOfUse.NORMAL,
    ps_id: Annotated[str | None, typer.Option(help="National id of the user (NameID).")] = None,
    name: Annotated[str | None, typer.Option(help="subject-id: 'NOM Prénom' of the user.")] = None,
    profession: Annotated[str, typer.Option(help="TRE_G15 profession code.")] = "10",
    specialty: Annotated[str | None, typer.Option(help="TRE_R01 savoir-faire (TRE_G05 section for 21).")] = None,
    device: Annotated[NonPsRole | None, typer.Option(help="Automated sender role (INDIRECTE).")] = None,
    structure_id: Annotated[str | None, typer.Option(help="Identifiant_Structure (default: certificate OU).")] = None,
    secteur: Annotated[str | None, typer.Option(help="TRE_R02 Secteur_Activite code, e.g. SA07.")] = None,
    userinfo: Annotated[Path | None, typer.Option(help="PSC UserInfo JSON document (--mode psc).")] = None,
    work_situation: Annotated[str | None, typer.Option(help="PSC exercice selector, e.g. 10C.")] = None,
    psc_feeding: Annotated[bool, typer.Option(help="--mode psc: INDIRECTE (feeding) instead of AIR.")] = False,
    primary_auth: Annotated[str, typer.Option(help="AIR AuthnContextDecl.")] = AIR_SIMPLIFIE,
    lps_nom: Annotated[str, typer.Option(help="LPS_Nom.")] = "dmpclient",
    lps_version: Annotated[str | None, typer.Option(help="LPS_Version (default: package version).")] = None,
    lps_homologation: Annotated[str, typer.Option(help="LPS_ID_HOMOLOGATION_DMP.")] = "NON-HOMOLOGUE",
    lps_id: Annotated[str | None, typer.Option(help="LPS_ID (installation id).")] = None,
    now: Annotated[str | None, typer.Option(help="Issue instant (ISO 8601, default: now).")] = None,
    assertion_id: Annotated[str | None, typer.Option(help="Assertion ID (default: _ + UUID4).")] = None,
    sha1: Annotated[bool, typer.Option("--sha1", help="Legacy RSA-SHA1 + SHA-1 digest (warned).")] = False,
) -> None:
    """Build and sign a VIHF, written as the exact bytes to graft into wsse:Security."""
    try:
        credential = _credential(cert, key, p12, p12_password_env)
        signer = SoftwareSigner.from_credential(credential)
        lps = LpsIdentity(nom=lps_nom, version=lps_version or _lps_version(), homologation=lps_homologation, id=lps_id)
        patient = PatientId(ins=ins, oid=ins_oid) if ins else None
        when = _now(now)
        if mode is Mode.PSC:
            if userinfo is None:
                raise DmpValidationError("--mode psc needs --userinfo (the PSC UserInfo JSON)", field="userinfo")
            request = psc_request(
                json.loads(userinfo.read_text(encoding="utf-8")),
                lps=lps,
                now=when,
                work_situation=work_situation,
                structure_id=structure_id,
                mode=AuthMode.INDIRECTE if psc_feeding else AuthMode.AIR,
                patient=patient,
                purpose=purpose,
            )
        else:
            request = VihfRequest(
                mode=AUTH_MODES[mode],
                actor=actor_from_options(ps_id, name, profession, specialty, device),
                structure=_structure(credential, structure_id, secteur),
                lps=lps,
                now=when,
                patient=patient,
                purpose=purpose,
            )
        request = request.model_copy(update={"assertion_id": assertion_id, "primary_authentication": primary_auth})
        vihf = build_vihf(request, signer)
        data = (
            sign_vihf(
                vihf, signer, signature_algorithm=SignatureAlgorithm.RSA_SHA1, digest_algorithm=DigestAlgorithm.SHA1
            )
            if sha1
            else sign_vihf(vihf, signer)
        )
    except (DmpConfigError, DmpValidationError, OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    out.write_bytes(data)
    _console.print(f"[green]{vihf.mode.value}[/green] " + escape(f"VIHF {vihf.assertion_id} written to {out}"))
    _console.print(f"  issuer {vihf.issuer}", highlight=False, markup=False)


def _mask(cx: str) -> str:
    ins, _, rest = cx.partition("^")
    return f"{'*' * max(len(ins) - 4, 0)}{ins[-4:]}" + (f"^{rest}" if rest else "")


def _labelled(code: str, system: str, display: str | None) -> str:
    label = display or display_name(system, code) or ""
    return escape(f"{code} {label}".strip()) + f"  [dim]({escape(system)})[/dim]"


def _read(file: Path) -> etree._Element:
    try:
        root = parse_untrusted(file.read_bytes())
    except (OSError, DmpUnsafeXmlError) as exc:
        raise _fail(f"cannot read {file}: {exc}") from None
    assertions = find_assertions(root)
    if len(assertions) != 1:
        raise _fail(f"{file} holds {len(assertions)} saml2:Assertion elements, expected 1")
    return assertions[0]


def _rows(raw: RawAssertion) -> list[tuple[str, str]]:
    """Label and rich markup of each field (the file's values escaped: they are text, not markup)."""
    a = VihfAttribute
    e = escape
    secteur = raw.first(a.SECTEUR_ACTIVITE) or ""
    code, _, system = secteur.partition("^")
    rows = [
        ("mode", e(raw.first(a.AUTHENTIFICATION_MODE) or "") or "[red]missing[/red]"),
        ("issuer", e(raw.issuer or "")),
        ("subject (NameID)", e(raw.name_id or "")),
        ("subject-id", e(raw.first(a.SUBJECT_ID) or "—")),
        ("structure", e(raw.first(a.IDENTIFIANT_STRUCTURE) or "")),
        ("secteur d'activité", _labelled(code, system or "1.2.250.1.71.4.2.4", None) if code else "—"),
    ]
    rows += [
        (f"role {i}", _labelled(r.code, r.code_system, r.display_name)) for i, r in enumerate(raw.coded(a.ROLE), 1)
    ]
    rows += [("purpose of use", _labelled(p.code, p.code_system, p.display_name)) for p in raw.coded(a.PURPOSE_OF_USE)]
    rows += [
        ("patient", e(_mask(raw.first(a.RESOURCE_ID) or "") or "—")),
        ("issue instant", e(raw.issue_instant or "")),
        ("authn instant", e(raw.authn_instant or "")),
        ("authn context", e(raw.authn_context_class or "")),
        ("primary authentication", e(raw.authn_context_decl or "—")),
        ("VIHF version", e(raw.first(a.VIHF_VERSION) or "")),
        (
            "LPS",
            e(
                " ".join(
                    filter(None, [raw.first(a.LPS_NOM), raw.first(a.LPS_VERSION), raw.first(a.LPS_ID_HOMOLOGATION_DMP)])
                )
            ),
        ),
    ]
    return rows


def _show_json(assertion: etree._Element) -> None:
    """The assertion's fields, attributes (resource-id masked) and signature, as JSON."""
    data = to_jsonable(read_assertion(assertion))
    resource = data["attributes"].get(VihfAttribute.RESOURCE_ID.value)
    if resource:
        data["attributes"][VihfAttribute.RESOURCE_ID.value] = [_mask(v) if isinstance(v, str) else v for v in resource]
    info = signature_info(assertion)
    data["signature"] = (
        {
            "signature_algorithm": info.signature_algorithm,
            "digest_algorithm": info.digest_algorithm,
            "certificate": certificate_dn(info.certificate) if info.certificate else None,
        }
        if info is not None
        else None
    )
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command("show")
def show(
    file: Annotated[Path, typer.Argument(help="A VIHF (or a SOAP message holding one).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Readable view of a VIHF (does not verify it; see ``dmp vihf verify``)."""
    assertion = _read(file)
    if as_json:
        _show_json(assertion)
        return
    table = Table(title=escape(f"VIHF {assertion.get('ID', '')}"), show_header=False)
    for label, value in _rows(read_assertion(assertion)):
        table.add_row(label, value)
    info = signature_info(assertion)
    table.add_row("signature", escape(info.signature_algorithm or "?") if info else "[yellow]unsigned[/yellow]")
    if info is not None:
        table.add_row("digest", escape(info.digest_algorithm or "?"))
        table.add_row(
            "certificate", escape(certificate_dn(info.certificate)) if info.certificate else "[red]none[/red]"
        )
    _console.print(table)


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="A VIHF (or a SOAP message holding one).")],
    ca: Annotated[Path, typer.Option(help="Trusted CA bundle (PEM): roots + intermediates.")],
    mode: Annotated[Mode | None, typer.Option(help="Expected mode (air, indirecte, directe).")] = None,
    now: Annotated[str | None, typer.Option(help="Verification time (ISO 8601, default: now).")] = None,
    tls_subject: Annotated[str | None, typer.Option(help="TLS client DN that must match the signer.")] = None,
    no_ins_key: Annotated[bool, typer.Option("--no-ins-key", help="Do not check the INS control key.")] = False,
) -> None:
    """Apply every VIHF rule: exit 0 when valid, 1 with the failed rule otherwise."""
    expected = AUTH_MODES
    try:
        if mode is Mode.PSC:
            raise DmpValidationError("--mode: a PSC VIHF is verified as air or indirecte", field="mode")
        policy = VerificationPolicy.from_ca_file(
            ca, expected_mode=expected.get(mode) if mode else None, check_ins_key=not no_ins_key
        )
        result = verify_vihf(_read(file), policy, now=_now(now), tls_client_subject=tls_subject)
    except (DmpConfigError, DmpValidationError) as exc:
        raise _fail(str(exc)) from None
    except DmpSecurityError as exc:
        _console.print(
            f"[red]invalid[/red] rule [bold]{escape(exc.rule)}[/bold] " + escape(f"({exc.dmp_code}): {exc.message}"),
            highlight=False,
        )
        raise typer.Exit(1) from None
    _print_valid(result.vihf, result.certificate, result.signature_algorithm)


def _print_valid(vihf: Vihf, certificate: x509.Certificate | None, algorithm: SignatureAlgorithm | None) -> None:
    signer = certificate_dn(certificate) if certificate else "unsigned"
    _console.print(
        "[green]valid[/green] "
        + escape(
            f"{vihf.mode.value} VIHF {vihf.assertion_id}, issued {vihf.issue_instant.isoformat()}, "
            f"purpose {vihf.purpose.value}, signed by {signer}" + (f" ({algorithm.value})" if algorithm else "")
        ),
        highlight=False,
    )
