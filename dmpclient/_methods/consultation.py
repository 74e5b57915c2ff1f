"""Client methods of TD3.1 (stored queries), TD3.2 (retrieve) and new versions (§7.3), sync and async."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Unpack

from dmpclient._shell import AsyncApi, SyncApi
from dmpclient.ids import InsOid
from dmpclient.security.issuer import CallerIdentity
from dmpclient.transactions import consultation, registry, repository
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.registry import DocumentFilters
from dmpclient.transactions.repository import DocumentTarget, RetrievedDocument, RetrieveResult
from dmpclient.xds.codes import AssociationType
from dmpclient.xds.models import ReturnType
from dmpclient.xds.queries import StoredQuery
from dmpclient.xds.results import QueryResult
from dmpclient.xds.versions import KnownDocument, NewVersionsReport

__all__ = ["AsyncConsultationMethods", "ConsultationMethods"]


def _query_op(
    context: CallContext, query: StoredQuery, ins: str | None, ins_oid: str, return_type: ReturnType
) -> Operation[QueryResult]:
    patient = PatientRef(ins, ins_oid) if ins is not None else None
    return registry.stored_query(context, query, return_type=return_type, patient=patient)


def _single(result: RetrieveResult) -> RetrievedDocument:
    """The document of :func:`~dmpclient.transactions.repository.retrieve_document`, whose decoder checked that
    the answer holds exactly the one requested (its errors carry the TD and message id)."""
    (document,) = result.documents
    return document


class ConsultationMethods(SyncApi):
    """TD3.1."""

    def find_documents(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        return_type: ReturnType = ReturnType.LEAF_CLASS,
        **filters: Unpack[DocumentFilters],
    ) -> QueryResult:
        """TD3.1a FindDocuments: the patient's documents (Approved by default) matching the filters (§4.8).

        Raises:
            DmpTooManyResultsError: the DMP refused a search this broad; narrow it (dates, codes).
            DmpRegistryError: another registry Failure.
        """
        return self.execute(
            registry.find_documents(self.context, ins, ins_oid, return_type=return_type, **filters), identity
        )

    def get_documents(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        unique_ids: Sequence[str] = (),
        entry_uuids: Sequence[str] = (),
        return_type: ReturnType = ReturnType.LEAF_CLASS,
    ) -> QueryResult:
        """TD3.1 GetDocuments by uniqueIds or entryUUIDs (ObjectRef for a reference search, TD3.1b)."""
        op = registry.get_documents(
            self.context, ins, ins_oid, unique_ids=unique_ids, entry_uuids=entry_uuids, return_type=return_type
        )
        return self.execute(op, identity)

    def get_related_documents(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        unique_id: str | None = None,
        entry_uuid: str | None = None,
        association_types: Sequence[AssociationType | str] = (AssociationType.RPLC,),
        return_type: ReturnType = ReturnType.LEAF_CLASS,
    ) -> QueryResult:
        """TD3.1 GetRelatedDocuments: a document's replacement chain (RPLC) and its associations."""
        op = registry.get_related_documents(
            self.context,
            ins,
            ins_oid,
            unique_id=unique_id,
            entry_uuid=entry_uuid,
            association_types=association_types,
            return_type=return_type,
        )
        return self.execute(op, identity)

    def get_submission_set_and_contents(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        unique_id: str | None = None,
        entry_uuid: str | None = None,
        return_type: ReturnType = ReturnType.LEAF_CLASS,
    ) -> QueryResult:
        """TD3.1 GetSubmissionSetAndContents: a submission set with its documents and associations."""
        op = registry.get_submission_set_and_contents(
            self.context, ins, ins_oid, unique_id=unique_id, entry_uuid=entry_uuid, return_type=return_type
        )
        return self.execute(op, identity)

    def query(
        self,
        query: StoredQuery,
        identity: CallerIdentity,
        *,
        ins: str | None = None,
        ins_oid: str = InsOid.NIR,
        return_type: ReturnType = ReturnType.LEAF_CLASS,
    ) -> QueryResult:
        """TD3.1: any of the fourteen stored queries (``ins`` is needed when the query names no patient)."""
        return self.execute(_query_op(self.context, query, ins, ins_oid, return_type), identity)

    def retrieve_documents(
        self,
        ins: str,
        identity: CallerIdentity,
        documents: Sequence[DocumentTarget],
        *,
        ins_oid: str = InsOid.NIR,
        out_dir: Path | None = None,
    ) -> RetrieveResult:
        """TD3.2: several documents in one call, in memory or written to ``out_dir`` (checked against the size
        and hash of the document entries given).

        Raises:
            DmpIntegrityError: a document differs from its registry size or hash (no file is left for it;
                the documents of the answer checked before it are already in ``out_dir``).
            DmpRegistryError: the DMP returned none of them.
        """
        return self.execute(repository.retrieve(self.context, ins, ins_oid, documents, out_dir=out_dir), identity)

    def retrieve_document(
        self,
        ins: str,
        identity: CallerIdentity,
        document: DocumentTarget,
        *,
        ins_oid: str = InsOid.NIR,
        out: Path | None = None,
    ) -> RetrievedDocument:
        """TD3.2: one document, in memory or streamed to ``out`` (never held in memory whole).

        Raises:
            DmpIntegrityError: the document differs from its registry size or hash (no file is left).
            DmpRegistryError: the DMP did not return it (unknown uniqueId, rights).
            DmpProtocolError: the answer holds another document than the one asked for, or none.
        """
        result = self.execute(repository.retrieve_document(self.context, ins, ins_oid, document, out=out), identity)
        return _single(result)

    def find_new_versions(
        self, ins: str, identity: CallerIdentity, known: Sequence[KnownDocument], *, ins_oid: str = InsOid.NIR
    ) -> NewVersionsReport:
        """Which integrated documents have a newer version in the DMP: one FindDocuments for the patient,
        plus one GetRelatedDocuments per replaced document chain only (reference §7.3)."""
        flow = consultation.new_versions(self.context, ins, ins_oid, known)
        try:
            op = next(flow)
            while True:
                op = flow.send(self.execute(op, identity))
        except StopIteration as done:
            report: NewVersionsReport = done.value
            return report


