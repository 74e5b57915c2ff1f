"""Client methods of TD2.1 (feeding, new versions, bulk feeding) and TD3.3a–d (lifecycle), sync and async.

:class:`FeedingSupport` builds the pure flows (:mod:`dmpclient.transactions.feeding`, ``replacement``,
``lifecycle``) from the client's configuration, call context and submission signer; :class:`FeedingMethods`
and :class:`AsyncFeedingMethods` drive them — every operation a flow yields is executed (rights pre-check,
fresh VIHF, send, decode) and its result, or its error, is sent back into the flow, which decides (after an
unknown outcome, ask the registry; never re-send blindly). ``feed_many`` lends the bulk driver
(:mod:`dmpclient.feeding.bulk`) a way to read, draft and send one document.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from dmpclient._prepare import caller_profile, effective_mode
from dmpclient._shell import AsyncApi, Shell, SyncApi
from dmpclient.codes import ValueSetId, load_value_set
from dmpclient.errors import DmpError
from dmpclient.feeding import FeedJournal, FeedOutcome, FeedReport, Origin, author_of
from dmpclient.feeding import bulk as bulk_feeding
from dmpclient.ids import InsOid
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.xades import ManifestReference, SubmissionSigner
from dmpclient.transactions import feeding, lifecycle, registry, replacement
from dmpclient.transactions.feeding import FeedDocument, SubmissionDraft, SubmissionOptions, SubmissionResult
from dmpclient.transactions.lifecycle import Audience, LifecycleAction, LifecycleResult
from dmpclient.transactions.operation import Operation
from dmpclient.transactions.rights import RightsAction, decide_for
from dmpclient.xds.cda_metadata import MetadataOverrides, Visibility, read_cda
from dmpclient.xds.codes import AvailabilityStatus
from dmpclient.xds.models import DocumentEntry

__all__ = ["AsyncFeedingMethods", "FeedingMethods", "FeedingSupport"]

T = TypeVar("T")


def _advance(step: Callable[[], Operation[Any]]) -> tuple[bool, Any]:
    """One step of a flow: ``(False, operation)``, or ``(True, result)`` when it ended (``StopIteration`` cannot
    cross :func:`asyncio.to_thread`)."""
    try:
        return False, step()
    except StopIteration as done:
        return True, done.value


class FeedingSupport(Shell):
    """The flows of TD2.1 / TD3.3 for one client (its configuration, context and signer)."""

    @property
    def submission_signer(self) -> SubmissionSigner:
        """Who signs submissions (XAdES "signature du lot", §5.4): the VIHF's key (ORG SIGN and its chain)."""
        return self._prep.submission_signer

    def _feed_options(self, options: SubmissionOptions | None) -> SubmissionOptions:
        """The options, with the structure's activity sector as default facility type (J61 = TRE_R02, §4.6)."""
        options = options or SubmissionOptions()
        if options.defaults.healthcare_facility_type_code is not None:
            return options
        facility = load_value_set(ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE).require(
            self.config.structure.secteur_activite, field="structure.secteur_activite"
        )
        defaults = options.defaults.model_copy(update={"healthcare_facility_type_code": facility})
        return options.model_copy(update={"defaults": defaults})

    def _sign(self, draft: SubmissionDraft) -> bytes:
        """The XAdES document of a draft (its manifest signed with the submission signer)."""
        return self.submission_signer.sign(
            submission_set_unique_id=draft.ids.submission_set_unique_id,
            documents=[ManifestReference(unique_id, digest) for unique_id, digest in draft.manifest()],
            signing_time=draft.ids.submission_time,
            signature_id=draft.signature_id,
        )

    def _feed_flow(
        self, documents: Sequence[FeedDocument | Path | bytes], options: SubmissionOptions | None
    ) -> feeding.Flow:
        inputs = [d if isinstance(d, FeedDocument) else FeedDocument(content=d) for d in documents]
        hash_name = self.submission_signer.hash_name
        draft = feeding.draft_submission(self.context, inputs, self._feed_options(options), hash_name=hash_name)
        return feeding.submission_flow(self.context, draft, self._sign(draft))

    def _replace_flow(
        self,
        previous_unique_id: str,
        new_cda: Path | bytes,
        *,
        previous_cda: Path | bytes | None,
        overrides: MetadataOverrides | None,
        visibility: Visibility | None,
        options: SubmissionOptions | None,
    ) -> feeding.Flow:
        previous = None
        if previous_cda is not None:
            previous = read_cda(previous_cda.read_bytes() if isinstance(previous_cda, Path) else previous_cda).header
        document = FeedDocument(
            content=new_cda, overrides=overrides or MetadataOverrides(), visibility=visibility or Visibility()
        )
        return replacement.replacement_flow(
            self.context,
            previous_unique_id,
            document,
            self._sign,
            previous=previous,
            options=self._feed_options(options),
            hash_name=self.submission_signer.hash_name,
        )

    def _lifecycle_flow(
        self,
        action: LifecycleAction,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        ins_oid: str,
        precheck: bool,
        audience: Audience = Audience.PATIENT,
        current_status: AvailabilityStatus | None = None,
    ) -> Generator[Operation[Any], Any, LifecycleResult]:
        profiles = [caller_profile(registry.STORED_QUERY, identity, treating=t) for t in (False, True)]
        reads = any(decide_for(RightsAction.TD3_1_RECHERCHE_METADONNEES, p).allowed for p in profiles)
        return lifecycle.lifecycle_flow(
            self.context,
            ins,
            ins_oid,
            action,
            document,
            author=author_of(identity.actor, self.config.structure),
            audience=audience,
            read_metadata=reads,
            current_status=current_status,
            precheck=precheck,
        )

    def _origin(self, identity: CallerIdentity) -> Origin:
        """Who sends a submission for ``identity`` (DMP-CONF 12), in the mode actually used."""
        mode = effective_mode(feeding.PROVIDE_AND_REGISTER, identity)
        return Origin.of(identity, structure_id=self.config.structure.id, mode=mode.value)


