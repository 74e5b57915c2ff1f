"""Import time of the SDK, as an embedding application pays it: ``import dmpclient`` in a fresh interpreter.

Baseline: the same interpreter starting and exiting (``python -c pass``). The reported value is the extra
time of ``import dmpclient``; the check that neither the CLI (rich, typer) nor a server (uvicorn, starlette)
nor the mock is imported runs in the same subprocess.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

from benchmarks._harness import Result

_PROBE = (
    "import sys, dmpclient; "
    "print(__import__('json').dumps(sorted({m.split('.')[0] for m in sys.modules} & "
    "{'rich', 'typer', 'click', 'uvicorn', 'starlette', 'mock_server', 'httpx'})))"
)


def _wall(code: str, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run(quick: bool) -> list[Result]:
    repeat = 5 if quick else 15
    bare = _wall("pass", repeat)
    full = _wall("import dmpclient", repeat)
    loaded = json.loads(subprocess.run([sys.executable, "-c", _PROBE], check=True, capture_output=True).stdout)
    if loaded:
        raise RuntimeError(f"import dmpclient loaded optional or server modules: {loaded}")
    return [
        Result(
            "import dmpclient (fresh interpreter, extra time)",
            (full - bare) * 1000,
            "ms",
            "python -c pass",
            bare * 1000,
            target="no rich/typer/uvicorn/starlette/httpx loaded",
        )
    ]
