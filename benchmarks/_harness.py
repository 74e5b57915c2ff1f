"""Tiny benchmark harness: medians over repeats, and a ratio to a baseline measured in the same run.

Each ``benchmarks/bench_*.py`` module exposes ``run(quick: bool) -> list[Result]``. These machines are
noisy, so absolute numbers matter less than the ratio to the baseline measured alongside them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Result:
    """One reported figure: ``value`` in ``unit``; ``ratio`` = value / baseline value (same run)."""

    name: str
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    target: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.baseline_value:
            return None
        return self.value / self.baseline_value

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


def median_seconds(fn: Callable[[], object], *, repeat: int = 7, number: int = 1, warmup: int = 1) -> float:
    """Median wall time of ``number`` calls of ``fn``, divided by ``number`` (seconds per call)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


#: ``dmp mock serve`` options of a benchmark measuring the DMP services only: no web PS site, no PSC provider.
MOCK_DMP_ONLY = ("--webps-port", "0", "--psc-port", "0")
