"""The heuristic researcher's moves for a feature other than the planner, written from it.

The planner's moves (`heuristic.moves`) speak of seven questions. Another feature's moves name
its contract (the JSON Schema the answer must keep) and its rubric dimensions, and its prompt
phrasings are real lever modules too: subclasses of the built-in prompt lever that rephrase the
feature's own request (`PromptLever.feature_text`), so they keep the feature's instruction and
add one idea each.
"""

from __future__ import annotations

import re

from levers.feature import FeatureSpec
from orchestrator.researchers.moves import Move, enable, set_prompt, use_phrasing

# slug -> (why, template); the template sees {request} (the feature's request with the input),
# {label} (what an input is called) and {dimensions} (the rubric's names)
FEATURE_PHRASINGS: dict[str, tuple[str, str]] = {
    "json-only": (
        "ask for the JSON answer alone, with no words around it",
        "{request}\n\nReply with the JSON answer only: no words before or after it.",
    ),
    "close-reading": (
        "ask the model to read the {label} closely and use only what it says",
        "Read the {label} closely; every part of your answer must come from it.\n\n{request}",
    ),
    "judged-on": (
        "tell the model what the answer is judged on ({dimensions})",
        "Your answer is judged on: {dimensions}.\n\n{request}",
    ),
}

FEATURE_PHRASING_TEMPLATE = '''"""Prompt variant {slug!r} for the {feature} feature, written by the
heuristic researcher: {why}."""

from levers.builtin.prompt import PromptLever
from levers.hookspecs import hookimpl

TEMPLATE = {template!r}


class {cls}(PromptLever):
    """The built-in prompt lever with the {feature} request phrased as: {slug}."""

    name = {name!r}

    def feature_text(self, feature, text):
        dimensions = ", ".join(name for name, _ in feature.rubric)
        request = super().feature_text(feature, text)
        return TEMPLATE.format(request=request, label=feature.input_label, dimensions=dimensions)


@hookimpl
def register_levers(register):
    register({cls})
'''


def feature_phrasing_move(feature: FeatureSpec, slug: str) -> Move:
    """A prompt phrasing for `feature`, as a lever module the heuristic writes."""
    why, template = FEATURE_PHRASINGS[slug]
    why = why.format(label=feature.input_label, dimensions=dimension_names(feature))
    name = "prompt_" + slug.replace("-", "_")
    cls = "".join(part.title() for part in re.split(r"[-_]", slug)) + "Prompt"
    code = FEATURE_PHRASING_TEMPLATE.format(
        slug=slug, feature=feature.name, why=why, template=template, cls=cls, name=name
    )
    return Move(
        "prompt",
        f"Phrasing the {feature.name} request to {why} improves the answers",
        use_phrasing(name),
        code,
        f"{name}.py",
    )


def dimension_names(feature: FeatureSpec) -> str:
    return ", ".join(name for name, _ in feature.rubric) or "the rubric"


def feature_moves(feature: FeatureSpec) -> list[Move]:
    """Every single-step change for `feature`, most promising first."""
    name, label, dims = feature.name, feature.input_label, dimension_names(feature)
    return [
        Move(
            "decoding",
            f"Constraining decoding to the {name} contract (its JSON Schema) makes every answer "
            "parse and keep the contract",
            enable("schema"),
        ),
        Move(
            "prompt",
            f"Spelling out the {name} rubric ({dims}) in the request helps",
            set_prompt(instructions="rubric"),
        ),
        Move(
            "prompt",
            f"One worked example from the {name} training pool shows the contract and the bar",
            set_prompt(few_shot=1),
        ),
        Move(
            "rag",
            f"The two training cases nearest to the {label} are better examples than none",
            enable("rag", k=2, method="embedding"),
        ),
        Move(
            "prompt",
            f"Stating the {name} JSON Schema in the request keeps answers in the contract",
            set_prompt(output_format="json"),
        ),
        *[feature_phrasing_move(feature, slug) for slug in FEATURE_PHRASINGS],
        Move(
            "prompt",
            "Asking for the most important item first improves the answer's order and coverage",
            set_prompt(instructions="critical-first"),
        ),
        Move(
            "decoding",
            "A repetition penalty of 1.2 stops repeated items",
            enable("decoding", repetition_penalty=1.2),
        ),
        Move("prompt", "Three worked examples beat one", set_prompt(few_shot=3)),
        Move(
            "rag",
            f"BM25 retrieval finds examples with the {label}'s own words",
            enable("rag", k=3, method="bm25"),
        ),
        Move(
            "prompt",
            f"A persona written from the {name} description focuses the model",
            set_prompt(system="feature"),
        ),
        Move(
            "multi_call",
            f"Noting the {label}'s key facts first, then answering, grounds the answer",
            enable("multi_call", mode="decompose"),
        ),
        Move(
            "multi_call",
            "Sampling three answers and keeping the one that keeps the contract, repeats "
            f"nothing and is most grounded in the {label} helps",
            enable("multi_call", mode="overgenerate", n=12),
        ),
        Move(
            "self_critique",
            f"One round of critique against the {name} rubric ({dims}), then revision, helps",
            enable("self_critique", rounds=1),
        ),
        Move(
            "self_critique",
            "Checking the answer against the contract and rewriting it when it fails helps",
            enable("verify", checker="rules"),
        ),
        Move(
            "decoding",
            "Light sampling (temperature 0.3) escapes a repetitive greedy answer",
            enable("decoding", temperature=0.3, seed=0),
        ),
    ]
