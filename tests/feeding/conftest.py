"""A mock DMP of its own for the feeding tests (they write to it), seeded, served over real mutual TLS.

The feeding tests add documents and change statuses: they do not share the session mock, whose content
other tests count. Each test takes fresh document numbers (:func:`fresh`), so tests do not depend on
each other's order.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator

import pytest
from cryptography import x509

from dmpclient import DmpClient
from dmpclient._prepare import issuer_from_config
from dmpclient.config import DmpConfig
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import Actor, AuthMode
from dmpclient.security.xades import SubmissionSigner
from dmpclient.security.xmldsig import SignatureAlgorithm, Signer
from mock_server.runtime import MockRuntime, prepare
from mock_server.seed.cda import CdaPatient
from mock_server.server import RunningServer, start_in_thread
from tests.feed_samples import PATB_QUATRE

DOCTOR = Actor.professional("899900063480", name="MAX LIBRE", profession="10", specialty="SM26")
NURSE = Actor.professional("899900023351", name="INFIRMIER TEST", profession="60")
AIR_DOCTOR = CallerIdentity(DOCTOR)
ESTABLISHMENT = CallerIdentity(DOCTOR, mode=AuthMode.INDIRECTE)  # the structure's certificate (526: ES)
AUTOMATE = CallerIdentity(Actor.device("899900063480", name="PFI, v3, BAL applicative"), mode=AuthMode.INDIRECTE)

_NUMBERS = itertools.count(1000)


def fresh() -> int:
    """A document number no other test of the session uses."""
    return next(_NUMBERS)


@pytest.fixture(scope="module")
def feed_runtime(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockRuntime]:
    runtime = prepare(tmp_path_factory.mktemp("feed-mock"), pki_dir=pki.directory, now=dt.datetime.now(dt.UTC))
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def feed_server(feed_runtime: MockRuntime, pki: TestPki) -> Iterator[RunningServer]:
    with start_in_thread(
        feed_runtime.app, server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle
    ) as server:
        yield server


@pytest.fixture(scope="module")
def feed_config(feed_server: RunningServer, pki: TestPki) -> DmpConfig:
    return DmpConfig.for_test_pki(pki, base_url=feed_server.services_url)


@pytest.fixture
def client(feed_config: DmpConfig) -> Iterator[DmpClient]:
    with DmpClient(feed_config) as dmp:
        yield dmp


@pytest.fixture(scope="module")
def other_patient(feed_runtime: MockRuntime) -> CdaPatient:
    """An adult with an open DMP, other than PATB-QUATRE."""
    for patient in feed_runtime.store.list_patients():
        if patient.ins != PATB_QUATRE and patient.dmp_status is DmpStatus.ACTIVE and not patient.minor:
            return CdaPatient(
                patient.ins,
                patient.ins_oid,
                patient.family_name,
                patient.given_name,
                patient.gender,
                patient.birth_date,
            )
    raise AssertionError("the seed has no other open DMP")


class ThreadRecordingSigner:
    """A signer that notes which thread signs (a card prompt, or a slow key, must not stall the event loop)."""

    def __init__(self, inner: Signer) -> None:
        self.inner = inner
        self.threads: set[int] = set()

    @property
    def certificate(self) -> x509.Certificate:
        return self.inner.certificate

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        self.threads.add(threading.get_ident())
        return self.inner.sign(data, algorithm)


def recording_submission_signer(config: DmpConfig) -> tuple[SubmissionSigner, ThreadRecordingSigner]:
    recording = ThreadRecordingSigner(issuer_from_config(config).signer)
    return SubmissionSigner(recording), recording