class AsyncConsultationMethods(AsyncApi):
    """The awaited twins of :class:`ConsultationMethods`."""

    async def find_documents(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        return_type: ReturnType = ReturnType.LEAF_CLASS,
        **filters: Unpack[DocumentFilters],
    ) -> QueryResult:
        """See :meth:`DmpClient.find_documents`."""
        return await self.execute(
            registry.find_documents(self.context, ins, ins_oid, return_type=return_type, **filters), identity
        )

    async def get_documents(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        unique_ids: Sequence[str] = (),
        entry_uuids: Sequence[str] = (),
        return_type: ReturnType = ReturnType.LEAF_CLASS,
    ) -> QueryResult:
        """TD3.1 GetDocuments by uniqueIds or entryUUIDs (ObjectRef for a reference search, TD3.1b)."""
        op = registry.get_documents(
            self.context, ins, ins_oid, unique_ids=unique_ids, entry_uuids=entry_uuids, return_type=return_type
        )
        return await self.execute(op, identity)

    async def get_related_documents(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        unique_id: str | None = None,
        entry_uuid: str | None = None,
        association_types: Sequence[AssociationType | str] = (AssociationType.RPLC,),
        return_type: ReturnType = ReturnType.LEAF_CLASS,
    ) -> QueryResult:
        """TD3.1 GetRelatedDocuments: a document's replacement chain (RPLC) and its associations."""
        op = registry.get_related_documents(
            self.context,
            ins,
            ins_oid,
            unique_id=unique_id,
            entry_uuid=entry_uuid,
            association_types=association_types,
            return_type=return_type,
        )
        return await self.execute(op, identity)

    async def get_submission_set_and_contents(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        unique_id: str | None = None,
        entry_uuid: str | None = None,
        return_type: ReturnType = ReturnType.LEAF_CLASS,
    ) -> QueryResult:
        """TD3.1 GetSubmissionSetAndContents: a submission set with its documents and associations."""
        op = registry.get_submission_set_and_contents(
            self.context, ins, ins_oid, unique_id=unique_id, entry_uuid=entry_uuid, return_type=return_type
        )
        return await self.execute(op, identity)

    async def query(
        self,
        query: StoredQuery,
        identity: CallerIdentity,
        *,
        ins: str | None = None,
        ins_oid: str = InsOid.NIR,
        return_type: ReturnType = ReturnType.LEAF_CLASS,
    ) -> QueryResult:
        """TD3.1: any of the fourteen stored queries (``ins`` is needed when the query names no patient)."""
        return await self.execute(_query_op(self.context, query, ins, ins_oid, return_type), identity)

    async def retrieve_documents(
        self,
        ins: str,
        identity: CallerIdentity,
        documents: Sequence[DocumentTarget],
        *,
        ins_oid: str = InsOid.NIR,
        out_dir: Path | None = None,
    ) -> RetrieveResult:
        """TD3.2: several documents in one call, in memory or written to ``out_dir`` (checked against the size
        and hash of the document entries given).

        Raises:
            DmpIntegrityError: a document differs from its registry size or hash (no file is left for it;
                the documents of the answer checked before it are already in ``out_dir``).
            DmpRegistryError: the DMP returned none of them.
        """
        return await self.execute(repository.retrieve(self.context, ins, ins_oid, documents, out_dir=out_dir), identity)

    async def retrieve_document(
        self,
        ins: str,
        identity: CallerIdentity,
        document: DocumentTarget,
        *,
        ins_oid: str = InsOid.NIR,
        out: Path | None = None,
    ) -> RetrievedDocument:
        """TD3.2: one document, in memory or streamed to ``out`` (never held in memory whole).

        Raises:
            DmpIntegrityError: the document differs from its registry size or hash (no file is left).
            DmpRegistryError: the DMP did not return it (unknown uniqueId, rights).
            DmpProtocolError: the answer holds another document than the one asked for, or none.
        """
        result = await self.execute(
            repository.retrieve_document(self.context, ins, ins_oid, document, out=out), identity
        )
        return _single(result)

    async def find_new_versions(
        self, ins: str, identity: CallerIdentity, known: Sequence[KnownDocument], *, ins_oid: str = InsOid.NIR
    ) -> NewVersionsReport:
        """Which integrated documents have a newer version in the DMP: one FindDocuments for the patient,
        plus one GetRelatedDocuments per replaced document chain only (reference §7.3)."""
        flow = consultation.new_versions(self.context, ins, ins_oid, known)
        try:
            op = next(flow)
            while True:
                op = flow.send(await self.execute(op, identity))
        except StopIteration as done:
            report: NewVersionsReport = done.value
            return report
