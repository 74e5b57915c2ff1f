"""``make fuzz``: python -m fuzz [--cases N] [--network-cases N] [--seed S] [--time-limit S] [--memory-mb MB].

Runs the decoder campaign in a memory-capped worker process, then the network campaign against the mock, prints
the figures and the findings (inputs saved under ``.fuzz/findings``), and exits 1 on any finding.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from dmpclient.security.pki import init_test_pki
from fuzz.corpus import Corpus
from fuzz.network import NetworkReport, run_network
from fuzz.runner import Finding, Report, run_cases
from fuzz.targets import default_targets


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000, help="decoder cases (default 10,000)")
    parser.add_argument("--network-cases", type=int, default=400, help="hostile exchanges with the mock (default 400)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="campaign seed (default: the clock)")
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds a case may take (default 2)")
    parser.add_argument("--memory-mb", type=int, default=1024, help="memory a decoder case may add (default 1024)")
    parser.add_argument("--out", type=Path, default=Path(".fuzz"), help="where findings are saved (default .fuzz)")
    return parser.parse_args()


def _print_report(report: Report, network: NetworkReport, elapsed: float) -> None:
    unexpected = report.count("exception") + sum(1 for f in network.findings if f.kind == "exception")
    slow = report.count("slow") + report.count("hang") + sum(1 for f in network.findings if f.kind == "slow")
    oracle = report.count("oracle") + sum(1 for f in network.findings if f.kind == "oracle")
    slowest = max(report.slowest, network.slowest)
    print(f"cases                        {report.cases + network.cases} ({report.cases} decoder, {network.cases} mock)")
    print(f"exceptions outside DmpError  {unexpected}")
    print(f"cases over {report.time_limit:g} s              {slow}")
    print(
        f"oracle failures              {oracle} ({report.oracle_checks} differential checks, "
        f"{network.liveness_checks} liveness checks)"
    )
    print(f"slowest case                 {slowest[0]:.3f} s ({slowest[1]})")
    print(
        f"peak memory                  {report.peak_rss_mb:.0f} MB decoder worker (largest growth in one case "
        f"{report.max_growth_mb:.0f} MB), {network.peak_rss_mb:.0f} MB mock process"
    )
    print(f"elapsed                      {elapsed:.0f} s")
    print("per target (cases / accepted):")
    for target, count in sorted(report.by_target.items()):
        print(f"  {target:32} {count:6} / {report.accepted[target]}")
    print(
        "per family:",
        ", ".join(f"{name} {count}" for name, count in sorted((report.families + network.families).items())),
    )


def _print_findings(findings: list[Finding], seed: int) -> None:
    for finding in findings[:50]:
        print(f"  [{finding.kind}] {finding.target} / {finding.family} case {finding.index}: {finding.detail}")
    print(f"reproduce a decoder case: fuzz.runner.run_case(default_targets(corpus), {seed}, INDEX, seeds)")


def main() -> int:
    args = _arguments()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dmpclient-fuzz-") as folder:
        corpus = Corpus.build(init_test_pki(Path(folder) / "pki"))
        targets = default_targets(corpus)
        print(f"fuzz: seed {args.seed}, {len(targets)} decoders, {args.cases} + {args.network_cases} cases", flush=True)
        report = run_cases(
            targets,
            cases=args.cases,
            seed=args.seed,
            time_limit=args.time_limit,
            memory_mb=args.memory_mb,
            save_dir=args.out / "findings",
            progress=lambda done: print(f"  {done} cases", flush=True) if done % 1000 == 0 else None,
        )
        network = run_network(
            corpus, cases=args.network_cases, seed=args.seed, data_dir=Path(folder) / "mock", time_limit=args.time_limit
        )
    _print_report(report, network, time.perf_counter() - started)
    findings = report.findings + network.findings
    if findings:
        print(f"{len(findings)} findings:")
        _print_findings(findings, args.seed)
        return 1
    print("no finding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
