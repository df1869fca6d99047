"""Benchmark constrained decoding on local:smollm2-135m: tokens/s with and without a schema.

Generates the plan for the same prompts (the schema lever's JSON request, greedy) three ways:
unconstrained, constrained by llguidance (the local backend's choice,
`models.backends.constrained`; also on the schema without its '?' pattern) and, when
installed, by lm-format-enforcer (which cannot combine a pattern with length bounds); prints
output tokens/s and CPU-seconds per token for each, the overhead against unconstrained, and
whether each answer is valid JSON with seven questions.

    OMP_NUM_THREADS=1 python benchmarks/bench_schema.py [--prompts 3] [--max-tokens 200] [--json]

The machine may be shared: compare CPU-seconds per token more than wall tokens/s.

Measured 2026-11-29, shared 2-core CPU box, torch 2.13.0 CPU, `--prompts 2 --max-tokens 160`:
unconstrained 70.1 CPU ms/token (3.77 tok/s wall); llguidance 73.6 (+5.0%, 3.73 tok/s);
llguidance without the '?' pattern 71.0 (+1.3%); lm-format-enforcer without the pattern 78.5
(+12.0%, 3.58 tok/s). xgrammar was not tried: it pulls in triton; outlines was not measured.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

TASKS = [
    "plan a trip to Paris",
    "organize a wedding for 80 guests",
    "start a vegetable garden on a balcony",
    "move to Berlin with two kids",
    "renovate a small kitchen",
]


def prompt_ids(tokenizer: Any, task: str, schema: dict) -> Any:
    from levers.builtin.schema import JSON_INSTRUCTION
    from models.backends.local import render_prompt
    from models.base import GenerationOptions, Message

    text = f"I want to {task}. Before you make a plan, what seven questions would you ask me?"
    messages = [Message(role="user", content=f"{text} {JSON_INSTRUCTION}")]
    rendered = render_prompt(tokenizer, messages, GenerationOptions(json_schema=schema))
    return tokenizer(rendered, return_tensors="pt", add_special_tokens=False)


def llguidance_kwargs(tokenizer: Any, schema: dict, width: int) -> dict:
    from models.backends.constrained import SchemaLogitsProcessor
    from models.backends.local import transformers_processors

    processor = SchemaLogitsProcessor(tokenizer, schema, 1, width)
    return {"logits_processor": transformers_processors(processor)}


def lmfe_kwargs(tokenizer: Any, schema: dict, width: int) -> dict:
    import sys

    import transformers.tokenization_utils_base as base
    from lmformatenforcer import JsonSchemaParser

    # lm-format-enforcer 0.11 imports transformers 4's module name; 5 renamed it
    sys.modules.setdefault("transformers.tokenization_utils", base)
    from lmformatenforcer.integrations.transformers import (
        build_transformers_prefix_allowed_tokens_fn,
    )

    fn = build_transformers_prefix_allowed_tokens_fn(tokenizer, JsonSchemaParser(schema))
    return {"prefix_allowed_tokens_fn": fn}


def seven_questions(text: str) -> bool:
    try:
        return len(json.loads(text)["questions"]) == 7
    except (ValueError, KeyError, TypeError):
        return False


def measure(model: Any, tokenizer: Any, schema: dict, extra: Callable | None, args) -> dict:
    import torch

    tokens, wall, cpu, valid = 0, 0.0, 0.0, 0
    for task in TASKS[: args.prompts]:
        inputs = prompt_ids(tokenizer, task, schema)
        width = inputs["input_ids"].shape[1]
        kwargs = extra(tokenizer, schema, width) if extra else {}
        started, cpu_started = time.perf_counter(), time.process_time()
        with torch.inference_mode():
            out = model.generate(
                **inputs,
                max_new_tokens=args.max_tokens,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                pad_token_id=tokenizer.pad_token_id,
                **kwargs,
            )
        wall += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        new = out[0][width:]
        tokens += len(new)
        valid += seven_questions(tokenizer.decode(new, skip_special_tokens=True))
    return {
        "tokens": tokens,
        "tok_per_s": round(tokens / wall, 2),
        "cpu_ms_per_token": round(1000 * cpu / tokens, 1),
        "valid_json_7": f"{valid}/{args.prompts}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from levers.builtin.schema import SchemaParams, plan_schema
    from models.backends.local import LocalModel

    model, tokenizer = LocalModel("smollm2-135m").load()
    full = plan_schema(SchemaParams())
    bare = plan_schema(SchemaParams(question_mark=False))  # lm-format-enforcer: no pattern+length
    ways: dict[str, tuple[dict, Callable | None]] = {
        "unconstrained": (full, None),
        "llguidance": (full, llguidance_kwargs),
        "llguidance (no pattern)": (bare, llguidance_kwargs),
    }
    try:
        import lmformatenforcer  # noqa: F401

        ways["lm-format-enforcer (no pattern)"] = (bare, lmfe_kwargs)
    except ImportError:
        pass
    llguidance_kwargs(tokenizer, full, 0)  # build the token trie once, outside the timing
    if not args.json:
        print(
            f"{'decoding':32} {'tokens':>6} {'tok/s':>7} {'cpu ms/tok':>10} {'overhead':>9} valid"
        )
    results: dict[str, dict] = {}
    for name, (schema, way) in ways.items():
        row = results[name] = measure(model, tokenizer, schema, way, args)
        base = results["unconstrained"]["cpu_ms_per_token"]
        row["overhead_pct"] = round(100 * (row["cpu_ms_per_token"] / base - 1), 1)
        if not args.json:
            print(
                f"{name:32} {row['tokens']:>6} {row['tok_per_s']:>7} "
                f"{row['cpu_ms_per_token']:>10} {row['overhead_pct']:>8}% {row['valid_json_7']}",
                flush=True,
            )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
