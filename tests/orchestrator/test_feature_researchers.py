"""Researchers written from the feature: the heuristic's moves, Claude's system prompt, the
search space and the sealed holdout speak of the workspace's feature, not of seven questions."""

from __future__ import annotations

import json
from types import SimpleNamespace

from levers.config import BASELINE_AGENT, AgentConfig, LeverSpec
from levers.feature import PLANNER, FeatureSpec
from levers.registry import load_lever_files, unload_lever_files
from levers.runner import run_agent
from models.registry import get_model
from orchestrator.researchers.base import ExperimentSummary, LogView
from orchestrator.researchers.claude import SYSTEM, ClaudeResearcher
from orchestrator.researchers.claude.holdout import SEALED, Holdout
from orchestrator.researchers.feature_moves import feature_moves
from orchestrator.researchers.heuristic import HeuristicResearcher, moves_for
from orchestrator.researchers.space import registered_space
from ruler.records import Case

FEATURE = FeatureSpec(
    name="email_triage",
    description="Reads one support email and writes its subject and action items.",
    instruction="Triage this email as JSON.\n\nEmail:\n{input}\n\nJSON:",
    input_label="email",
    output_schema={
        "type": "object",
        "required": ["subject", "actions"],
        "properties": {"subject": {"type": "string"}, "actions": {"type": "array"}},
    },
    rubric=(("faithfulness", "Is every action in the email?"), ("brevity", "Is it short?")),
)
PLANNER_LEVERS = {"info_gain", "answer_simulation"}


def view(feature: FeatureSpec, *agents: dict) -> LogView:
    base = BASELINE_AGENT.model_dump()
    return LogView(
        experiments=[
            ExperimentSummary(
                id=f"{i:03d}", status="kept", lever_class="baseline", hypothesis="h", agent=a
            )
            for i, a in enumerate([base, *agents], 1)
        ],
        best_id="001",
        best_agent=base,
        feature=feature,
    )


def enabled(proposal) -> set[str]:
    return {spec["name"] for spec in proposal.agent_patch.get("levers", [])}


def test_the_heuristics_moves_are_written_from_the_feature():
    found = moves_for(FEATURE)
    text = " ".join(m.hypothesis for m in found)
    assert "email_triage" in text and "faithfulness, brevity" in text
    assert "seven" not in text.lower() and "question" not in text.lower()
    assert moves_for(PLANNER)[0].hypothesis.startswith("Spelling out the rubric")  # as before


def test_the_heuristic_never_proposes_a_planner_only_lever_for_another_feature():
    proposals = HeuristicResearcher(plateau_after=100).propose_batch(view(FEATURE), [], 40)
    assert len(proposals) == len(feature_moves(FEATURE))
    assert all(PLANNER_LEVERS.isdisjoint(enabled(p)) for p in proposals)
    assert proposals[0].agent_patch["levers"][-1]["name"] == "schema"  # the contract first


def test_a_phrasing_move_is_a_lever_that_rephrases_the_features_request(tmp_path):
    move = next(m for m in feature_moves(FEATURE) if m.lever_code)
    folder = tmp_path / "levers"
    folder.mkdir()
    (folder / move.lever_filename).write_text(move.lever_code, encoding="utf-8")
    load_lever_files(folder)
    try:
        agent = move.apply(BASELINE_AGENT.model_dump())
        levers = [LeverSpec(**s) for s in agent["levers"]]
        model = get_model("fake:planner")
        model.calls.clear()
        cases = [Case(id="c1", task="Refund me.", gold={})]
        [run] = run_agent(AgentConfig(model="fake:planner", levers=levers), cases, feature=FEATURE)
    finally:
        unload_lever_files()  # the other tests see the installed levers only
    request = model.calls[-1][-1].content
    assert not run.failed and "Triage this email as JSON." in request and "Refund me." in request
    assert request != FEATURE.render("Refund me.")  # the phrasing added its idea


def test_claudes_system_prompt_names_the_feature_its_contract_and_rubric():
    claude = ClaudeResearcher(model=SimpleNamespace(create=None))
    system = claude.system(view(FEATURE))
    head = system.split("## Built-in levers")[0]
    assert "email_triage" in head and FEATURE.schema_text() in head
    assert "- faithfulness: Is every action in the email?" in head and "2 dimensions" in head
    assert "seven" not in head.lower() and "planner" not in head.lower()
    assert claude.system(view(PLANNER)).startswith(SYSTEM)  # the planner's text as it was


def test_the_search_space_holds_only_the_levers_that_fit():
    names = lambda space: {lv.name for found in space.classes.values() for lv in found}  # noqa: E731
    assert names(registered_space()) >= PLANNER_LEVERS
    assert PLANNER_LEVERS.isdisjoint(names(registered_space("email_triage")))
    assert "schema" in names(registered_space("email_triage"))


def test_the_holdout_seals_every_string_of_a_features_gold():
    gold = {"subject": "Refund the double charge", "actions": [{"task": "Send a prepaid label"}]}
    ruler = SimpleNamespace(
        splits={"dev-1": ["a"], "full-2": ["a", "b"]},
        cases={
            "a": Case(id="a", task="Charged twice for order 118", gold=gold),
            "b": Case(id="b", task="Parcel never arrived at all", gold={"subject": "Lost parcel"}),
        },
    )
    holdout = Holdout.of(ruler, "dev-1", "full-2")
    sealed = holdout.seal("try: Send a prepaid label; or Refund the double charge; Lost parcel")
    assert "prepaid" not in sealed and "double charge" not in sealed and sealed.count(SEALED) == 3
    assert holdout.seal("Parcel never arrived at all") == SEALED  # the sealed case's input


def test_autoresearch_levers_lists_only_the_levers_of_the_workspaces_feature(tmp_path):
    from click.testing import CliRunner

    from orchestrator.cli import load_commands

    cli = load_commands()

    def listed(ruler: str) -> set[str]:
        (tmp_path / "autoresearch.toml").write_text(
            f'[ruler]\nname = "{ruler}"\nlock_hash = "x"\n', encoding="utf-8"
        )
        result = CliRunner().invoke(cli, ["levers", "-C", str(tmp_path), "--json"])
        assert result.exit_code == 0, result.output
        return {row["name"] for row in json.loads(result.output)}

    assert PLANNER_LEVERS.isdisjoint(listed("review_digest"))
    assert listed("planner") >= PLANNER_LEVERS
