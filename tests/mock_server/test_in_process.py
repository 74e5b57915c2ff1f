"""The in-process transport runs the very same client code against the mock, without sockets or TLS."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from dmpclient import AsyncDmpClient, DmpClient, DmpConfig
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import TestPki
from mock_server.inprocess import AsyncInProcessTransport, InProcessTransport
from mock_server.runtime import MockRuntime
from tests.mock_server.conftest import AIR_DOCTOR, CLOSED, PATB_QUATRE, TEST_OID


@pytest.fixture
def in_process(mock_runtime: MockRuntime, pki: TestPki) -> tuple[DmpConfig, InProcessTransport]:
    certificate = load_pem(pki.org_auth.cert, pki.org_auth.key).certificate
    return DmpConfig.for_test_pki(pki), InProcessTransport(mock_runtime.app, certificate)


def test_sync_client_against_the_mock_in_process(in_process: tuple[DmpConfig, InProcessTransport]) -> None:
    config, transport = in_process
    with DmpClient(config, transport=transport) as dmp:
        assert dmp.test_existence(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID).status is DmpStatus.ACTIVE
        assert dmp.test_existence(CLOSED, AIR_DOCTOR, ins_oid=TEST_OID).status is DmpStatus.CLOSED


async def test_async_client_against_the_mock_in_process(mock_runtime: MockRuntime, pki: TestPki) -> None:
    certificate = load_pem(pki.org_auth.cert, pki.org_auth.key).certificate
    transport = AsyncInProcessTransport(mock_runtime.app, certificate)
    async with AsyncDmpClient(DmpConfig.for_test_pki(pki), transport=transport) as dmp:
        answer = await dmp.administrative_data(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID)
        assert answer.status is DmpStatus.ACTIVE


def test_a_malformed_mtom_body_leaves_no_spooled_part(
    mock_runtime: MockRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body that fails mid-way after a large part was spooled to disk: a Sender fault, no temporary file left
    (the decoder deletes its files when ``feed`` raises)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    body = (
        b"--B\r\nContent-Type: application/xop+xml\r\nContent-ID: <root>\r\n\r\n<x/>\r\n"
        b"--B\r\nContent-ID: <a>\r\n\r\n" + b"A" * (3 << 20) + b"\r\n--B\r\nnot a header\r\n\r\nx\r\n--B--\r\n"
    )
    content_type = 'multipart/related; boundary="B"; type="application/xop+xml"; start="<root>"'
    status, _, chunks = mock_runtime.app.process_bytes("repository", content_type, body, None)
    assert status == 500
    assert b"MIME" in b"".join(chunks)
    assert list(tmp_path.iterdir()) == []
