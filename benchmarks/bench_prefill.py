"""How much of a multi-call lever's time is the prompt, and how much a shared-prefix KV cache
could save at most.

    python benchmarks/bench_prefill.py [--gate dev-10] [--agent "rag + info_gain"]

Runs the agent on the gate's cases on real SmolLM2 (torch backend), recording every batch the
pipeline sends to the model, then times each batch again three ways: as it ran (generation),
with one new token (the prompt's prefill alone), and the prefill of only the context the
batch's calls share with the case's first call (the system prompt and retrieved examples before
the lever's own instruction). What a prefix cache across a case's calls saves is at most the
shared prefill of every call after a case's first: printed as a share of the generation time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_ct2 import AGENTS  # noqa: E402

from levers.config import AgentConfig  # noqa: E402
from levers.runner import run_agent  # noqa: E402
from models.backends.local import LocalModel  # noqa: E402
from models.base import GenerationOptions, Message  # noqa: E402
from ruler.loader import load_ruler  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gate", default="dev-10")
    parser.add_argument("--agent", default="rag + info_gain", choices=list(AGENTS))
    args = parser.parse_args()
    config = AgentConfig.model_validate(
        {
            "model": "local:smollm2-135m",
            "decoding": {"temperature": 0.0, "max_tokens": 220},
            "levers": [{"name": "prompt"}, *AGENTS[args.agent]],
        }
    )
    cases = load_ruler().gate_cases(args.gate)
    calls: list[tuple[list[list[Message]], GenerationOptions]] = []
    original = LocalModel.generate_batch

    def recording(self, batch, options):
        calls.append((batch, options))
        return original(self, batch, options)

    LocalModel.generate_batch = recording  # type: ignore[method-assign]
    started = time.perf_counter()
    run_agent(config, cases)
    seconds = time.perf_counter() - started
    print(f"{args.agent} on {args.gate}: {len(calls)} batches in {seconds:.1f} s", flush=True)
    LocalModel.generate_batch = original  # type: ignore[method-assign]

    model = LocalModel("smollm2-135m")
    model.load()  # not timed
    generation = prefill = shared = 0.0
    for i, (batch, options) in enumerate(calls):
        one_token = options.model_copy(update={"max_tokens": 1, "stop": []})
        # the context before the lever's own instruction: what each of a case's calls repeats
        context = [messages[:-1] or messages for messages in batch]
        timed = []
        for run, opts in ((batch, options), (batch, one_token), (context, one_token)):
            t = time.perf_counter()
            model.generate_batch(run, opts)
            timed.append(time.perf_counter() - t)
        generation += timed[0]
        prefill += timed[1]
        if i > 0:  # a case's first call pays its prefix in any case
            shared += timed[2]
        print(
            f"batch {i + 1}: {len(batch)} calls, generation {timed[0]:.1f} s, "
            f"prefill {timed[1]:.1f} s, shared-context prefill {timed[2]:.1f} s",
            flush=True,
        )
    print(
        f"total: generation {generation:.1f} s; prefill {prefill:.1f} s "
        f"({prefill / generation:.0%}); a prefix cache saves at most {shared:.1f} s "
        f"({shared / generation:.0%}) · load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
