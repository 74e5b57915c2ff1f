"""Run cases through the targets with a time and memory bound per case, and report what was found.

A case is reproducible from ``(seed, index)`` alone. By default cases run in a forked worker process whose
address space is capped (``RLIMIT_AS``: a case needing more memory fails with ``MemoryError``, a finding) and
which is killed and replaced when a case hangs. Findings: an exception that is not a
:class:`~dmpclient.errors.DmpError`, a case over the time limit, a hang, a failed oracle (differential check).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import resource
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Final

from fuzz.targets import Case, Target, closing, is_expected

__all__ = ["Finding", "Report", "make_case", "run_case", "run_cases"]

_PAGE: Final = os.sysconf("SC_PAGE_SIZE")
_MB: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a case did that it must not: ``kind`` is exception, slow, hang or oracle."""

    kind: str
    target: str
    family: str
    index: int
    detail: str
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one case did (sent back by the worker)."""

    index: int
    target: str
    family: str
    accepted: bool
    seconds: float
    growth_mb: float
    finding: Finding | None = None
    data: bytes | None = None  # kept only with a finding, to save a reproducer


@dataclass(slots=True)
class Report:
    """The campaign's figures (printed by ``python -m fuzz``; ``ok`` is what ``make fuzz`` checks)."""

    cases: int = 0
    time_limit: float = 2.0
    by_target: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    families: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    max_growth_mb: float = 0.0
    peak_rss_mb: float = 0.0
    oracle_checks: int = 0

    def add(self, outcome: Outcome) -> None:
        self.cases += 1
        self.by_target[outcome.target] += 1
        self.families[outcome.family] += 1
        self.accepted[outcome.target] += outcome.accepted
        self.max_growth_mb = max(self.max_growth_mb, outcome.growth_mb)
        if outcome.seconds > self.slowest[0]:
            self.slowest = (outcome.seconds, f"{outcome.target} / {outcome.family} #{outcome.index}")
        if outcome.finding is not None:
            self.findings.append(outcome.finding)
        if outcome.seconds > self.time_limit and (outcome.finding is None or outcome.finding.kind != "hang"):
            self.findings.append(
                Finding(
                    "slow", outcome.target, outcome.family, outcome.index, f"{outcome.seconds:.2f} s", outcome.seconds
                )
            )

    def count(self, kind: str) -> int:
        return sum(1 for finding in self.findings if finding.kind == kind)

    @property
    def ok(self) -> bool:
        return not self.findings


def make_case(targets: Sequence[Target], seed: int, index: int, others: Sequence[bytes]) -> tuple[Target, Case]:
    """Case ``index`` of campaign ``seed``: the same bytes every time (its reproducer)."""
    target = targets[index % len(targets)]
    return target, target.case(random.Random(f"{seed}/{index}"), others)


def run_case(targets: Sequence[Target], seed: int, index: int, others: Sequence[bytes]) -> Outcome:
    """Make case ``index`` of campaign ``seed`` and run it (in this process)."""
    target, case = make_case(targets, seed, index, others)
    before = _rss_mb()
    started = time.perf_counter()
    finding: Finding | None = None
    accepted = False
    try:
        result = target.decode(case.data)
        accepted = True
        problem = target.check(case.data, result) if target.check is not None else None
        closing(result)
        if problem is not None:
            finding = Finding("oracle", case.target, case.family, index, problem)
    except BaseException as exc:  # every escape is classified: only DmpError is expected
        if isinstance(exc, KeyboardInterrupt):
            raise
        if not is_expected(exc):
            detail = f"{type(exc).__name__}: {str(exc)[:300]}"
            finding = Finding("exception", case.target, case.family, index, detail)
    seconds = time.perf_counter() - started
    keep = case.data if finding is not None else None
    return Outcome(index, case.target, case.family, accepted, seconds, max(0.0, _rss_mb() - before), finding, keep)


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE / _MB


def _cap_address_space(memory_mb: int) -> None:
    """Limit this process to its current address space plus ``memory_mb`` (the per-case memory bound)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        current = int(statm.read().split()[0]) * _PAGE
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + memory_mb * _MB
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def _worker(
    connection: Connection, targets: Sequence[Target], seed: int, others: Sequence[bytes], memory_mb: int
) -> None:
    _cap_address_space(memory_mb)
    while True:
        index = connection.recv()
        if index is None:
            connection.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            return
        connection.send(run_case(targets, seed, index, others))


@dataclass(slots=True)
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection


def _start(targets: Sequence[Target], seed: int, others: Sequence[bytes], memory_mb: int) -> _Worker:
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_worker, args=(child, targets, seed, others, memory_mb), daemon=True)
    process.start()
    child.close()
    return _Worker(process, parent)


def run_cases(
    targets: Sequence[Target],
    *,
    cases: int,
    seed: int = 0,
    time_limit: float = 2.0,
    memory_mb: int = 1024,
    isolate: bool = True,
    save_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Run ``cases`` cases (round robin over the targets) and report.

    Args:
        isolate: run in a forked worker with a memory cap and a hang watchdog (``python -m fuzz``); without
            it cases run in this process (the short campaign of the test suite).
        save_dir: where to write the input of every finding (``<target>-<index>.bin``).
    """
    others = [seed_data for target in targets for seed_data in target.seeds]
    report = Report(time_limit=time_limit)
    worker = _start(targets, seed, others, memory_mb) if isolate else None
    hang_after = max(30.0, 10 * time_limit)
    for index in range(cases):
        if worker is None:
            outcome = run_case(targets, seed, index, others)
        else:
            outcome = _remote(worker, index, hang_after)
            if outcome.finding is not None and outcome.finding.kind == "hang":
                worker.process.kill()
                worker = _start(targets, seed, others, memory_mb)
            outcome = _named(outcome, targets)
        report.add(outcome)
        if outcome.data is not None and save_dir is not None:
            save_dir.mkdir(parents=True, exist_ok=True)
            (save_dir / f"{outcome.target.replace(' ', '_')}-{index}.bin").write_bytes(outcome.data)
        if progress is not None:
            progress(index + 1)
    if worker is not None:
        worker.connection.send(None)
        report.peak_rss_mb = max(report.peak_rss_mb, worker.connection.recv())
        worker.process.join(10)
    else:
        report.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report.oracle_checks = sum(report.accepted[t.name] for t in targets if t.check is not None)
    return report


def _remote(worker: _Worker, index: int, hang_after: float) -> Outcome:
    """The outcome of case ``index`` run by the worker; a hang (or a dead worker) is a finding."""
    worker.connection.send(index)
    if worker.connection.poll(hang_after):
        try:
            outcome: Outcome = worker.connection.recv()
            return outcome
        except EOFError:
            detail = f"the worker process died (exit code {worker.process.exitcode})"
    else:
        detail = f"no answer in {hang_after:g} s"
    return Outcome(index, "?", "?", False, hang_after, 0.0, Finding("hang", "?", "?", index, detail))


def _named(outcome: Outcome, targets: Sequence[Target]) -> Outcome:
    """Fill in the target of a case the worker could not report on (the target is known from the index)."""
    if outcome.target != "?" or outcome.finding is None:
        return outcome
    name = targets[outcome.index % len(targets)].name
    finding = Finding(outcome.finding.kind, name, "?", outcome.index, outcome.finding.detail, outcome.seconds)
    return Outcome(outcome.index, name, "?", False, outcome.seconds, 0.0, finding)
