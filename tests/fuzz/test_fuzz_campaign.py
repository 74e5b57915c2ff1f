"""A short budget of the fuzz campaign in every test run (the long one is ``make fuzz``).

In-process (the long run uses a memory-capped worker): a few hundred hostile inputs through every decoder,
including the xmlsec1 differential on accepted VIHFs, and a few dozen hostile exchanges with the mock over
mutual TLS. Findings are reported with their case index; no timing is asserted here (see ``make fuzz``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dmpclient.security.pki import TestPki
from dmpclient.transactions import catalog
from fuzz.corpus import Corpus
from fuzz.network import run_network
from fuzz.runner import make_case, run_case, run_cases
from fuzz.targets import default_targets, response_decoder_target

pytestmark = pytest.mark.slow

SEED = 20261203


@pytest.fixture(scope="module")
def corpus(pki: TestPki) -> Corpus:
    return Corpus.build(pki)


def _describe(findings: list[object]) -> str:
    return "\n".join(map(str, findings))


def test_every_decoder_refuses_hostile_input_with_a_typed_error_only(corpus: Corpus) -> None:
    targets = default_targets(corpus)
    assert {f"{spec.td} response" for spec in catalog.SPECS} <= {target.name for target in targets}
    report = run_cases(targets, cases=25 * len(targets), seed=SEED, isolate=False)
    unexpected = [f for f in report.findings if f.kind in ("exception", "oracle", "hang")]
    assert unexpected == [], _describe(unexpected)
    assert set(report.by_target) == {target.name for target in targets}
    always_accepted = [t.name for t in targets if report.accepted[t.name] == report.by_target[t.name]]
    # hostile enough: every decoder refused something (the most tolerant, mtom.content_type, accepts about 70 % of
    # its cases in `make fuzz`: all 25 accepted by chance is about 1 in 7,000 runs)
    assert always_accepted == ["log.redact"]


def test_seeds_are_accepted_so_that_mutations_start_from_valid_messages(corpus: Corpus) -> None:
    for target in default_targets(corpus):
        for seed in target.seeds:
            target.decode(seed)


def test_a_case_is_reproducible_from_its_index(corpus: Corpus) -> None:
    targets = default_targets(corpus)
    seeds = [seed for target in targets for seed in target.seeds]
    for index in (7, 8, 9):
        (_, first), (_, again) = make_case(targets, SEED, index, seeds), make_case(targets, SEED, index, seeds)
        assert first == again  # the same bytes: a finding's index is its reproducer
    first_run, again_run = run_case(targets, SEED, 7, seeds), run_case(targets, SEED, 7, seeds)
    assert (first_run.target, first_run.family, first_run.accepted) == (
        again_run.target,
        again_run.family,
        again_run.accepted,
    )


def test_a_response_decoder_is_one_line_to_add(corpus: Corpus) -> None:
    """How a decoder joins the campaign (any ``Callable[[Response], object]``, as ``TransactionSpec.decode``)."""
    target = response_decoder_target("body tag", lambda response: response.message.body, corpus.responses)
    report = run_cases([target], cases=30, seed=SEED, isolate=False)
    assert report.cases == 30
    assert [f for f in report.findings if f.kind != "slow"] == []


def test_the_mock_survives_hostile_exchanges_over_mutual_tls(corpus: Corpus, tmp_path: Path) -> None:
    report = run_network(corpus, cases=20, seed=SEED, data_dir=tmp_path)
    problems = [f for f in report.findings if f.kind != "slow"]
    assert problems == [], _describe(problems)
    assert report.liveness_checks >= 1
