"""The judge sanity suite: the offline judge passes >= 90% of every perturbation."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from orchestrator.cli import load_commands
from ruler.judges import EmbeddingJudge
from ruler.loader import load_ruler
from ruler.sanity import (
    PERTURBATIONS,
    fused,
    no_critical,
    only_five,
    paraphrase_duplicate,
    run_sanity,
)


def test_perturbations_are_what_they_say():
    case = load_ruler().cases["c01"]
    gold = case.gold.questions
    assert len(only_five(case).questions) == 5
    assert len(fused(case).questions) == 7 and any(" and " in q for q in fused(case).questions)
    missing = no_critical(case).questions
    assert len(missing) == 7 and gold[case.critical_question] not in missing
    dup = paraphrase_duplicate(case).questions
    assert len(dup) == 7 and dup[-1].startswith("Just to double-check")
    assert set(PERTURBATIONS) == {
        "paraphrase_duplicate",
        "fused",
        "generic",
        "no_critical",
        "only_five",
    }


@pytest.mark.slow
def test_offline_judge_passes_the_sanity_suite():
    report = run_sanity(EmbeddingJudge(), list(load_ruler().cases.values()))
    for result in report.results:
        print(f"{result.name}: {result.rate:.0%} (failures {result.failures})")
        assert result.rate >= 0.9, result


@pytest.mark.slow
def test_sanity_cli_prints_the_table():
    result = CliRunner().invoke(load_commands(), ["ruler", "sanity", "--gate", "dev-10"])
    assert result.exit_code == 0, result.output
    assert "generic" in result.output and "100%" in result.output
