"""`make demo`: the main job against the bundled mock DMP, step by step, printing what happened.

1. generate (or reuse) an IGC-Santé-like test PKI;
2. start the mock DMP over mutual TLS on a free loopback port (SQLite state, seeded on first run);
3. load the client configuration the mock wrote for us, as an integrator would;
4. build, sign and verify an AIR VIHF;
5. run the transactions implemented so far (TD0.2, TD1.3a) through the real client;
6. show what the DMP refuses: replayed AIR token, tampered VIHF, foreign client certificate,
   break-glass on a patient who opposed it, a call the rights matrices forbid (refused locally);
7. sign a professional in with Pro Santé Connect (CIBA, at the mock provider) and call TD0.2 in PSC mode,
   with the exchanged Bearer token next to the VIHF;
8. print the access trace the mock recorded ("historique des accès").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dmpclient import (
    Actor,
    AuthMode,
    CallerIdentity,
    DmpClient,
    DmpConfig,
    DmpError,
    ExistenceAnswer,
    InsOid,
    Operation,
    PurposeOfUse,
)
from dmpclient.psc import PscClient
from dmpclient.psc.profile import PscDmpProfile, TokenExchangeSettings
from dmpclient.security.pki import MANIFEST_NAME, TestPki, init_test_pki, load_test_pki
from dmpclient.security.verify import VerificationPolicy, verify_vihf
from dmpclient.security.vihf import PatientId
from dmpclient.transactions import patients
from dmpclient.transactions.rights import RightsAction
from mock_server.psc import prepare_psc
from mock_server.psc.bearer import gate_check
from mock_server.psc.provider import ProviderSettings
from mock_server.runtime import MockRuntime, prepare, write_client_config
from mock_server.server import start_in_thread
from mock_server.store.records import TraceEntry

DEMO_DIR = Path(".demo")
PATB_QUATRE = "207058575627097"  # the demo physician is her médecin traitant
CLOSED_DMP = "270108604926542"
OPPOSES_BRIS_DE_GLACE = "188102B17295264"
BLOCKED_BY_PATIENT = "279035121518989"  # the patient blocked the demo physician

console = Console(highlight=False, width=120)
_step = 0


def step(title: str) -> None:
    global _step  # noqa: PLW0603 - a simple step counter for the printout
    _step += 1
    console.rule(f"[bold]{_step}. {title}")


def expect_refusal(label: str, action: Callable[[], object]) -> None:
    """Run ``action`` and print the typed error it must raise."""
    try:
        action()
    except DmpError as exc:
        code = getattr(exc, "subcode", None) or getattr(exc, "rule", None) or ""
        console.print(f"  [green]refused as expected[/green] {label}: [cyan]{type(exc).__name__}[/cyan] {code}")
        console.print(f"    {exc.message[:240]}")
        return
    console.print(f"  [red]NOT refused[/red]: {label}")
    raise SystemExit(1)


def demo_pki(directory: Path, ca_prefix: str = "TEST") -> TestPki:
    """Reuse the PKI of an earlier run, or generate one."""
    if (directory / MANIFEST_NAME).exists():
        return load_test_pki(directory)
    return init_test_pki(directory, ca_prefix=ca_prefix)


def describe(answer: ExistenceAnswer) -> str:
    authorisation = answer.authorization.value if answer.authorization else "-"
    return f"status={answer.status.value} authorisation={authorisation} MT={answer.treating_physician}"


def main() -> int:
    started, run_start = time.perf_counter(), dt.datetime.now(dt.UTC)
    step("Test PKI (IGC-Santé-like; generated, never committed)")
    pki = demo_pki(DEMO_DIR / "pki")
    rogue = demo_pki(DEMO_DIR / "rogue-pki", ca_prefix="ROGUE")
    for label, files in (("ORG AUTH_CLI", pki.org_auth), ("ORG SIGN", pki.org_sign), ("mock server", pki.server)):
        console.print(f"  {label:13} {files.subject}")

    step("Mock DMP over mutual TLS")
    runtime = prepare(DEMO_DIR / "data", pki_dir=pki.directory)
    counts = runtime.store.counts()
    fresh = "seeded now" if runtime.seeded is not None else "kept from an earlier run"
    console.print(f"  SQLite store ({fresh}): {counts['patients']} patients, {counts['documents']} documents")
    server = start_in_thread(
        runtime.app, server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle
    )
    console.print(f"  listening on {server.services_url} (client certificate required)")
    try:
        config_path = write_client_config(runtime, server.services_url)
        step("Client configuration")
        config = DmpConfig.load(config_path)
        console.print(f"  loaded {config_path} → {config.endpoint}")
        console.print(f"  structure {config.structure.id}, LPS {config.lps.nom} {config.lps.version}")
        with DmpClient(config) as client:
            run_scenarios(client, pki)
        psc_scenario(runtime, pki, server.services_url)
        foreign = DmpConfig.for_test_pki(rogue, base_url=server.services_url).model_copy(
            update={"ca_bundle": pki.ca_bundle}
        )
        with DmpClient(foreign) as stranger:
            expect_refusal(
                "client certificate from another CA (mutual TLS)",
                lambda: stranger.test_existence(PATB_QUATRE, AIR_DOCTOR, ins_oid=InsOid.TEST),
            )
        print_trace([e for e in runtime.store.access_trace(limit=50) if e.at >= run_start])
    finally:
        server.stop()
        runtime.close()
    console.rule(f"[bold green]demo finished in {time.perf_counter() - started:.1f} s")
    return 0


DOCTOR = Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26")
AIR_DOCTOR = CallerIdentity(DOCTOR)


def run_scenarios(client: DmpClient, pki: TestPki) -> None:
    step("VIHF (AIR): build, sign, verify")
    now = dt.datetime.now(dt.UTC)
    patient = PatientId(ins=PATB_QUATRE, oid=InsOid.TEST)
    signed = client.vihf_issuer.issue(AIR_DOCTOR, patient, now=now)
    verified = verify_vihf(signed, VerificationPolicy.from_ca_file(pki.ca_bundle, replay_cache=None), now=now)
    vihf = verified.vihf
    console.print(f"  {len(signed)} bytes, mode {vihf.mode.value}, purpose {vihf.purpose.value}")
    console.print(f"  issuer {vihf.issuer}")
    console.print(f"  roles {[role.code for role in vihf.roles]}, signature {verified.signature_algorithm}")

    step("TD0.2 test d'existence / TD1.3a données administratives")
    for ins, what in ((PATB_QUATRE, "open DMP, caller is MT"), (CLOSED_DMP, "closed DMP")):
        console.print(f"  TD0.2 {what:24} → {describe(client.test_existence(ins, AIR_DOCTOR, ins_oid=InsOid.TEST))}")
    answer = client.administrative_data(OPPOSES_BRIS_DE_GLACE, AIR_DOCTOR, ins_oid=InsOid.TEST)
    console.print(f"  TD1.3a oppositions → {answer.observations}")

    step("What the DMP refuses")
    op = patients.test_existence(client.context, PATB_QUATRE, InsOid.TEST)

    def send(assertion: bytes) -> object:
        return client.call(
            op.spec.service, op.body, action=op.spec.request_action, td=op.td, assertion=assertion, idempotent=False
        )

    def token(age: float = 0.0) -> bytes:
        issued = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age)
        return client.vihf_issuer.issue(AIR_DOCTOR, patient, now=issued)

    once = token()
    send(once)
    expect_refusal("replayed AIR token (single use, EX_AIR-040)", lambda: send(once))
    expect_refusal("VIHF modified after signature", lambda: send(token().replace(b"SA01", b"SA07")))
    expect_refusal("AIR token older than 30 s", lambda: send(token(age=45)))
    blocked = client.test_existence(BLOCKED_BY_PATIENT, AIR_DOCTOR, ins_oid=InsOid.TEST)
    console.print(f"  TD0.2 on a DMP whose patient blocked us → {describe(blocked)}")
    expect_refusal(
        "TD1.3a by a professional the patient blocked",
        lambda: client.administrative_data(BLOCKED_BY_PATIENT, AIR_DOCTOR, ins_oid=InsOid.TEST),
    )
    break_glass = CallerIdentity(DOCTOR, purpose=PurposeOfUse.BRIS_DE_GLACE)
    expect_refusal(
        "bris de glace on a patient who opposed it",
        lambda: client.test_existence(OPPOSES_BRIS_DE_GLACE, break_glass, ins_oid=InsOid.TEST),
    )
    metadata_search: Operation[ExistenceAnswer] = dataclasses.replace(
        op, spec=dataclasses.replace(op.spec, td="TD3.1", rights=(RightsAction.TD3_1_RECHERCHE_METADONNEES,))
    )
    expect_refusal(
        "TD3.1 metadata search with an establishment certificate (526: non), refused before sending",
        lambda: client.execute(metadata_search, CallerIdentity(DOCTOR, mode=AuthMode.INDIRECTE)),
    )


def psc_scenario(runtime: MockRuntime, pki: TestPki, services_url: str) -> None:
    """Pro Santé Connect (reference §11): CIBA sign-in at the mock provider, then a DMP call in PSC mode."""
    step("Pro Santé Connect: CIBA sign-in, then TD0.2 in PSC mode")
    psc = prepare_psc(DEMO_DIR / "psc", pki, settings=ProviderSettings(ciba_auto_approve_after=1))
    server = start_in_thread(
        psc.app,
        server_cert=pki.server.cert,
        server_key=pki.server.key,
        client_ca=pki.ca_bundle,
        require_client_cert=False,
        tls12_only=False,
    )
    try:
        psc.serve_at(server.base_url)
        runtime.app.gate.bearer_check = gate_check(psc.provider)  # the mock DMP checks the Bearer (§11.5)
        config = DmpConfig.load(write_client_config(runtime, services_url, psc.provider.issuer))
        exchange = TokenExchangeSettings(
            token_endpoint=psc.provider.token_endpoint, audience=psc.provider.settings.dmp_audience
        )
        assert config.psc is not None
        settings = config.psc.model_copy(update={"dmp": PscDmpProfile(token_exchange=exchange)})
        with PscClient.from_dmp_config(config, settings) as psc_client:
            session = psc_client.sign_in_ciba(
                DOCTOR.national_id,
                binding_message="42",
                on_started=lambda started: console.print(
                    f"  CIBA request sent to the e-CPS app of {DOCTOR.national_id}: code 42 shown to the user, "
                    f"polling every {started.interval} s (the mock approves after 1 s)"
                ),
            )
            identity = session.identity
            console.print(f"  signed in: {identity.display_name} ({identity.national_id})")
            with DmpClient(config, headers=session.dmp_authorization_header) as dmp:
                answer = dmp.test_existence(PATB_QUATRE, session.caller_identity(), ins_oid=InsOid.TEST)
            console.print(f"  TD0.2 in PSC mode (VIHF from UserInfo + exchanged Bearer) → {describe(answer)}")
    finally:
        runtime.app.gate.bearer_check = None
        server.stop()


def print_trace(entries: list[TraceEntry]) -> None:
    step("Access trace recorded by the mock (historique des accès)")
    table = Table("TD", "outcome", "caller", "mode", "access", "detail")
    for entry in reversed(entries):
        caller = f"{entry.ps_id}@{entry.structure_id}"
        detail = (entry.detail or "")[:70]
        table.add_row(entry.td, entry.outcome.value, caller, entry.auth_mode or "", entry.access_mode or "", detail)
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
