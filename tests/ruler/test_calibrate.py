"""Judge calibration: an LLM judge over httpx2.MockTransport with known flips; the offline judge."""

from __future__ import annotations

import json
import threading

import httpx2
import pytest
from click.testing import CliRunner

from models.backends.anthropic_backend import AnthropicModel
from orchestrator.cli import load_commands
from ruler.calibrate import (
    Calibration,
    CalibrationError,
    calibrate,
    calibration_path,
    load_calibration,
    save_calibration,
)
from ruler.judges import EmbeddingJudge, llm_judge
from ruler.loader import load_ruler

SCORES = ("atomicity", "specificity", "coverage", "naturalness", "non_redundancy")


def reply(text: str) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 20},
        },
    )


def scripted_judge(position_biased: set[str], stochastic: set[str]):
    """Pairwise: 'A' whatever the order for tasks in position_biased (so every swap flips), a
    tie otherwise. Rubric: 4s the first time an input is seen, 3s the next, for stochastic
    tasks; always 4s otherwise."""
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        text = json.dumps(body["messages"])
        pairwise = "winner" in body["output_config"]["format"]["schema"]["properties"]
        if pairwise:
            biased = any(task in text for task in position_biased)
            return reply(json.dumps({"winner": "A" if biased else "tie", "rationale": "x"}))
        with lock:
            seen[text] = seen.get(text, 0) + 1
            times = seen[text]
        score = 3 if any(t in text for t in stochastic) and times > 1 else 4
        return reply(json.dumps({"scores": dict.fromkeys(SCORES, score), "rationale": "x"}))

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    model = AnthropicModel(
        "claude-sonnet-4-6", api_key="sk-ant-test", http_client=client, max_retries=0
    )
    return llm_judge(model, concurrency=4)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTORESEARCH_HOME", str(tmp_path))
    return tmp_path


def test_llm_judge_figures_match_the_planted_flips(home):
    ruler = load_ruler()
    cases = [ruler.cases[c] for c in ("c01", "c02", "c03", "c04")]
    judge = scripted_judge({cases[0].task}, {cases[1].task, cases[2].task})
    result = calibrate(judge, cases, ruler=ruler.name, ruler_hash=ruler.lock_hash)
    assert result.verdicts == 4 * 6  # gold plus five variants per case
    # one case in four flips, but for its five-question variant: that breaks the contract and
    # never reaches the judge
    assert result.position_consistency == pytest.approx(19 / 24)
    assert result.aa_flip_rate == pytest.approx(10 / 24)  # two cases in four are stochastic
    # every variant the judge reads scores like the gold: only the contract (five questions,
    # a failed case before any judge reads it) passes its check
    assert result.sanity_pass_rate == pytest.approx(0.2)
    assert result.sanity["only_five"] == 1.0 and result.sanity["fused"] == 0.0
    path = save_calibration(result)
    assert path.parent == home / "calibration" and path.name.startswith("llm_anthropic")
    assert load_calibration(result.judge_id) == result


def test_load_calibration_unknown_and_corrupt(home):
    assert load_calibration("never-calibrated") is None
    path = calibration_path("broken")
    path.parent.mkdir(parents=True)
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(CalibrationError, match="rerun `autoresearch ruler calibrate"):
        load_calibration("broken")


@pytest.mark.slow
def test_offline_judge_is_order_free_deterministic_and_sane(home):
    ruler = load_ruler()
    cases = ruler.gate_cases("dev-10")
    result = calibrate(EmbeddingJudge(), cases, ruler=ruler.name, ruler_hash=ruler.lock_hash)
    assert result.position_consistency == 1.0 and result.aa_flip_rate == 0.0
    assert result.sanity_pass_rate == 1.0
    assert -1.0 <= result.length_bias <= 1.0


@pytest.mark.slow
def test_calibrate_cli_prints_and_stores(home):
    out = CliRunner().invoke(load_commands(), ["ruler", "calibrate", "--gate", "dev-10", "--json"])
    assert out.exit_code == 0, out.output
    result = Calibration.model_validate_json(out.output)
    assert load_calibration(result.judge_id) == result
