"""A proposal's lever module: written into an agent folder and validated inside the proposed
agent (the best with the patch applied), with the fake model and, when local, the real
candidate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from levers.validate import (
    Smoke,
    ValidationReport,
    smoke_models,
    validate_lever,
)
from models.files import atomic_write_text
from orchestrator.researchers.base import (
    Proposal,
    Researcher,
    apply_patch,
)
from runlog.workspace import Workspace


class LeverCheck:
    """The services' lever files (mixed into `WorkspaceServices`)."""

    ws: Workspace

    def write_lever(
        self, exp_id: str, proposal: Proposal, agent_dir: Path | None = None
    ) -> str | None:
        """The proposal's lever module, written into `agent_dir` (the work tree's agent/ by
        default) under its file name, or `lever_<id>.py` when that is not a module name."""
        if not proposal.lever_code:
            return None
        name = proposal.lever_filename or f"lever_{exp_id}.py"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\.py", name):
            name = f"lever_{exp_id}.py"
        path = (agent_dir or self.ws.agent_dir) / "levers" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, proposal.lever_code)
        return str(path)

    def validate_lever(
        self,
        path: str,
        agent_patch: dict[str, Any] | None = None,
        parent: dict[str, Any] | None = None,
    ) -> ValidationReport:
        """Validate the lever inside the proposed agent (`parent`, the best by default, with the
        patch applied), on a training-pool task, with the fake model and, when local, the real
        candidate."""
        if agent_patch is None:
            return validate_lever(Path(path))
        from levers.training.data import load_training_pool
        from runlog.feature_spec import workspace_feature

        agent = apply_patch(parent if parent is not None else self._parent_config(), agent_patch)
        models = smoke_models(str(agent.get("model", "")))
        feature = workspace_feature(self.ws.main_root)
        pool = load_training_pool(limit=1, feature=feature)
        smoke = Smoke(
            agent=agent,
            models=models,
            feature=None if feature.planner else feature.model_dump(),
            **({"task": pool[0].task} if pool else {}),
        )
        return validate_lever(Path(path), smoke=smoke, timeout=25.0 if len(models) == 1 else 300.0)


class LeverServices(Protocol):
    researcher: Researcher

    def write_lever(
        self, exp_id: str, proposal: Proposal, agent_dir: Path | None = None
    ) -> str | None: ...
    def validate_lever(
        self,
        path: str,
        agent_patch: dict[str, Any] | None = None,
        parent: dict[str, Any] | None = None,
    ) -> ValidationReport: ...


@dataclass
class Checked:
    """A written lever's validation, and the researcher's repair when one was asked for."""

    report: ValidationReport
    path: str
    repaired: Proposal | None = None


def validate_and_repair(
    services: LeverServices,
    exp_id: str,
    proposal: Proposal,
    path: str,
    *,
    agent_dir: Path | None = None,
    parent: dict[str, Any] | None = None,
) -> Checked:
    """Validate the written lever inside the proposed agent; a failure gets the researcher's one
    repair, written under the same file name (into `agent_dir`) and validated again."""
    where = {"parent": parent} if parent is not None else {}  # a fake's signature is shorter
    report = services.validate_lever(path, proposal.agent_patch, **where)
    if report.ok or not proposal.lever_code:
        return Checked(report, path)
    repaired = services.researcher.repair(proposal, report.message)
    if repaired is None or not repaired.lever_code:
        return Checked(report, path)
    repaired = repaired.model_copy(update={"lever_filename": proposal.lever_filename})
    into = {"agent_dir": agent_dir} if agent_dir is not None else {}
    path = services.write_lever(exp_id, repaired, **into) or ""
    return Checked(services.validate_lever(path, repaired.agent_patch, **where), path, repaired)
