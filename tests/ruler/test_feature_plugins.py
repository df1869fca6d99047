"""Feature plugins (ruler/hookspecs.py): a check replaces a dimension's signal in the generic
judge, a parser reads free text into the feature's JSON (still held to the schema), a renderer
writes one line; lever files of a workspace are never asked; a broken plugin is a clear error."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from models.plugins import pm
from ruler.contract import breach, parse_json_answer
from ruler.hookspecs import hookimpl
from ruler.judges import get_judge
from ruler.loader import load_ruler
from ruler.lock import write_lock
from ruler.plugins import FeatureHooks, FeaturePluginError, feature_hooks, render_answer
from tests.ruler.feature_folder import write_folder

SHORT = 8  # words: the subject must be short, which similarity to the gold cannot see


def subject_is_short(answer, case):
    words = len(answer["subject"].split())
    if words <= SHORT:
        return 5.0, f"{words} words"
    return 2.0, f"{words} words, over {SHORT}"


def parse_lines(text):
    """'Subject: ...' then '- action' lines, the way a small model might write it."""
    subject = re.search(r"^Subject:\s*(.+)$", text, re.M)
    actions = re.findall(r"^- (.+)$", text, re.M)
    if subject is None:
        return None
    if "BOOM" in text:
        raise ValueError("cannot read this")
    return {"subject": subject.group(1).strip(), "actions": actions}


def render(answer):
    return f"{answer['subject']} ({len(answer['actions'])} actions)"


class TriagePlugin:
    def __init__(self, hooks: FeatureHooks) -> None:
        self.hooks = hooks

    @hookimpl
    def register_feature_hooks(self, register):
        register(self.hooks)


HOOKS = FeatureHooks(
    feature="support_triage",
    checks={"accuracy": subject_is_short},
    parse=parse_lines,
    render=render,
    version="2",
)


@pytest.fixture
def plugin():
    """Register a plugin on the one plugin manager for one test, by name."""
    names = []

    def add(hooks: FeatureHooks = HOOKS, name: str = "triage_checks") -> None:
        pm.register(TriagePlugin(hooks), name=name)
        names.append(name)

    yield add
    for name in names:
        pm.unregister(name=name)


@pytest.fixture
def ruler(tmp_path):
    path = write_folder(tmp_path / "support_triage")
    write_lock(path)
    return load_ruler(path)


def answer(subject: str, actions: list[str]) -> str:
    return json.dumps({"subject": subject, "actions": actions})


def test_a_check_replaces_its_dimensions_signal_for_candidate_and_gold(ruler, plugin):
    case = ruler.cases["e1"]
    wordy = (
        "The customer says that they were charged twice for the March invoice and would like "
        "the duplicate charge refunded"
    )
    text = answer(wordy, case.gold_data["actions"])
    before = get_judge("embedding", ruler=ruler).judge(case, text)
    assert before.scores["accuracy"] >= 4  # close to the gold by meaning: the signal is blind
    plugin()
    judge = get_judge("embedding", ruler=ruler)
    assert judge.judge_id.endswith("+triage_checks@2")  # cached verdicts of another judge unused
    after = judge.judge(case, text)
    assert after.scores["accuracy"] == 2 and "over 8 (triage_checks)" in after.rationale
    assert after.scores["grounded"] == before.scores["grounded"]  # other dimensions unchanged
    gold = judge.judge(case, json.dumps(case.gold_data))
    assert gold.scores["accuracy"] == 5 and gold.outcome == "T"
    assert after.outcome == "L"  # the gold, checked the same way, now beats it


def test_the_parser_reads_free_text_and_the_schema_still_holds(ruler, plugin):
    case = ruler.cases["e1"]
    free = "Subject: Duplicate charge on the March invoice\n- Refund $40\n- Check why\n- Confirm"
    assert parse_json_answer(free, ruler.feature.output_schema, "support_triage")[1] == "not JSON"
    plugin()
    value, why = parse_json_answer(free, ruler.feature.output_schema, "support_triage")
    assert why == "" and value["actions"] == ["Refund $40", "Check why", "Confirm"]
    assert parse_json_answer(free, ruler.feature.output_schema)[1] == "not JSON"  # no feature
    verdict = get_judge("embedding", ruler=ruler).judge(case, free)
    assert "contract broken" not in verdict.rationale and verdict.scores["accuracy"] == 5
    two = "Subject: Refund\n- Refund $40\n- Confirm"  # parsed, but breaks minItems and minLength
    assert "at /" in breach(two, ruler.feature.output_schema, "support_triage")[1]
    _, why = breach("Subject: x\nBOOM", ruler.feature.output_schema, "support_triage")
    assert why.startswith("not JSON; the parser of plugin triage_checks failed: ValueError")


def test_the_renderer_writes_one_short_line(plugin):
    value = {"subject": "Duplicate charge", "actions": ["a", "b", "c"]}
    assert render_answer("support_triage", value) == json.dumps(value)  # no plugin: its JSON
    plugin()
    assert render_answer("support_triage", value) == "Duplicate charge (3 actions)"
    assert len(render_answer("support_triage", {**value, "subject": "x" * 300})) == 100


def test_a_workspace_lever_file_cannot_register_feature_hooks(ruler, plugin):
    always_five = FeatureHooks(
        feature="support_triage", checks={"accuracy": lambda answer, case: (5.0, "trust me")}
    )
    plugin(always_five, name="workspace:sneaky.py")
    assert feature_hooks("support_triage") is None
    assert "+" not in get_judge("embedding", ruler=ruler).judge_id


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        (
            FeatureHooks(feature="support_triage", checks={"tone": subject_is_short}),
            "a check for 'tone', which feature support_triage has no rubric dimension of",
        ),
        (
            FeatureHooks(feature="support_triage", checks={"accuracy": lambda a, c: (9, "x")}),
            r"check support_triage.accuracy on case e1 returned \(9, 'x'\); return \(score",
        ),
        (
            FeatureHooks(feature="support_triage", checks={"accuracy": lambda a, c: a["nope"]}),
            "check support_triage.accuracy on case e1 raised KeyError",
        ),
    ],
)
def test_a_broken_plugin_is_an_error_naming_it(ruler, plugin, hooks, message):
    plugin(hooks)
    with pytest.raises(FeaturePluginError, match=message):
        get_judge("embedding", ruler=ruler).judge(
            ruler.cases["e1"], json.dumps(ruler.cases["e1"].gold_data)
        )


def test_two_plugins_for_one_feature_are_refused(plugin):
    plugin()
    plugin(FeatureHooks(feature="support_triage"), name="other_plugin")
    with pytest.raises(FeaturePluginError, match="both triage_checks and other_plugin"):
        feature_hooks("support_triage")
    assert feature_hooks("review_digest") is None


def test_registering_something_else_is_an_error(plugin):
    plugin(SimpleNamespace(feature="support_triage"), name="wrong_type")  # type: ignore[arg-type]
    with pytest.raises(FeaturePluginError, match="register a ruler.plugins.FeatureHooks"):
        feature_hooks("support_triage")


def test_judge_shows_the_answer_through_the_renderer(ruler, plugin, tmp_path):
    from click.testing import CliRunner

    from orchestrator.cli import load_commands

    plugin()
    candidate = tmp_path / "answer.txt"
    candidate.write_text("Subject: Duplicate March charge\n- Refund $40\n- Check why\n- Confirm")
    args = ["judge", "--ruler", str(ruler.path), "--case", "e1", "--candidate", str(candidate)]
    result = CliRunner().invoke(load_commands(), args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "answer: Duplicate March charge (3 actions)" in result.output
    assert "accuracy 5: 3 words (triage_checks)" in result.output