class _Submitter:
    """What the bulk driver borrows from a client: read and draft documents (pure), send them (``send``)."""

    def __init__(
        self, shell: FeedingSupport, options: SubmissionOptions, send: Callable[[SubmissionDraft, bool], Any]
    ) -> None:
        self._shell = shell
        self._options = options
        self._send = send

    def read(self, document: FeedDocument) -> feeding.PreparedDocument:
        hash_name = self._shell.submission_signer.hash_name
        return feeding.read_documents(self._shell.context, [document], self._options, hash_name=hash_name)[0]

    def draft(self, prepared: feeding.PreparedDocument, ids: feeding.SubmissionIds | None) -> SubmissionDraft:
        return feeding.assemble(self._shell.context, [prepared], self._options, ids=ids)

    def send(self, draft: SubmissionDraft, *, check_first: bool) -> Any:
        return self._send(draft, check_first)


def _journal(journal: FeedJournal | Path | None) -> tuple[FeedJournal | None, bool]:
    """The journal to use, and whether it was opened here (then it is closed at the end of the feed)."""
    if isinstance(journal, Path):
        return FeedJournal(journal), True
    return journal, False


class FeedingMethods(FeedingSupport, SyncApi):
    """TD2.1 / TD3.3 methods of :class:`~dmpclient.DmpClient`."""

    def _drive(
        self, flow: Generator[Operation[Any], Any, T], identity: CallerIdentity, precheck: bool, deadline: float | None
    ) -> T:
        """Run a multi-call flow: each operation it yields is executed, its result (or error) sent back.

        ``deadline`` bounds each exchange, not the flow: the lookup that settles a timed-out submission needs a
        budget of its own.
        """
        try:
            op = next(flow)
            while True:
                try:
                    result = self.execute(op, identity, precheck=precheck, deadline=deadline)
                except DmpError as error:
                    op = flow.throw(error)
                    continue
                op = flow.send(result)
        except StopIteration as done:
            value: T = done.value
            return value

    def feed(
        self,
        documents: Sequence[FeedDocument | Path | bytes],
        identity: CallerIdentity,
        *,
        options: SubmissionOptions | None = None,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> SubmissionResult:
        """TD2.1: submit documents (CDA files or bytes, or documents with explicit metadata) in one submission.

        Metadata is derived from each CDA header and checked against the DMP value sets before anything is
        sent; the submission is signed (XAdES, §5.4) and sent in MTOM, in INDIRECTE for an AIR identity
        (§8.3). It is never re-sent blindly: after an unknown outcome the registry is asked (§9.4).

        Raises:
            DmpValidationError: metadata missing or outside a value set (the message names the field and set).
            DmpRegistryError: the DMP refused the submission (``errors`` name the documents).
            DmpSubmissionUnknownError: the outcome could not be established; nothing lost, resume later.
        """
        return self._drive(self._feed_flow(documents, options), identity, precheck, deadline)

    def replace(
        self,
        previous_unique_id: str,
        new_cda: Path | bytes,
        identity: CallerIdentity,
        *,
        previous_cda: Path | bytes | None = None,
        overrides: MetadataOverrides | None = None,
        visibility: Visibility | None = None,
        options: SubmissionOptions | None = None,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> SubmissionResult:
        """TD2.1 with RPLC: publish a new version of a document (§5.6).

        The CDA versioning rules are checked locally against the previous version (``previous_cda``, or
        read back from the DMP with TD3.2 when the caller may), the previous entryUUID is resolved
        (TD3.1b), and the new version is submitted with the RPLC association.

        Raises:
            DmpValidationError: a versioning rule is broken (setId, versionNumber, RPLC parent), or the
                previous version is not in the patient's DMP for this caller.
            DmpRegistryError: the DMP refused it (previous version not Approved, another patient…).
        """
        flow = self._replace_flow(
            previous_unique_id,
            new_cda,
            previous_cda=previous_cda,
            overrides=overrides,
            visibility=visibility,
            options=options,
        )
        return self._drive(flow, identity, precheck, deadline)

    def feed_many(
        self,
        documents: Iterable[FeedDocument | Path],
        identity: CallerIdentity,
        *,
        options: SubmissionOptions | None = None,
        journal: FeedJournal | Path | None = None,
        concurrency: int = 4,
        on_outcome: Callable[[FeedOutcome], None] | None = None,
        precheck: bool = True,
    ) -> FeedReport:
        """TD2.1 for many documents, one submission each, ``concurrency`` at a time.

        With a ``journal`` (a :class:`~dmpclient.feeding.FeedJournal` or its file), an interrupted run
        resumes where it stopped and never submits the same document twice. Each document's outcome goes
        to ``on_outcome`` as it comes; the report counts them.
        """
        opened, owned = _journal(journal)

        def send(draft: SubmissionDraft, check_first: bool) -> SubmissionResult:
            flow = feeding.submission_flow(self.context, draft, self._sign(draft), check_first=check_first)
            return self._drive(flow, identity, precheck, None)

        try:
            return bulk_feeding.feed_many(
                documents,
                _Submitter(self, self._feed_options(options), send),
                origin=self._origin(identity),
                journal=opened,
                concurrency=concurrency,
                on_outcome=on_outcome,
                clock=self._prep.clock,
            )
        finally:
            if owned and opened is not None:
                opened.close()

    def mask(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3a: mask a document to professionals (``MASQUE_PS``); ``document`` is an entry or a uniqueId."""
        flow = self._lifecycle_flow(LifecycleAction.MASK, ins, document, identity, ins_oid=ins_oid, precheck=precheck)
        return self._drive(flow, identity, precheck, deadline)

    def unmask(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3a: unmask a document (its author's own documents, or the médecin traitant, 526 note 8)."""
        flow = self._lifecycle_flow(LifecycleAction.UNMASK, ins, document, identity, ins_oid=ins_oid, precheck=precheck)
        return self._drive(flow, identity, precheck, deadline)

    def show(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        audience: Audience = Audience.PATIENT,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3b: make a document visible to the patient (or to his legal representatives)."""
        flow = self._lifecycle_flow(
            LifecycleAction.SHOW, ins, document, identity, ins_oid=ins_oid, precheck=precheck, audience=audience
        )
        return self._drive(flow, identity, precheck, deadline)

    def hide(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        audience: Audience = Audience.PATIENT,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """Hide a published document from the patient: no row of the matrices allows it (§6.2) — refused
        locally (``DmpRightsPrecheckError``); with ``precheck=False`` the DMP refuses it."""
        flow = self._lifecycle_flow(
            LifecycleAction.HIDE, ins, document, identity, ins_oid=ins_oid, precheck=precheck, audience=audience
        )
        return self._drive(flow, identity, precheck, deadline)

    def archive(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3d: archive a document (Approved → Archived)."""
        flow = self._lifecycle_flow(
            LifecycleAction.ARCHIVE, ins, document, identity, ins_oid=ins_oid, precheck=precheck
        )
        return self._drive(flow, identity, precheck, deadline)

    def unarchive(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3d: unarchive a document (Archived → Approved)."""
        flow = self._lifecycle_flow(
            LifecycleAction.UNARCHIVE, ins, document, identity, ins_oid=ins_oid, precheck=precheck
        )
        return self._drive(flow, identity, precheck, deadline)

    def delete(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        current_status: AvailabilityStatus | None = None,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3c: delete a document (Approved or Archived → Deleted; an establishment certificate deletes the
        documents of its structure, whose status it cannot read: ``current_status``, Approved by default)."""
        flow = self._lifecycle_flow(
            LifecycleAction.DELETE,
            ins,
            document,
            identity,
            ins_oid=ins_oid,
            precheck=precheck,
            current_status=current_status,
        )
        return self._drive(flow, identity, precheck, deadline)


class AsyncFeedingMethods(FeedingSupport, AsyncApi):
    """TD2.1 / TD3.3 methods of :class:`~dmpclient.AsyncDmpClient` (same arguments, awaited)."""

    async def _drive(
        self, flow: Generator[Operation[Any], Any, T], identity: CallerIdentity, precheck: bool, deadline: float | None
    ) -> T:
        """Run a multi-call flow: each operation it yields is executed, its result (or error) sent back.

        The flow itself runs in a worker thread: it reads and parses CDA files and signs submissions (hundreds of
        milliseconds for a large document, a card prompt with a card signer), which must not stall the event loop.
        """
        step: Callable[[], Operation[Any]] = flow.__next__
        while True:
            finished, value = await asyncio.to_thread(_advance, step)
            if finished:
                done: T = value
                return done
            try:
                result = await self.execute(value, identity, precheck=precheck, deadline=deadline)
            except DmpError as error:
                step = functools.partial(flow.throw, error)
                continue
            step = functools.partial(flow.send, result)

    async def feed(
        self,
        documents: Sequence[FeedDocument | Path | bytes],
        identity: CallerIdentity,
        *,
        options: SubmissionOptions | None = None,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> SubmissionResult:
        """TD2.1: submit documents (CDA files or bytes, or documents with explicit metadata) in one submission.

        Metadata is derived from each CDA header and checked against the DMP value sets before anything is
        sent; the submission is signed (XAdES, §5.4) and sent in MTOM, in INDIRECTE for an AIR identity
        (§8.3). It is never re-sent blindly: after an unknown outcome the registry is asked (§9.4).

        Raises:
            DmpValidationError: metadata missing or outside a value set (the message names the field and set).
            DmpRegistryError: the DMP refused the submission (``errors`` name the documents).
            DmpSubmissionUnknownError: the outcome could not be established; nothing lost, resume later.
        """
        flow = await asyncio.to_thread(self._feed_flow, documents, options)  # reads, parses and signs
        return await self._drive(flow, identity, precheck, deadline)

    async def replace(
        self,
        previous_unique_id: str,
        new_cda: Path | bytes,
        identity: CallerIdentity,
        *,
        previous_cda: Path | bytes | None = None,
        overrides: MetadataOverrides | None = None,
        visibility: Visibility | None = None,
        options: SubmissionOptions | None = None,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> SubmissionResult:
        """TD2.1 with RPLC: publish a new version of a document (§5.6).

        The CDA versioning rules are checked locally against the previous version (``previous_cda``, or
        read back from the DMP with TD3.2 when the caller may), the previous entryUUID is resolved
        (TD3.1b), and the new version is submitted with the RPLC association.

        Raises:
            DmpValidationError: a versioning rule is broken (setId, versionNumber, RPLC parent), or the
                previous version is not in the patient's DMP for this caller.
            DmpRegistryError: the DMP refused it (previous version not Approved, another patient…).
        """
        flow = await asyncio.to_thread(
            functools.partial(
                self._replace_flow,
                previous_unique_id,
                new_cda,
                previous_cda=previous_cda,
                overrides=overrides,
                visibility=visibility,
                options=options,
            )
        )
        return await self._drive(flow, identity, precheck, deadline)

    async def feed_many(
        self,
        documents: Iterable[FeedDocument | Path] | AsyncIterator[FeedDocument | Path],
        identity: CallerIdentity,
        *,
        options: SubmissionOptions | None = None,
        journal: FeedJournal | Path | None = None,
        concurrency: int = 4,
        on_outcome: Callable[[FeedOutcome], None] | None = None,
        precheck: bool = True,
    ) -> FeedReport:
        """TD2.1 for many documents, one submission each, ``concurrency`` at a time.

        With a ``journal`` (a :class:`~dmpclient.feeding.FeedJournal` or its file), an interrupted run
        resumes where it stopped and never submits the same document twice. Each document's outcome goes
        to ``on_outcome`` as it comes; the report counts them.
        """
        opened, owned = _journal(journal)

        async def send(draft: SubmissionDraft, check_first: bool) -> SubmissionResult:
            signature = await asyncio.to_thread(self._sign, draft)
            flow = feeding.submission_flow(self.context, draft, signature, check_first=check_first)
            return await self._drive(flow, identity, precheck, None)

        try:
            return await bulk_feeding.afeed_many(
                documents,
                _Submitter(self, self._feed_options(options), send),
                origin=self._origin(identity),
                journal=opened,
                concurrency=concurrency,
                on_outcome=on_outcome,
                clock=self._prep.clock,
            )
        finally:
            if owned and opened is not None:
                opened.close()

    async def mask(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3a: mask a document to professionals (``MASQUE_PS``); ``document`` is an entry or a uniqueId."""
        flow = self._lifecycle_flow(LifecycleAction.MASK, ins, document, identity, ins_oid=ins_oid, precheck=precheck)
        return await self._drive(flow, identity, precheck, deadline)

    async def unmask(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3a: unmask a document (its author's own documents, or the médecin traitant, 526 note 8)."""
        flow = self._lifecycle_flow(LifecycleAction.UNMASK, ins, document, identity, ins_oid=ins_oid, precheck=precheck)
        return await self._drive(flow, identity, precheck, deadline)

    async def show(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        audience: Audience = Audience.PATIENT,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3b: make a document visible to the patient (or to his legal representatives)."""
        flow = self._lifecycle_flow(
            LifecycleAction.SHOW, ins, document, identity, ins_oid=ins_oid, precheck=precheck, audience=audience
        )
        return await self._drive(flow, identity, precheck, deadline)

    async def hide(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        audience: Audience = Audience.PATIENT,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """Hide a published document from the patient: no row of the matrices allows it (§6.2) — refused
        locally (``DmpRightsPrecheckError``); with ``precheck=False`` the DMP refuses it."""
        flow = self._lifecycle_flow(
            LifecycleAction.HIDE, ins, document, identity, ins_oid=ins_oid, precheck=precheck, audience=audience
        )
        return await self._drive(flow, identity, precheck, deadline)

    async def archive(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3d: archive a document (Approved → Archived)."""
        flow = self._lifecycle_flow(
            LifecycleAction.ARCHIVE, ins, document, identity, ins_oid=ins_oid, precheck=precheck
        )
        return await self._drive(flow, identity, precheck, deadline)

    async def unarchive(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3d: unarchive a document (Archived → Approved)."""
        flow = self._lifecycle_flow(
            LifecycleAction.UNARCHIVE, ins, document, identity, ins_oid=ins_oid, precheck=precheck
        )
        return await self._drive(flow, identity, precheck, deadline)

    async def delete(
        self,
        ins: str,
        document: DocumentEntry | str,
        identity: CallerIdentity,
        *,
        current_status: AvailabilityStatus | None = None,
        ins_oid: str = InsOid.NIR,
        precheck: bool = True,
        deadline: float | None = None,
    ) -> LifecycleResult:
        """TD3.3c: delete a document (Approved or Archived → Deleted; an establishment certificate deletes the
        documents of its structure, whose status it cannot read: ``current_status``, Approved by default)."""
        flow = self._lifecycle_flow(
            LifecycleAction.DELETE,
            ins,
            document,
            identity,
            ins_oid=ins_oid,
            precheck=precheck,
            current_status=current_status,
        )
        return await self._drive(flow, identity, precheck, deadline)
