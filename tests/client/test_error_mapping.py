"""Every failure while reading an answer is a DmpError, with the TD and the message id (issue "Reshape" item 8).

A decoder crash on an answer is the peer's unreadable answer (DmpProtocolError); a disk error while spooling an
MTOM part is on the transport side (DmpTransportError); a failure to prepare a retry (the VIHF factory) is logged
like any outcome of the call.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from pathlib import Path
from typing import Any

import pytest

from dmpclient import (
    Actor,
    CallerIdentity,
    DmpClient,
    DmpConfig,
    DmpHttpError,
    DmpProtocolError,
    DmpTransportError,
    DmpValidationError,
    Response,
)
from dmpclient.ids import InsOid
from dmpclient.soap.request import PreparedRequest
from dmpclient.transactions import patients
from tests.client.conftest import ECHO_ACTION, echo_body
from tests.golden import frozen_context


def _crashing_decoder(response: Response) -> Any:
    return response.message.body.nowhere  # type: ignore[union-attr]  # an AttributeError, as a decoder bug would


class _OneAnswer:
    """A transport answering every request with the same canned bytes."""

    def __init__(self, status: int, content_type: str, body: bytes) -> None:
        self.answer = (status, content_type, body)
        self.requests: list[PreparedRequest] = []

    def exchange(self, request: PreparedRequest, reader: Any, deadline: Any) -> None:
        self.requests.append(request)
        status, content_type, body = self.answer
        reader.start(status, content_type)
        reader.feed(body.replace(b"RELATES", request.message_id.encode()))

    def close(self) -> None:
        """Nothing to release."""


_ANSWER = (
    b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><wsa:RelatesTo>RELATES</wsa:RelatesTo>'
    b'</soap:Header><soap:Body><x:Anything xmlns:x="urn:x"/></soap:Body></soap:Envelope>'
)


def test_a_decoder_crash_is_a_protocol_error_with_td_and_message_id(echo_config: DmpConfig) -> None:
    op = patients.test_existence(frozen_context(), "207058575627097", "1.2.250.1.213.1.4.10")
    broken = dataclasses.replace(op, spec=dataclasses.replace(op.spec, decode=_crashing_decoder))
    transport = _OneAnswer(200, "application/soap+xml", _ANSWER)
    doctor = CallerIdentity(Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26"))
    with DmpClient(echo_config, transport=transport) as client, pytest.raises(DmpProtocolError) as caught:
        client.execute(broken, doctor)
    assert caught.value.td == "TD0.2"
    assert caught.value.message_id == transport.requests[0].message_id
    assert "AttributeError" in caught.value.message


def test_a_disk_error_while_spooling_an_attachment_is_a_transport_error(
    echo_config: DmpConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", "/nonexistent/dmpclient-spool")
    large = "x" * (2 << 20)  # beyond the 1 MiB spool threshold: written to a temporary file
    with DmpClient(echo_config) as client, pytest.raises(DmpTransportError) as caught:
        client.call(
            "echo",
            echo_body("MtomEcho", payload=large),
            action=ECHO_ACTION,
            td="TD3.2",
            assertion=None,
            idempotent=True,
        )
    assert "temporary directory" in caught.value.message
    assert caught.value.td == "TD3.2"


def test_a_failure_to_prepare_a_retry_is_logged_like_any_outcome(
    echo_config: DmpConfig, caplog: pytest.LogCaptureFixture
) -> None:
    config = echo_config.model_copy(update={"retry": echo_config.retry.model_copy(update={"max_attempts": 3})})
    calls = 0

    def headers() -> dict[str, str]:
        nonlocal calls
        calls += 1
        if calls > 1:  # the second attempt cannot be prepared (an expired session, a card removed…)
            raise DmpValidationError("the VIHF factory failed", field="identity")
        return {}

    caplog.set_level(logging.INFO, logger="dmpclient")
    with DmpClient(config, sleep=lambda _: None, headers=headers) as client, pytest.raises(DmpValidationError):
        client.call(
            "echo", echo_body("Unavailable", after="5"), action=ECHO_ACTION, td="TD3.1", assertion=None, idempotent=True
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "dmpclient" and r.levelno == logging.INFO]
    assert len(lines) == 1
    assert "TD3.1 echo -> DmpValidationError" in lines[0]
    assert "(1 attempt)" in lines[0]


def test_an_http_error_status_is_still_a_dmp_error(echo_config: DmpConfig) -> None:
    transport = _OneAnswer(502, "text/html", b"<html>bad gateway</html>")
    with DmpClient(echo_config, transport=transport) as client, pytest.raises(DmpHttpError) as caught:
        client.call("registry", echo_body(), action=ECHO_ACTION, td="TD3.1", assertion=None, idempotent=False)
    assert caught.value.status_code == 502
    assert "gateway" in caught.value.message
    assert caught.value.message_id == transport.requests[0].message_id


def test_the_structure_budget_of_answers_is_configurable(echo_config: DmpConfig) -> None:
    """An answer with more elements than ``xml.max_nodes`` is refused before a tree is built."""
    wide = _ANSWER.replace(
        b'<x:Anything xmlns:x="urn:x"/>', b'<x:Anything xmlns:x="urn:x">' + b"<x:i/>" * 50 + b"</x:Anything>"
    )
    tight = echo_config.model_copy(update={"xml": echo_config.xml.model_copy(update={"max_nodes": 20})})
    transport = _OneAnswer(200, "application/soap+xml", wide)
    with DmpClient(tight, transport=transport) as client, pytest.raises(DmpProtocolError) as refused:
        client.call("registry", echo_body(), action=ECHO_ACTION, td="TD3.1", assertion=None, idempotent=False)
    assert "max_nodes" in refused.value.message or "elements" in refused.value.message
    with DmpClient(echo_config, transport=_OneAnswer(200, "application/soap+xml", wide)) as client:
        response = client.call(
            "registry", echo_body(), action=ECHO_ACTION, td="TD3.1", assertion=None, idempotent=False
        )
        assert response.message.body is not None


def _retrieve_answer(unique_id: str) -> bytes:
    """A hand-written ITI-43 answer (reference §3.16) holding ``unique_id``, inline."""
    return (
        b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" '
        b'xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><wsa:RelatesTo>RELATES</wsa:RelatesTo>'
        b'</soap:Header><soap:Body><xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007" '
        b'xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0">'
        b'<rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>'
        b"<xdsb:DocumentResponse><xdsb:RepositoryUniqueId>1.2.250.1.213.4.1.1.1.2</xdsb:RepositoryUniqueId>"
        b"<xdsb:DocumentUniqueId>" + unique_id.encode() + b"</xdsb:DocumentUniqueId>"
        b"<xdsb:mimeType>text/xml</xdsb:mimeType><xdsb:Document>dGVzdA==</xdsb:Document></xdsb:DocumentResponse>"
        b"</xdsb:RetrieveDocumentSetResponse></soap:Body></soap:Envelope>"
    )


def test_retrieve_document_refuses_another_document_with_td_and_message_id(
    echo_config: DmpConfig, tmp_path: Path
) -> None:
    transport = _OneAnswer(200, "application/soap+xml", _retrieve_answer("1.2.250.1.999.1^OTHER"))
    doctor = CallerIdentity(Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26"))
    out = tmp_path / "asked.xml"
    with DmpClient(echo_config, transport=transport) as client, pytest.raises(DmpProtocolError) as caught:
        client.retrieve_document("207058575627097", doctor, "1.2.250.1.999.1^ASKED", ins_oid=InsOid.TEST, out=out)
    assert "1.2.250.1.999.1^OTHER" in caught.value.message
    assert caught.value.td == "TD3.2"
    assert caught.value.message_id == transport.requests[0].message_id
    assert list(tmp_path.iterdir()) == []
    transport.answer = (200, "application/soap+xml", _retrieve_answer("1.2.250.1.999.1^ASKED"))
    with DmpClient(echo_config, transport=transport) as client:
        document = client.retrieve_document("207058575627097", doctor, "1.2.250.1.999.1^ASKED", ins_oid=InsOid.TEST)
    assert (document.document_unique_id, document.content) == ("1.2.250.1.999.1^ASKED", b"test")
