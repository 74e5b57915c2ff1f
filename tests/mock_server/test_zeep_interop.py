"""An independent SOAP client against the mock: zeep, driven by the WSDLs the mock serves at ``?wsdl``.

zeep knows nothing of dmpclient's codecs: it reads our WSDL (written from the reference), builds the bodies from
it, adds WS-Addressing headers with its own plugin (``wsa:Action`` from the WSDL's ``wsam:Action``) and talks
SOAP 1.2 over mutual TLS with ``requests``. The signed VIHF goes into ``wsse:Security`` through zeep's ``wsse``
hook. TD0.3, TD1.6 and TD0.4 are called this way and their results compared with what dmpclient reads.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from dmpclient._client import DmpClient
from dmpclient.hl7v3.patient_query import AuthorizationStatus
from dmpclient.security.credentials import load_pem
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import client_context
from dmpclient.security.vihf import Actor, PatientId, PurposeOfUse
from tests.mock_server.conftest import DOCTOR, PATB_QUATRE, TEST_OID, FreshMock, identity

zeep = pytest.importorskip("zeep", reason="zeep is not installed (pip install -e '.[dev]')")
requests_adapters = pytest.importorskip("requests.adapters")
import requests  # noqa: E402
from zeep.exceptions import Fault  # noqa: E402
from zeep.transports import Transport  # noqa: E402
from zeep.wsa import WsAddressingPlugin  # noqa: E402
from zeep.wsdl.utils import get_or_create_header  # noqa: E402

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
AUTHORISED = "153078987658513"
NEWCOMER = Actor.professional("899900011118", name="NOUVEAU Paul", profession="10", specialty="SM26")


class _TlsAdapter(requests_adapters.HTTPAdapter):  # type: ignore[misc]
    """requests over a given SSL context: mutual TLS with the ORG AUTH_CLI certificate, the test CAs only."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self.context
        super().init_poolmanager(*args, **kwargs)


class VihfSecurity:
    """zeep's ``wsse`` hook: a signed VIHF in ``wsse:Security`` (DMP answers are not signed: nothing to verify)."""

    def __init__(self, assertion: bytes) -> None:
        self.assertion = assertion

    def apply(self, envelope: etree._Element, headers: dict[str, str]) -> tuple[etree._Element, dict[str, str]]:
        security = etree.SubElement(get_or_create_header(envelope), f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
        security.append(etree.fromstring(self.assertion))
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        return envelope


class ZeepDmp:
    """zeep clients of the mock's custom services, each call with a fresh VIHF from dmpclient's issuer."""

    def __init__(self, fresh: FreshMock, pki: TestPki) -> None:
        session = requests.Session()
        session.mount(
            "https://", _TlsAdapter(client_context(load_pem(pki.org_auth.cert, pki.org_auth.key), pki.ca_bundle))
        )
        self.session = session
        self.transport = Transport(session=session, timeout=10)
        self.services = fresh.server.services_url
        self.issuer = DmpClient(fresh.config).vihf_issuer

    def client(self, service: str) -> Any:
        url = f"{self.services}/{service}?wsdl"
        return zeep.Client(url, transport=self.transport, plugins=[WsAddressingPlugin()])

    def call(self, service: str, operation: str, who: CallerIdentity, ins: str | None, **arguments: Any) -> Any:
        client = self.client(service)
        patient = PatientId(ins=ins, oid=TEST_OID) if ins else None
        client.wsse = VihfSecurity(self.issuer.issue(who, patient, now=dt.datetime.now(dt.UTC)))
        return getattr(client.service, operation)(**arguments)


@pytest.fixture
def zeep_dmp(fresh_mock: FreshMock, pki: TestPki) -> Iterator[ZeepDmp]:
    client = ZeepDmp(fresh_mock, pki)
    yield client
    client.session.close()  # no keep-alive connection left for the server's shutdown to wait on


def test_the_wsdls_are_served_and_read_by_zeep(zeep_dmp: ZeepDmp) -> None:
    habilitations = zeep_dmp.client("habilitations")
    operations = habilitations.service._binding._operations  # zeep's own view of our WSDL
    assert sorted(operations) == ["listAuthorizationByPatient", "setAuthorization"]
    assert operations["setAuthorization"].soapaction == "urn:hl7-org:v3:setAuthorization"
    assert operations["setAuthorization"].abstract.wsa_action == (
        "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization"
    )
    assert sorted(zeep_dmp.client("patientsSpecific").service._binding._operations) == ["patientList"]


def test_td03_and_td16_through_zeep(zeep_dmp: ZeepDmp, fresh_mock: FreshMock) -> None:
    newcomer = identity(NEWCOMER)
    added = zeep_dmp.call("habilitations", "setAuthorization", newcomer, AUTHORISED, action="AJOUT")
    assert (added.status, added.context) == ("DMPOk", "Autorisation ajoutée")
    with DmpClient(fresh_mock.config) as dmp:  # dmpclient sees what zeep did
        assert dmp.test_existence(AUTHORISED, newcomer, ins_oid=TEST_OID).authorization is AuthorizationStatus.VALIDE
        ours = dmp.list_authorizations(AUTHORISED, newcomer, ins_oid=TEST_OID)

    listed = zeep_dmp.call("habilitations", "listAuthorizationByPatient", newcomer, AUTHORISED, mode="TOUTE")
    assert listed.status == "DMPOk"
    theirs = {entry.nationalId: entry for entry in listed.listOfAuthorizationByPatient}
    assert set(theirs) == {party.national_id for party in ours.parties}
    mine = theirs[NEWCOMER.national_id]
    assert (mine.lastName, mine.firstName, mine.mode, mine.codeSpeciality) == (
        "NOUVEAU",
        "Paul",
        "ACTIVE",
        ["G15_10/SM26"],
    )

    removed = zeep_dmp.call("habilitations", "setAuthorization", newcomer, AUTHORISED, action="SUPPRESSION")
    assert removed.context == "Autorisation supprimée"


def test_td04_through_zeep(zeep_dmp: ZeepDmp, fresh_mock: FreshMock) -> None:
    output = zeep_dmp.call(
        "patientsSpecific", "patientList", identity(), None, startDate="20000101000000", dateType="LASTAUTORIZATION"
    )
    assert output.status == "DMPOk"
    with DmpClient(fresh_mock.config) as dmp:
        ours = dmp.patient_list(identity(), since=dt.date(2000, 1, 1))
    theirs = {entry.patientIdentifier[0].nationalId: entry for entry in output.patientlistData}
    assert set(theirs) == {p.ins for p in ours.patients}
    assert theirs[PATB_QUATRE].MT is True
    assert theirs[PATB_QUATRE].lastName == next(p.last_name for p in ours.patients if p.ins == PATB_QUATRE)


def test_a_rights_refusal_reaches_zeep_as_a_soap_fault(zeep_dmp: ZeepDmp) -> None:
    break_glass = CallerIdentity(DOCTOR, purpose=PurposeOfUse.BRIS_DE_GLACE)
    with pytest.raises(Fault) as caught:
        zeep_dmp.call("habilitations", "setAuthorization", break_glass, AUTHORISED, action="AJOUT")
    assert "Accès refusé" in caught.value.message
    assert [subcode.localname for subcode in caught.value.subcodes] == ["DMPAccessDeniedByRightsService"]
