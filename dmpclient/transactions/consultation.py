"""Multi-call consultation flows, sans I/O: generators that yield operations and receive their results.

A flow is driven by a client (``result = flow.send(client.execute(op))`` until it returns), so the sync
and the async client share one implementation, and tests can drive it without a network.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

from dmpclient.ids import validate_ins, validate_oid
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.registry import stored_query
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.results import QueryResult
from dmpclient.xds.versions import KnownDocument, NewVersionSearch, NewVersionsReport

__all__ = ["Flow", "new_versions"]

#: A flow: yields operations, is sent their results, returns its own result.
Flow = Generator[Operation[QueryResult], QueryResult, NewVersionsReport]


def new_versions(ctx: CallContext, ins: str, ins_oid: str, known: Sequence[KnownDocument]) -> Flow:
    """Which known documents have a newer version in the DMP (§7.3): one FindDocuments (Approved +
    Deprecated) for the patient, then one GetRelatedDocuments per replaced chain only."""
    patient = PatientRef(validate_ins(ins), validate_oid(ins_oid, field="ins_oid"))
    search = NewVersionSearch(Cx.patient(patient.ins, patient.oid), known)
    search.take_documents((yield stored_query(ctx, search.first_query(), patient=patient)))
    while (query := search.next_query()) is not None:
        search.take_related((yield stored_query(ctx, query, patient=patient)))
    return search.report()
