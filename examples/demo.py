"""`make demo`: the main job against the bundled mock DMP, step by step, printing what happened.

1. generate (or reuse) an IGC-Santé-like test PKI;
2. start the mock DMP over mutual TLS on a free loopback port (SQLite state, seeded on first run);
3. load the client configuration the mock wrote for us, as an integrator would;
4. build, sign and verify an AIR VIHF;
5. test existence and read the administrative record (TD0.2, TD1.3a) through the real client;
6. show what the DMP refuses: replayed AIR token, tampered VIHF, foreign client certificate,
   break-glass on a patient who opposed it, a call the rights matrices forbid (refused locally);
7. authorisations and lists: existence test → declare the authorisation (TD0.3) → the DMPs one is
   authorised on (TD0.4) and who is authorised on a DMP (TD1.6);
8. a minor's administrative record with his two legal representatives (TD1.3a);
9. consult in AIR (TD3.1, TD3.2): search a patient's DMP, list the documents, download one (checked
   against its size and hash), detect that a document integrated earlier has a newer version, and decide
   its integration with the versioning rules;
10. contextual web access in AIR (TD0.10): the launch accepted by the mock web PS, then its replay refused;
11. sign a professional in with Pro Santé Connect (CIBA, at the mock provider) and call TD0.2 and TD3.1 in
    PSC mode, with the exchanged Bearer token next to the VIHF;
12. feed the DMP (TD2.1, INDIRECTE, sent by the integration platform's mailbox): a generated CDA, signed
    (XAdES "signature du lot") and sent in MTOM; publish a new version (RPLC, CDA versioning checked); find it
    with ``find_new_versions`` from the consultation side; archive (TD3.3d);
13. print the access trace the mock recorded ("historique des accès").
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
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
    PurposeOfUse,
    WebPsPage,
)
from dmpclient.codes import Code
from dmpclient.psc import PscClient
from dmpclient.psc.profile import PscDmpProfile, TokenExchangeSettings
from dmpclient.security.pki import MANIFEST_NAME, TestPki, init_test_pki, load_test_pki
from dmpclient.security.tls import client_context
from dmpclient.security.verify import VerificationPolicy, verify_vihf
from dmpclient.security.vihf import NonPsRole, PatientId
from dmpclient.transactions import patients
from dmpclient.transactions.feeding import SubmissionOptions
from dmpclient.transactions.repository import document_file_name
from dmpclient.xds.cda import read_cda_header
from dmpclient.xds.cda_metadata import MetadataOverrides
from dmpclient.xds.codes import AvailabilityStatus
from dmpclient.xds.models import DocumentEntry
from dmpclient.xds.versions import KnownDocument, decide_import
from mock_server.psc import prepare_psc
from mock_server.psc.bearer import gate_check
from mock_server.psc.provider import ProviderSettings
from mock_server.runtime import MockRuntime, prepare, write_client_config
from mock_server.seed.cda import CdaAuthor, CdaDocument, CdaPatient, NonXmlBody, build_cda, minimal_pdf
from mock_server.server import start_in_thread
from mock_server.store.records import TraceEntry
from mock_server.webps.server import start_webps_in_thread

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
    webps = start_webps_in_thread(runtime.webps.app(), server_cert=pki.server.cert, server_key=pki.server.key)
    console.print(f"  listening on {server.services_url} (client certificate required)")
    console.print(f"  web PS site on https://localhost:{webps.port} (browsers: no client certificate)")
    try:
        config_path = write_client_config(runtime, server.services_url, webps_url=f"https://localhost:{webps.port}")
        step("Client configuration")
        config = DmpConfig.load(config_path)
        console.print(f"  loaded {config_path} → {config.endpoint}")
        console.print(f"  structure {config.structure.id}, LPS {config.lps.nom} {config.lps.version}")
        with DmpClient(config) as client:
            run_scenarios(client, pki)
            demo_authorisations(client)
            demo_lists(client)
            demo_administrative_record(client)
            run_consultation(client, DEMO_DIR / "downloads")
            demo_web_access(client, pki)
            run_feeding(client, pki)
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
        webps.stop()
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
    record = client.administrative_data(OPPOSES_BRIS_DE_GLACE, AIR_DOCTOR, ins_oid=InsOid.TEST)
    console.print(
        f"  TD1.3a oppositions → bris de glace {record.opposition_bris_de_glace}, "
        f"accès urgence {record.opposition_acces_urgence}"
    )

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
    expect_refusal(
        "TD3.1 metadata search with an establishment certificate (526: non), refused before sending",
        lambda: client.find_documents(
            PATB_QUATRE, CallerIdentity(DOCTOR, mode=AuthMode.INDIRECTE), ins_oid=InsOid.TEST
        ),
    )


def psc_scenario(runtime: MockRuntime, pki: TestPki, services_url: str) -> None:
    """Pro Santé Connect (reference §11): CIBA sign-in at the mock provider, then a DMP call in PSC mode."""
    step("Pro Santé Connect: CIBA sign-in, then TD0.2 and TD3.1 in PSC mode")
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
                caller = session.caller_identity()
                answer = dmp.test_existence(PATB_QUATRE, caller, ins_oid=InsOid.TEST)
                console.print(f"  TD0.2 in PSC mode (VIHF from UserInfo + exchanged Bearer) → {describe(answer)}")
                found = dmp.find_documents(PATB_QUATRE, caller, ins_oid=InsOid.TEST)
                console.print(f"  TD3.1 in PSC mode → {len(found.documents)} documents")
    finally:
        runtime.app.gate.bearer_check = None
        server.stop()


def run_consultation(client: DmpClient, downloads: Path) -> None:
    """TD3.1 search, TD3.2 download, new versions (reference §7), all in AIR."""
    step("TD3.1 search of a patient's DMP (AIR)")
    found = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=InsOid.TEST)
    print_documents(found.documents)
    step("TD3.2 download of a document, checked against its registry size and SHA-1")
    entry = found.documents[0]
    document = client.retrieve_document(
        PATB_QUATRE,
        AIR_DOCTOR,
        entry,
        ins_oid=InsOid.TEST,
        out=downloads / document_file_name(entry.unique_id, entry.mime_type),
    )
    console.print(f"  {entry.title}: {document.size} bytes, SHA-1 {document.hash} → {document.path}")
    header = read_cda_header(document.path.read_bytes()) if document.path else None
    if header is not None:
        console.print(f"  CDA id {header.id}, setId {header.set_id}, version {header.version_number}")
    detect_new_version(client, downloads, {entry.unique_id for entry in found.documents})


def detect_new_version(client: DmpClient, downloads: Path, current: set[str]) -> None:
    """A document integrated earlier has been replaced in the DMP since (RPLC, reference §7.3)."""
    step("A newer version of a document integrated earlier (one search + one chain query)")
    deprecated = client.find_documents(
        PATB_QUATRE, AIR_DOCTOR, ins_oid=InsOid.TEST, status=[AvailabilityStatus.DEPRECATED]
    ).documents
    old = [entry for entry in deprecated if entry.unique_id not in current]  # replaced, not only re-tagged
    integrated = [client.retrieve_document(PATB_QUATRE, AIR_DOCTOR, entry, ins_oid=InsOid.TEST) for entry in old[:1]]
    known = [KnownDocument.of(entry) for entry in old[:1]]
    report = client.find_new_versions(PATB_QUATRE, AIR_DOCTOR, known, ins_oid=InsOid.TEST)
    console.print(f"  {len(known)} integrated document(s) checked in {report.round_trips} round trip(s)")
    for check in report.replaced:
        assert check.current is not None
        console.print(
            f"  {check.known.unique_id} was replaced; current version {check.current.unique_id} ({check.current.title})"
        )
        newest = client.retrieve_document(
            PATB_QUATRE,
            AIR_DOCTOR,
            check.current,
            ins_oid=InsOid.TEST,
            out=downloads / document_file_name(check.current.unique_id, check.current.mime_type),
        )
        stored = [read_cda_header(d.content) for d in integrated if d.content]
        decision = decide_import(read_cda_header(newest.path.read_bytes()) if newest.path else stored[0], stored)
        console.print(f"  integration: {decision.action.value} ({decision.rule.value}: {decision.explanation})")


def print_documents(documents: Sequence[DocumentEntry]) -> None:
    table = Table("created", "title", "class", "status", "flags", "uniqueId")
    for entry in documents:
        flags = ("masqué " if entry.is_masked else "") + ("" if entry.is_visible_to_patient else "invisible patient")
        table.add_row(
            entry.creation_time.strftime("%Y-%m-%d") if entry.creation_time else "",
            entry.title or "",
            entry.class_code.display if entry.class_code else "",
            str(entry.status).rsplit(":", 1)[-1],
            flags,
            entry.unique_id,
        )
    console.print(table)


NEWLY_AUTHORISED = "153078987658513"  # PAT-TROIS Dominique: the demo's second physician is not authorised yet
SECOND_DOCTOR = CallerIdentity(
    Actor.professional("899900011118", name="NOUVEAU Paul", profession="10", specialty="SM26")
)
MINOR = "211046322000147"  # a minor: two legal representatives in the seed


def demo_authorisations(client: DmpClient) -> None:
    step("TD0.2 → TD0.3: a physician declares himself authorised (with the patient's consent)")
    before = client.test_existence(NEWLY_AUTHORISED, SECOND_DOCTOR, ins_oid=InsOid.TEST)
    console.print(f"  TD0.2 before → {describe(before)}")
    update = client.set_authorization(NEWLY_AUTHORISED, SECOND_DOCTOR, ins_oid=InsOid.TEST)
    console.print(f"  TD0.3 AJOUT → {update.status}: {update.context}")
    after = client.test_existence(NEWLY_AUTHORISED, SECOND_DOCTOR, ins_oid=InsOid.TEST)
    console.print(f"  TD0.2 after  → {describe(after)}")


def demo_lists(client: DmpClient) -> None:
    step("TD0.4 the DMPs a physician is authorised on / TD1.6 who is authorised on a DMP")
    listed = client.patient_list(AIR_DOCTOR)
    treated = sum(p.treating_physician for p in listed.patients)
    console.print(f"  TD0.4 → {len(listed.patients)} DMP, médecin traitant of {treated}")
    parties = client.list_authorizations(PATB_QUATRE, AIR_DOCTOR, ins_oid=InsOid.TEST).parties
    for party in parties:
        rights = f" {', '.join(party.specific_rights)}" if party.specific_rights else ""
        console.print(f"  TD1.6 → {party.kind.value:12} {party.national_id} {party.mode}{rights}")


def demo_administrative_record(client: DmpClient) -> None:
    step("TD1.3a a minor's administrative record and legal representatives")
    record = client.administrative_data(MINOR, AIR_DOCTOR, ins_oid=InsOid.TEST)
    console.print(f"  DMP {record.status.value}, born {record.birth_date}, {len(record.addresses)} address(es)")
    for representative in record.legal_representatives:
        contacts = ", ".join(t.kind.value for t in representative.telecoms)
        console.print(f"  representative {representative.relationship}: {representative.family} ({contacts})")
    console.print(
        f"  oppositions: bris de glace {record.opposition_bris_de_glace}, urgence {record.opposition_acces_urgence}"
    )


def demo_web_access(client: DmpClient, pki: TestPki) -> None:
    step("TD0.10 contextual web access in AIR: launch accepted, replay refused")
    launch = client.webps_launch(WebPsPage.DOSSIER_PATIENT, AIR_DOCTOR, ins=PATB_QUATRE, ins_oid=InsOid.TEST)
    console.print(f"  {launch.method} {launch!r} (the VIHF travels in the form, never printed)")
    with httpx.Client(verify=client_context(None, pki.ca_bundle), timeout=10) as browser:  # stands for the browser
        opened = browser.post(launch.url, data=dict(launch.form_fields))
        console.print(f"  web PS → HTTP {opened.status_code}, session cookie set: {'set-cookie' in opened.headers}")
        documents = browser.get(launch.url.replace("AccesDirectAIR/DossierPatient", "AccesDirect/Documents"))
        console.print(f"  documents page with the session → HTTP {documents.status_code}")
        browser.cookies.clear()
        replay = browser.post(launch.url, data=dict(launch.form_fields))
    code = replay.text.split('id="error-code">', 1)[-1].split("<", 1)[0]
    if replay.status_code != 403:
        console.print("  [red]replay NOT refused[/red]")
        raise SystemExit(1)
    console.print(f"  [green]refused as expected[/green] replayed launch → HTTP {replay.status_code} {code}")


PLATFORM = CallerIdentity(
    Actor.device(DOCTOR.national_id, name="PFI DEMO, v1, BAL applicative", kind=NonPsRole.AUTOMATE),
    mode=AuthMode.INDIRECTE,
)  # no professional sends: the integration platform's application mailbox, for the structure (DMP-CONF 12)
FEED_OPTIONS = SubmissionOptions(
    content_type_code="03",  # hospitalisation complète (JDV_J59)
    defaults=MetadataOverrides(practice_setting_code=Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9")),
)


def demo_cda(pki: TestPki, document_id: str, set_id: str, version: int, replaces: str | None, text: str) -> bytes:
    """A discharge letter (CDA level 1, PDF body) of PATB-QUATRE written by the demo physician."""
    author = CdaAuthor(
        DOCTOR.national_id,
        "LIBRE",
        "MAX",
        pki.structure_id,
        "CENTRE HOSPITALIER DE TEST DMPCLIENT",
        Code("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecin - Qualifié en Médecine Générale (SM)"),
    )
    patient = CdaPatient(PATB_QUATRE, InsOid.TEST, "PATB-QUATRE", "LAURENCE", "F", dt.date(1970, 5, 20))
    return build_cda(
        CdaDocument(
            document_id=document_id,
            set_id=set_id,
            version=version,
            type_code=Code("11490-0", "2.16.840.1.113883.6.1", "Lettre de liaison à la sortie"),
            title="Lettre de liaison à la sortie",
            effective_time=dt.datetime.now(dt.UTC),
            patient=patient,
            author=author,
            body=NonXmlBody("application/pdf", minimal_pdf([text], title="Lettre de liaison")),
            replaces=replaces,
            facility_type=Code("SA01", "1.2.250.1.71.4.2.4"),
        )
    )


def run_feeding(client: DmpClient, pki: TestPki) -> None:
    """TD2.1 (a new document, then a new version), the consultation side sees it, TD3.3d."""
    step("TD2.1: feed a generated CDA (INDIRECTE, XAdES signature du lot, MTOM)")
    root = f"1.2.250.1.999.1.9.{time.time_ns()}"  # fresh ids: the demo's mock keeps its data between runs
    first, second, set_id = f"{root}.1", f"{root}.2", f"{root}.0"
    v1 = demo_cda(pki, first, set_id, 1, None, "Sortie le 14/01 ; traitement inchangé.")
    fed = client.feed([v1], PLATFORM, options=FEED_OPTIONS)
    (document,) = fed.documents
    console.print(f"  sent by a device ({PLATFORM.actor.subject_id}) for structure {client.config.structure.id}")
    console.print(f"  {document.unique_id}: {document.title}, author {document.author_id} ({document.author_kind})")
    console.print(f"  submission {fed.submission_set_unique_id}, signature entry {fed.signature_unique_id}")

    step("TD2.1 + RPLC: a new version (same setId, versionNumber 2, relatedDocument RPLC)")
    v2 = demo_cda(pki, second, set_id, 2, first, "Sortie le 14/01 ; posologie corrigée.")
    expect_refusal(
        "a 'new version' with another setId (checked locally, nothing sent)",
        lambda: client.replace(
            first, demo_cda(pki, second, f"{root}.9", 2, first, "x"), PLATFORM, previous_cda=v1, options=FEED_OPTIONS
        ),
    )
    new = client.replace(first, v2, PLATFORM, previous_cda=v1, options=FEED_OPTIONS)
    console.print(f"  {new.documents[0].unique_id} replaces {first} (version {new.documents[0].version_number})")

    step("Consultation side (AIR): the integrated version has a newer one")
    report = client.find_new_versions(PATB_QUATRE, AIR_DOCTOR, [KnownDocument(unique_id=first)], ins_oid=InsOid.TEST)
    for check in report.checks:
        current = check.current.unique_id if check.current else "-"
        console.print(
            f"  {check.known.unique_id}: {check.state.value} → current {current} ({report.round_trips} round trips)"
        )

    step("TD3.3d: archive")
    expect_refusal(
        "archiving the replaced version (Deprecated: not a DMP transition)",
        lambda: client.archive(PATB_QUATRE, first, AIR_DOCTOR, ins_oid=InsOid.TEST),
    )
    archived = client.archive(PATB_QUATRE, second, AIR_DOCTOR, ins_oid=InsOid.TEST)
    console.print(f"  {second} → {archived.status.value if archived.status else ''}")


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
