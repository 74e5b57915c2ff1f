"""Bulk feeding: many documents, one submission each, with a bounded concurrency and a journal.

For each document: read it (metadata derived and checked, digest for the signature), look it up in the
journal, then

* already ``succeeded`` with the same bytes → skipped (``already-sent``); with other bytes → ``conflict``,
  never sent (a different document under a uniqueId the DMP already holds);
* ``sending`` / ``unknown`` (a previous run sent it and did not learn the outcome) → the registry is asked
  first and the *same* submission is sent only if its document is absent (``recovered`` or ``sent``);
* otherwise → journaled ``sending`` (committed), sent, then journaled ``succeeded`` / ``failed`` /
  ``unknown``.

Documents are taken from the iterable as workers free up (at most ``2 × concurrency`` in flight), and the
outcomes are handed to ``on_outcome`` as they come: memory does not grow with the number of documents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from dmpclient.errors import (
    DmpConnectError,
    DmpError,
    DmpRegistryError,
    DmpSoapFault,
    DmpSubmissionUnknownError,
    DmpTlsError,
    DmpUsageError,
)
from dmpclient.feeding.journal import FeedJournal, JournalState
from dmpclient.feeding.origin import Origin
from dmpclient.transactions.feeding import (
    FeedDocument,
    PreparedDocument,
    SubmissionDraft,
    SubmissionIds,
    SubmissionResult,
    SubmittedDocument,
)

__all__ = ["AsyncSubmitter", "FeedOutcome", "FeedReport", "FeedStatus", "Submitter", "afeed_many", "feed_many"]


class FeedStatus(StrEnum):
    """The outcome of one document of a bulk feed."""

    SENT = "sent"  # registered by this run
    RECOVERED = "recovered"  # the outcome was unknown; the registry says it is there
    ALREADY_SENT = "already-sent"  # the journal says a previous run registered it (same bytes)
    REFUSED = "refused"  # the DMP refused it (nothing registered)
    NOT_SENT = "not-sent"  # it could not leave (connection or TLS refused, rights pre-check)
    UNKNOWN = "unknown"  # sent, outcome unknown, registry unreachable: resume later
    INVALID = "invalid"  # refused locally: unreadable, or metadata outside the DMP rules
    CONFLICT = "conflict"  # other bytes under a uniqueId already sent: never sent

    @property
    def ok(self) -> bool:
        return self in (FeedStatus.SENT, FeedStatus.RECOVERED, FeedStatus.ALREADY_SENT)


class FeedOutcome(BaseModel):
    """What happened to one document (one line of the report)."""

    model_config = ConfigDict(frozen=True)

    source: str
    status: FeedStatus
    unique_id: str | None = None
    document: SubmittedDocument | None = None
    submission_set_unique_id: str | None = None
    error_code: str | None = None
    message: str | None = None
    seconds: float = 0.0
    origin: Origin


class FeedReport(BaseModel):
    """The summary of a bulk feed (the per-document outcomes went to ``on_outcome``)."""

    model_config = ConfigDict(frozen=True)

    counts: dict[FeedStatus, int]
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        """Every document is in the DMP."""
        return all(status.ok for status, count in self.counts.items() if count)


class Submitter(Protocol):
    """What a client lends the bulk driver (sync)."""

    def read(self, document: FeedDocument) -> PreparedDocument: ...

    def draft(self, prepared: PreparedDocument, ids: SubmissionIds | None) -> SubmissionDraft: ...

    def send(self, draft: SubmissionDraft, *, check_first: bool) -> SubmissionResult: ...


class AsyncSubmitter(Protocol):
    """What an async client lends the bulk driver (sending is awaited)."""

    def read(self, document: FeedDocument) -> PreparedDocument: ...

    def draft(self, prepared: PreparedDocument, ids: SubmissionIds | None) -> SubmissionDraft: ...

    def send(self, draft: SubmissionDraft, *, check_first: bool) -> Awaitable[SubmissionResult]: ...


def _source(item: FeedDocument | Path, index: int) -> tuple[FeedDocument, str]:
    if isinstance(item, Path):
        return FeedDocument(content=item), str(item)
    content = item.content
    return item, str(content) if isinstance(content, Path) else f"document #{index}"


def _sha256(document: FeedDocument) -> str:
    content = document.content
    digest = hashlib.sha256()
    if isinstance(content, Path):
        with content.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    else:
        digest.update(content)
    return digest.hexdigest()


def _status_of(error: DmpError) -> FeedStatus:
    if isinstance(error, DmpSubmissionUnknownError):
        return FeedStatus.UNKNOWN
    if isinstance(error, DmpConnectError | DmpTlsError | DmpUsageError):
        return FeedStatus.NOT_SENT
    return FeedStatus.REFUSED


def _error_code(error: DmpError) -> str:
    if isinstance(error, DmpRegistryError) and error.errors:
        return error.errors[0].error_code
    if isinstance(error, DmpSoapFault):
        return error.subcode or error.code
    return type(error).__name__


class _Item:
    """One document going through the driver: the steps around sending, shared by both drivers."""

    def __init__(self, item: FeedDocument | Path, index: int, journal: FeedJournal | None, origin: Origin) -> None:
        self.document, self.source = _source(item, index)
        self.journal = journal
        self.origin = origin
        self.started = time.perf_counter()
        self.prepared: PreparedDocument | None = None
        self.draft: SubmissionDraft | None = None
        self.check_first = False

    def outcome(self, status: FeedStatus, **fields: object) -> FeedOutcome:
        prepared = self.prepared
        return FeedOutcome(
            source=self.source,
            status=status,
            unique_id=prepared.entry.unique_id if prepared else None,
            seconds=time.perf_counter() - self.started,
            origin=self.origin,
            **fields,
        )

    def before(self, submitter: Submitter | AsyncSubmitter, now: dt.datetime) -> FeedOutcome | None:
        """Read, consult the journal, draft, journal ``sending``; an outcome when there is nothing to send."""
        try:
            self.prepared = submitter.read(self.document)
        except DmpError as error:
            return self.outcome(FeedStatus.INVALID, error_code=_error_code(error), message=error.message)
        except OSError as error:
            return self.outcome(FeedStatus.INVALID, error_code="OSError", message=error.strerror or str(error))
        ids = None
        sha256 = _sha256(self.document) if self.journal else ""
        entry = self.journal.entry(self.prepared.entry.unique_id) if self.journal else None
        if entry is not None and entry.state is JournalState.SUCCEEDED:
            status = FeedStatus.ALREADY_SENT if entry.content_sha256 == sha256 else FeedStatus.CONFLICT
            return self.outcome(status)
        if entry is not None and entry.resumable:
            if entry.content_sha256 != sha256:
                return self.outcome(FeedStatus.CONFLICT, message="changed since a submission of unknown outcome")
            ids, self.check_first = entry.ids, True
        try:
            self.draft = submitter.draft(self.prepared, ids)
        except DmpError as error:
            return self.outcome(FeedStatus.INVALID, error_code=_error_code(error), message=error.message)
        if self.journal is not None:
            self.journal.sending(
                self.draft.submitted()[0],
                source=self.source,
                content_sha256=sha256,
                patient_ins=self.draft.patient.ins,
                ids=self.draft.ids,
                origin=self.origin,
                now=now,
            )
        return None

    def after(self, result: SubmissionResult | DmpError, now: dt.datetime) -> FeedOutcome:
        """Journal the outcome of the sending and report it."""
        draft = self.draft
        if draft is None:  # pragma: no cover - before() returned an outcome
            raise RuntimeError("after() without a draft")
        document = draft.submitted()[0]
        if isinstance(result, DmpError):
            status = _status_of(result)
            state = JournalState.UNKNOWN if status is FeedStatus.UNKNOWN else JournalState.FAILED
            code, message = _error_code(result), result.message
        else:
            status = FeedStatus.RECOVERED if result.recovered else FeedStatus.SENT
            state, code, message = JournalState.SUCCEEDED, None, None
        if self.journal is not None:
            self.journal.finish(
                document,
                state,
                patient_ins=draft.patient.ins,
                submission_set_unique_id=draft.ids.submission_set_unique_id,
                origin=self.origin,
                now=now,
                error_code=code,
                error_message=message,
            )
        return self.outcome(
            status,
            document=document,
            submission_set_unique_id=draft.ids.submission_set_unique_id,
            error_code=code,
            message=message,
        )


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def feed_many(
    documents: Iterable[FeedDocument | Path],
    submitter: Submitter,
    *,
    origin: Origin,
    journal: FeedJournal | None = None,
    concurrency: int = 4,
    on_outcome: Callable[[FeedOutcome], None] | None = None,
    clock: Callable[[], dt.datetime] = _utc_now,
) -> FeedReport:
    """Feed each document in its own submission, ``concurrency`` at a time (threads).

    Raises:
        ValueError: ``concurrency`` below 1.
    """
    if concurrency < 1:
        raise ValueError("concurrency: at least 1")
    started, counts = time.perf_counter(), Counter[FeedStatus]()

    def one(index: int, item: FeedDocument | Path) -> FeedOutcome:
        current = _Item(item, index, journal, origin)
        early = current.before(submitter, clock())
        if early is not None or current.draft is None:
            return early or current.outcome(FeedStatus.INVALID)
        try:
            result: SubmissionResult | DmpError = submitter.send(current.draft, check_first=current.check_first)
        except DmpError as error:
            result = error
        return current.after(result, clock())

    def record(future: Future[FeedOutcome]) -> None:
        outcome = future.result()
        counts[outcome.status] += 1
        if on_outcome is not None:
            on_outcome(outcome)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dmp-feed") as pool:
        pending: set[Future[FeedOutcome]] = set()
        for index, item in enumerate(documents, start=1):
            if len(pending) >= 2 * concurrency:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    record(future)
            pending.add(pool.submit(one, index, item))
        for future in pending:
            future.result()
        for future in pending:
            record(future)
    return FeedReport(counts=dict(counts), seconds=time.perf_counter() - started)


async def afeed_many(
    documents: Iterable[FeedDocument | Path] | AsyncIterator[FeedDocument | Path],
    submitter: AsyncSubmitter,
    *,
    origin: Origin,
    journal: FeedJournal | None = None,
    concurrency: int = 4,
    on_outcome: Callable[[FeedOutcome], None] | None = None,
    clock: Callable[[], dt.datetime] = _utc_now,
) -> FeedReport:
    """:func:`feed_many` on an event loop (``concurrency`` submissions in flight)."""
    import asyncio  # noqa: PLC0415 - only async clients need it (import time of the SDK)

    if concurrency < 1:
        raise ValueError("concurrency: at least 1")
    started, counts = time.perf_counter(), Counter[FeedStatus]()
    slots = asyncio.Semaphore(concurrency)

    async def one(index: int, item: FeedDocument | Path) -> None:
        try:
            current = _Item(item, index, journal, origin)
            # reading, parsing and signing, and the journal's writes, off the event loop
            outcome = await asyncio.to_thread(current.before, submitter, clock())
            if outcome is None and current.draft is not None:
                try:
                    result: SubmissionResult | DmpError = await submitter.send(
                        current.draft, check_first=current.check_first
                    )
                except DmpError as error:
                    result = error
                outcome = await asyncio.to_thread(current.after, result, clock())
            outcome = outcome or current.outcome(FeedStatus.INVALID)
            counts[outcome.status] += 1
            if on_outcome is not None:
                on_outcome(outcome)
        finally:
            slots.release()

    tasks: set[asyncio.Task[None]] = set()  # strong references until done
    index = 0
    async for item in _aiter(documents):
        index += 1
        await slots.acquire()
        task = asyncio.create_task(one(index, item))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*tasks)
    return FeedReport(counts=dict(counts), seconds=time.perf_counter() - started)


async def _aiter(
    documents: Iterable[FeedDocument | Path] | AsyncIterator[FeedDocument | Path],
) -> AsyncIterator[FeedDocument | Path]:
    if isinstance(documents, AsyncIterator):
        async for item in documents:
            yield item
    else:
        for item in documents:
            yield item
