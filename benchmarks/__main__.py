"""`make bench`: run every benchmarks/bench_*.py module and print a table (also saved as JSON).

Usage: python -m benchmarks [--quick] [NAME ...]
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
from pathlib import Path

import benchmarks
from benchmarks._harness import Result


def _format(result: Result) -> str:
    ratio = f"{result.ratio:8.2f}x" if result.ratio is not None else " " * 9
    base = f"vs {result.baseline}" if result.baseline else ""
    target = f"(target {result.target})" if result.target else ""
    return f"{result.name:55} {result.value:12.3f} {result.unit:8} {ratio} {base} {target}".rstrip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats")
    parser.add_argument("names", nargs="*", help="only these modules (e.g. mtom envelope)")
    args = parser.parse_args()
    modules = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    if args.names:
        modules = [m for m in modules if m.removeprefix("bench_") in args.names]
    results: list[Result] = []
    for name in modules:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        for result in module.run(quick=args.quick):
            print(_format(result), flush=True)
            results.append(result)
    out = Path(".bench")
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps([r.as_dict() for r in results], indent=2) + "\n")
    print(f"saved {len(results)} results to {out / 'results.json'}")


if __name__ == "__main__":
    main()
