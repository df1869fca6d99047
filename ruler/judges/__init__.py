"""Judges behind one interface: the offline EmbeddingJudge and an LLMJudge on any ChatModel."""

from __future__ import annotations

from models.base import ChatModel
from models.registry import get_model, parse_spec
from ruler.judges.base import Judge, parse_candidate, worst_verdict
from ruler.judges.embedding import EmbeddingJudge
from ruler.judges.generic import GenericJudge
from ruler.judges.llm import LLMJudge
from ruler.records import JudgeMode, dimensions_for

OFFLINE_SPECS = ("embedding", "offline")
PROMPT_KINDS = ("rubric", "pairwise")
MODES: tuple[JudgeMode, ...] = ("standard", "coverage-blind")
REMOTE_BACKENDS = {"anthropic": 8}


def llm_judge(model: ChatModel, *, ruler=None, concurrency: int = 1) -> LLMJudge:
    """An LLMJudge on `model` with the prompts and rubric of `ruler` (default: planner); for
    another feature, its rubric's text and contract."""
    from ruler.loader import load_ruler

    ruler = ruler or load_ruler()
    prompts = {f"{k}.{m}": ruler.prompt(f"{k}.{m}.txt") for k in PROMPT_KINDS for m in MODES}
    if ruler.is_planner:
        rubric_text = {m: ruler.rubric.render(m) for m in MODES}
        return LLMJudge(model, prompts, rubric_text, concurrency)
    names = ruler.feature.dimension_names
    rubric_text = {m: ruler.feature.render_rubric(dimensions_for(m, names)) for m in MODES}
    return LLMJudge(model, prompts, rubric_text, concurrency, feature=ruler.feature)


def get_judge(spec: str = "embedding", *, ruler=None) -> Judge:
    """'embedding' (aka 'offline') is the EmbeddingJudge for the planner and the GenericJudge
    for any other feature's ruler; any model spec is an LLMJudge whose
    prompts come from `ruler` (default: the shipped planner ruler); remote backends judge
    several candidates at once."""
    if spec in OFFLINE_SPECS or spec.startswith("embedding:"):
        if ruler is not None and not ruler.is_planner:
            return GenericJudge(ruler.feature)  # any other feature: its schema and rubric
        return EmbeddingJudge()
    backend, _ = parse_spec(spec)
    return llm_judge(get_model(spec), ruler=ruler, concurrency=REMOTE_BACKENDS.get(backend, 1))


__all__ = [
    "EmbeddingJudge",
    "GenericJudge",
    "Judge",
    "LLMJudge",
    "get_judge",
    "llm_judge",
    "parse_candidate",
    "worst_verdict",
]
