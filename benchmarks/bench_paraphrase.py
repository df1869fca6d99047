"""Paraphrased-duplicate detection of the offline judge, before (v1) and after (v2).

Each held-out item (tests/ruler/data/paraphrase_duplicates.jsonl) takes a training-pool task's
gold plan and replaces one non-critical question with a hand-written rewording of another
question of the same plan (same ask, different words). Detected: the planted plan's
non_redundancy score is below the gold plan's. Also printed: the pairwise outcome not W, and
false alarms: the share of all training-pool gold plans whose non_redundancy is below 5.

    python benchmarks/bench_paraphrase.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ruler.judges.embedding import EmbeddingJudge  # noqa: E402
from ruler.loader import load_ruler  # noqa: E402
from ruler.plan import Plan, render_plan  # noqa: E402
from ruler.records import Case  # noqa: E402

DATA = ROOT / "tests" / "ruler" / "data" / "paraphrase_duplicates.jsonl"


def planted_cases(path: Path = DATA) -> list[tuple[Case, Plan]]:
    """(training case, its gold plan with the paraphrased duplicate planted) per item."""
    pool = {c.id: c for c in load_ruler().training_pool()}
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    out = []
    for item in items:
        case = pool[item["id"]]
        questions = list(case.gold.questions)
        if questions[item["source"]] != item["source_question"]:
            raise ValueError(f"{path}: {item['id']} source question no longer matches the pool")
        questions[item["target"]] = item["paraphrase"]
        out.append((case, Plan(title=case.gold.title, questions=questions)))
    return out


def detection(judge: EmbeddingJudge, planted: list[tuple[Case, Plan]]) -> dict[str, float]:
    """Detection rate, pairwise-not-won rate and the gold plans' false-alarm rate."""
    pairs = [(c, render_plan(p)) for c, p in planted]
    pairs += [(c, render_plan(c.gold)) for c, _ in planted]
    verdicts = judge.judge_many(pairs)
    variant, gold = verdicts[: len(planted)], verdicts[len(planted) :]
    lower = [
        v.scores["non_redundancy"] < g.scores["non_redundancy"]
        for v, g in zip(variant, gold, strict=True)
    ]
    pool = load_ruler().training_pool()
    golds = judge.judge_many([(c, render_plan(c.gold)) for c in pool])
    return {
        "detected": sum(lower) / len(planted),
        "not_won": sum(v.outcome != "W" for v in variant) / len(planted),
        "pairwise_lost": sum(v.outcome == "L" for v in variant) / len(planted),
        "gold_flagged": sum(v.scores["non_redundancy"] < 5 for v in golds) / len(golds),
    }


def main() -> None:
    planted = planted_cases()
    print(f"{len(planted)} planted paraphrased duplicates (training-pool tasks)")
    print(f"{'judge':40} {'detected':>9} {'pair L':>7} {'gold NR<5':>10}")
    for aware in (False, True):
        judge = EmbeddingJudge(paraphrase_aware=aware)
        r = detection(judge, planted)
        print(
            f"{judge.judge_id:40} {r['detected']:9.0%} {r['pairwise_lost']:7.0%}"
            f" {r['gold_flagged']:10.0%}"
        )


if __name__ == "__main__":
    main()
