"""Golden test of a whole request as the client sends it: TD0.2 body + signed AIR VIHF + SOAP/WS-A/WSS.

Build → validate against the official XSDs → parse back → compare, for both mustUnderstand forms.
"""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from dmpclient import Actor, CallerIdentity, DmpConfig, InsOid, issuer_from_config
from dmpclient.hl7v3.patient_query import parse_patient_query
from dmpclient.hl7v3.wrapper import Device
from dmpclient.security.pki import TestPki
from dmpclient.security.verify import VerificationPolicy, verify_vihf
from dmpclient.security.vihf import PatientId
from dmpclient.soap.envelope import MustUnderstandStyle, build_request, read_soap
from dmpclient.transactions import patients
from dmpclient.transactions.context import CallContext
from tests.xsd import assert_valid, schema

INS = "207058575627097"
DOCTOR = CallerIdentity(Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26"))


def _request(pki: TestPki, style: MustUnderstandStyle) -> tuple[bytes, dt.datetime]:
    config = DmpConfig.for_test_pki(pki)
    now = dt.datetime.now(dt.UTC)
    op = patients.test_existence(CallContext.frozen(_device(config), now), INS, InsOid.TEST)
    assertion = issuer_from_config(config).issue(DOCTOR, PatientId(ins=INS, oid=InsOid.TEST), now=now)
    envelope = build_request(
        op.body,
        action=op.spec.request_action,
        message_id="urn:uuid:0e0c7d7c-4b7a-4b53-9a51-3f8a2f1d6a10",
        to=config.service_url(op.spec.service),
        assertion=assertion,
        must_understand=style,
    )
    return envelope, now


def _device(config: DmpConfig) -> Device:
    return Device(config.lps.id, config.lps.nom)


def test_the_soap_form_validates_whole_against_the_bundle(pki: TestPki) -> None:
    envelope, _ = _request(pki, MustUnderstandStyle.SOAP)
    assert_valid(envelope, "bundle/all.xsd")


def test_the_official_form_deviates_only_by_its_unqualified_must_understand(pki: TestPki) -> None:
    """The official examples' ``mustUnderstand`` (no namespace) is the one thing ws-addr.xsd objects to."""
    envelope, _ = _request(pki, MustUnderstandStyle.UNPREFIXED)
    compiled = schema("bundle/all.xsd")
    assert not compiled.validate(etree.fromstring(envelope))
    errors = [error.message for error in compiled.error_log]
    assert errors
    assert all("mustUnderstand" in message for message in errors), errors


@pytest.mark.parametrize("style", list(MustUnderstandStyle))
def test_parse_back_gives_what_was_built(pki: TestPki, style: MustUnderstandStyle) -> None:
    envelope, now = _request(pki, style)
    message = read_soap(envelope)
    assert message.action == patients.TEST_EXISTENCE.request_action
    assert message.to is not None
    assert message.to.endswith("/si-dmp-server/v2/services/patients")
    assert message.body is not None
    query = parse_patient_query(message.body)
    assert (query.ins, query.ins_oid) == (INS, InsOid.TEST.value)
    assert message.assertion is not None
    verified = verify_vihf(message.assertion, VerificationPolicy.from_ca_file(pki.ca_bundle), now=now)
    assert verified.vihf.patient == PatientId(ins=INS, oid=InsOid.TEST)
