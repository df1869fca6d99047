"""Adapter training: the supervisor's estimate for a request, the run with its progress, and
the adapter's training as the first node of an experiment's process diagram."""

from __future__ import annotations

from typing import Any

from levers.adapters import adapter_store
from orchestrator.gates import one_line
from runlog.feature_spec import workspace_feature
from runlog.workspace import Workspace


class Training:
    """The services' training track (mixed into `WorkspaceServices`)."""

    ws: Workspace

    def training_trace(self, ref: str | None) -> list[dict[str, Any]]:
        """The adapter's (dev-time) training as the first node of the process diagram."""
        if not ref:
            return []
        from levers.adapters import load_record
        from levers.training.track import training_node

        record = load_record(adapter_store(self.root), ref)
        return [training_node(record).model_dump(mode="json")]

    def training_estimate(self, request: dict[str, Any]) -> dict[str, Any]:
        from levers.training.estimate import estimate_seconds
        from levers.training.trainers import TrainConfig, training_supported

        model = self._agent_on_disk().get("model", "")
        ok, reason = training_supported(model)
        steps = int(request.get("steps") or 60)
        batch = TrainConfig().batch_size
        seconds = estimate_seconds(request.get("kind", "sft"), steps, model, batch) if ok else None
        return {
            "model": model,
            "data_size": _pool_size(workspace_feature(self.root)),
            "steps": steps,
            "estimated_seconds": seconds,
            "trainable_here": ok,
            "note": reason,
        }

    def train(self, request: dict[str, Any], exp_id: str) -> str:
        from levers.training.track import run_training
        from levers.training.trainers import TrainConfig

        kind = request.get("kind", "sft")
        recipe = TrainConfig(
            steps=int(request.get("steps") or 60),
            rank=int(request.get("rank") or 8),
            learning_rate=float(request.get("learning_rate") or 2e-4),
        )
        self.record_event("training_started", request=exp_id, training=request)
        self.publish_status("training", node="train", experiment=exp_id)

        def on_step(step: int, total: int, loss: float | None) -> None:
            self.publish_status(
                "training",
                node="train",
                experiment=exp_id,
                progress=(step, total),
                message=f"loss {loss:.3f}" if loss is not None else "",
            )
            self.emit("training_progress", step=step, total=total, loss=loss)

        def on_draft(done: int, total: int) -> None:  # on-policy pairs: the agent's own drafts
            self.publish_status(
                "training",
                node="train",
                experiment=exp_id,
                progress=(done, total),
                message="drafting on-policy pairs",
            )
            self.emit("training_progress", stage="drafts", step=done, total=total)

        try:
            adapter = run_training(
                kind,
                workspace=self.root,
                config=recipe,
                pool_size=request.get("pool_size"),
                pairs=request.get("pairs") or "style",
                on_step=on_step,
                on_draft=on_draft,
                feature=workspace_feature(self.root),
            )
        except Exception as exc:  # any failure (missing trl/peft, a torch error) is recorded
            self.record_event(
                "error", request=exp_id, text=f"training failed: {one_line(exc)}", training=request
            )
            return ""
        self.record_event(
            "training_done",
            request=exp_id,
            adapter=adapter.hash,
            training_kind=kind,
            seconds=adapter.seconds,
        )
        return adapter.hash


def _pool_size(feature: Any = None) -> int:
    from levers.training.data import load_training_pool

    return len(load_training_pool(feature=feature))
