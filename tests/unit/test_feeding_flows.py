"""No loss, no duplicate (reference §9.4, §9.7): the TD2.1 flow driven by hand, outcome by outcome.

The flow yields operations; the test plays the network: it answers, or throws the error a transport
would raise. What the flow yields next (a registry lookup, the same submission again, nothing) is the
behaviour under test.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from dmpclient.errors import (
    DmpConnectError,
    DmpError,
    DmpHttpError,
    DmpProtocolError,
    DmpRegistryError,
    DmpSoapFault,
    DmpSubmissionUnknownError,
    DmpTimeoutError,
    DmpTlsError,
    DmpTransportError,
    RegistryErrorItem,
)
from dmpclient.soap.envelope import read_soap
from dmpclient.soap.response import Response
from dmpclient.transactions import feeding, replacement
from dmpclient.transactions.operation import Operation
from dmpclient.xds.models import ObjectRef, ResponseStatus
from dmpclient.xds.results import QueryResult
from dmpclient.xds.submission import RegistryAnswer
from tests.feed_samples import OPTIONS, cda, document_id
from tests.golden import frozen_context

SUCCESS = RegistryAnswer(status=ResponseStatus.SUCCESS)
PRESENT = QueryResult(references=(ObjectRef(id="urn:uuid:1"),))
ABSENT = QueryResult()
DUPLICATE = DmpRegistryError(
    "dup", errors=[RegistryErrorItem(error_code="XDSDuplicateUniqueIdInRegistry", code_context="x")]
)


def _flow(**options: Any) -> tuple[feeding.Flow, feeding.SubmissionDraft]:
    ctx = frozen_context()
    draft = feeding.draft_submission(ctx, [feeding.FeedDocument(content=cda(1))], OPTIONS)
    return feeding.submission_flow(ctx, draft, b"<s/>", **options), draft


def _play(flow: feeding.Flow, script: list[object]) -> tuple[list[str], feeding.SubmissionResult]:
    """Answer each yielded operation from ``script`` (a result, or an error to throw); return what was yielded."""
    seen: list[str] = []
    op: Operation[Any] = next(flow)
    try:
        for step in script:
            seen.append(op.td + (" lookup" if op.spec is feeding.REFERENCE_LOOKUP else ""))
            op = flow.throw(step) if isinstance(step, BaseException) else flow.send(step)
    except StopIteration as done:
        return seen, done.value
    raise AssertionError(f"the flow wants more: {op.td}")


def test_a_plain_success_is_sent_once() -> None:
    flow, _ = _flow()
    seen, result = _play(flow, [SUCCESS])
    assert seen == ["TD2.1"]
    assert (result.recovered, result.attempts) == (False, 1)


def test_an_answer_lost_after_registration_is_recovered_by_asking_the_registry() -> None:
    flow, draft = _flow()
    seen, result = _play(flow, [DmpTimeoutError("read timeout"), PRESENT])
    assert seen == ["TD2.1", "TD3.1 lookup"]
    assert result.recovered
    assert result.documents == draft.submitted()


def test_an_absent_submission_is_sent_again_identically() -> None:
    flow, _ = _flow()
    ops: list[Operation[Any]] = [next(flow)]
    ops.append(flow.throw(DmpTransportError("connection reset")))
    ops.append(flow.send(ABSENT))
    with pytest.raises(StopIteration) as done:
        flow.send(SUCCESS)
    assert [op.spec for op in ops] == [
        feeding.PROVIDE_AND_REGISTER,
        feeding.REFERENCE_LOOKUP,
        feeding.PROVIDE_AND_REGISTER,
    ]
    assert ops[2].body is ops[0].body
    assert ops[2].attachments == ops[0].attachments
    assert done.value.value.attempts == 2


def test_a_duplicate_after_a_resend_is_checked_not_reported() -> None:
    flow, _ = _flow()
    seen, result = _play(flow, [DmpHttpError("502", status_code=502), ABSENT, DUPLICATE, PRESENT])
    assert seen == ["TD2.1", "TD3.1 lookup", "TD2.1", "TD3.1 lookup"]
    assert result.recovered
    assert result.attempts == 2


def test_a_duplicate_on_the_first_sending_is_a_refusal() -> None:
    flow, _ = _flow()
    next(flow)
    with pytest.raises(DmpRegistryError):
        flow.throw(DUPLICATE)


def test_when_the_registry_cannot_be_asked_the_outcome_stays_unknown() -> None:
    flow, draft = _flow()
    next(flow)
    flow.throw(DmpTimeoutError("read timeout"))
    with pytest.raises(DmpSubmissionUnknownError) as caught:
        flow.throw(DmpConnectError("server down"))
    assert caught.value.unique_ids == draft.unique_ids


def test_sent_twice_without_answer_and_still_absent_is_unknown() -> None:
    flow, _ = _flow(resend=1)
    next(flow)
    flow.throw(DmpTimeoutError("t"))
    flow.send(ABSENT)
    flow.throw(DmpTimeoutError("t"))
    with pytest.raises(DmpSubmissionUnknownError):
        flow.send(ABSENT)


def test_a_partial_presence_is_a_conflict() -> None:
    ctx = frozen_context()
    documents = [feeding.FeedDocument(content=cda(1)), feeding.FeedDocument(content=cda(2))]
    draft = feeding.draft_submission(ctx, documents, OPTIONS)
    flow = feeding.submission_flow(ctx, draft, b"<s/>")
    next(flow)
    flow.throw(DmpTimeoutError("t"))
    with pytest.raises(DmpRegistryError, match="1 of the 2"):
        flow.send(PRESENT)


def test_resuming_asks_the_registry_before_sending() -> None:
    flow, _ = _flow(check_first=True)
    seen, result = _play(flow, [PRESENT])
    assert seen == ["TD3.1 lookup"]
    assert result.recovered
    assert result.attempts == 0
    flow, _ = _flow(check_first=True)
    seen, result = _play(flow, [ABSENT, SUCCESS])
    assert seen == ["TD3.1 lookup", "TD2.1"]
    assert not result.recovered


@pytest.mark.parametrize(
    ("error", "unknown"),
    [
        (DmpConnectError("refused"), False),
        (DmpTlsError("handshake"), False),
        (DmpSoapFault("refused", code="Sender", subcode="DMPAccessDeniedByRightsService", reason="x"), False),
        (DmpRegistryError("failure"), False),
        (DmpTimeoutError("read"), True),
        (DmpTransportError("reset"), True),
        (DmpHttpError("502", status_code=502), True),
        (DmpProtocolError("unreadable answer"), True),
        (DmpSoapFault("server", code="Receiver", subcode=None, reason="x"), True),
    ],
)
def test_which_failures_may_hide_a_registered_submission(error: DmpError, unknown: bool) -> None:
    assert feeding.outcome_unknown(error) is unknown


def _retrieved(unique_id: str) -> Response:
    """A hand-written ITI-43 answer (reference §3.16) holding ``unique_id`` (inline bytes)."""
    envelope = (
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        '<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007" '
        'xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0">'
        '<rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>'
        "<xdsb:DocumentResponse><xdsb:RepositoryUniqueId>1.2.250.1.213.4.1.1.1.2</xdsb:RepositoryUniqueId>"
        f"<xdsb:DocumentUniqueId>{unique_id}</xdsb:DocumentUniqueId><xdsb:mimeType>text/xml</xdsb:mimeType>"
        f"<xdsb:Document>{base64.b64encode(cda(1)).decode()}</xdsb:Document></xdsb:DocumentResponse>"
        "</xdsb:RetrieveDocumentSetResponse></soap:Body></soap:Envelope>"
    )
    return Response(read_soap(envelope.encode()), None, 200)


def test_a_new_version_reads_back_the_previous_one_and_no_other() -> None:
    """Without ``previous``, the flow reads the previous version (TD3.2): an answer holding another document is
    refused by that call's decoder, not taken as the previous version."""
    ctx = frozen_context()
    document = feeding.FeedDocument(content=cda(2, version=2, set_number=1, replaces=1))
    flow = replacement.replacement_flow(ctx, document_id(1), document, lambda _: b"<s/>", options=OPTIONS)
    op = next(flow)
    assert op.td == "TD3.2"
    with pytest.raises(DmpProtocolError, match="did not ask for"):
        op.parse(_retrieved(document_id(7)))
    assert op.parse(_retrieved(document_id(1))).document(document_id(1)).content == cda(1)
