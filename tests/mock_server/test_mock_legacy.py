"""Legacy TD1.1 (creation) and TD1.2 (reactivation) against the mock over real mutual TLS: a rights fault
(reference §3.7, §8.3), after authentication, traced as refused; never a generic "unsupported" fault."""

from __future__ import annotations

import pytest
from lxml import etree

from dmpclient import DmpClient
from dmpclient.errors import DmpRightsError
from dmpclient.transactions.spec import TransactionSpec
from mock_server.handlers.legacy import LEGACY_CREATION, LEGACY_REACTIVATION
from mock_server.runtime import MockRuntime
from mock_server.store.records import Outcome
from tests.mock_server.conftest import PATB_QUATRE, TEST_OID, identity

HL7 = "urn:hl7-org:v3"


def _body(root: str, reason: str) -> etree._Element:
    """A minimal HL7v3 request of this interaction and reason code, naming the test patient (hand-written)."""
    return etree.fromstring(
        f"""<{root} xmlns="{HL7}" ITSVersion="XML_1.0">
  <id root="1.2.250.1.999.1" extension="legacy-1"/>
  <creationTime value="20260114164500"/>
  <interactionId root="2.16.840.1.113883.1.6" extension="{root}"/>
  <processingCode code="T"/><processingModeCode code="T"/><acceptAckCode code="AL"/>
  <receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.250.1.213.4.1.1.1"/>
  </device></receiver>
  <sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.250.1.999.1"/></device>
  </sender>
  <controlActProcess classCode="CACT" moodCode="EVN">
    <reasonCode code="{reason}" codeSystem="1.2.250.1.213.1.1.4.11"/>
    <subject typeCode="SUBJ"><registrationRequest classCode="REG" moodCode="RQO"><statusCode code="active"/>
      <subject1 typeCode="SBJ"><patient classCode="PAT"><id root="{TEST_OID}" extension="{PATB_QUATRE}"/>
      <statusCode code="active"/></patient></subject1>
    </registrationRequest></subject>
  </controlActProcess>
</{root}>""".encode()
    )


@pytest.mark.parametrize(
    ("spec", "reason"),
    [(LEGACY_CREATION, "CREA_RD"), (LEGACY_REACTIVATION, "REAC")],
    ids=["TD1.1", "TD1.2"],
)
def test_legacy_creation_and_reactivation_are_rights_faults(
    client: DmpClient, mock_runtime: MockRuntime, spec: TransactionSpec[None], reason: str
) -> None:
    op = spec.operation(_body(etree.QName(spec.request_root).localname, reason))
    with pytest.raises(DmpRightsError) as caught:
        client.execute(op, identity(), precheck=False)
    assert caught.value.subcode == "DMPAccessDeniedByRightsService"
    assert spec.td in caught.value.reason
    assert PATB_QUATRE not in str(caught.value)
    traced = [t for t in mock_runtime.store.access_trace(limit=50) if t.td == spec.td]
    assert traced
    assert traced[0].outcome is Outcome.REFUSED
