"""Validate a lever file someone else wrote: parse, import, register, one smoke case.

`validate_lever(path)` never raises for a bad lever: the report says which stage failed and
why. Import, registration and the smoke case run in a sandboxed subprocess (`levers.sandbox`)
with a timeout (a lever that hangs or crashes the interpreter cannot take the caller down), on a
copy of the file (with its sibling lever files when it sits in an agent's `levers/`), so the
process reads nothing of the folder it came from. The smoke case runs the lever
alone on the fake model (`fake:planner`), or, given a `Smoke` (the agent it will run in, a task
and the models to try), inside that agent on each of the models.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from levers.sandbox import SandboxError, child_env, enter, sandboxed_command

Stage = Literal["parse", "import", "register", "smoke"]
SMOKE_TASK = "plan a weekend camping trip with two kids"
SMOKE_MODEL = "fake:planner"
LOCAL_BACKENDS = ("local:", "ct2:")  # candidates that run on this machine: smoke-run on them too
MESSAGE_LIMIT = 600  # lever-controlled text that leaves this module is bounded


def smoke_models(candidate: str) -> list[str]:
    """The models a lever is smoke-run on: the fake one, and the candidate when it runs here."""
    return [SMOKE_MODEL, candidate] if candidate.startswith(LOCAL_BACKENDS) else [SMOKE_MODEL]


class Smoke(BaseModel):
    """Smoke-run a lever inside `agent` (an agent.toml as a dict) on `task`, once per model,
    for `feature` (a `FeatureSpec` as a dict; None: the planner)."""

    model_config = ConfigDict(extra="forbid")

    agent: dict
    task: str = SMOKE_TASK
    models: list[str] = Field(default_factory=lambda: [SMOKE_MODEL])
    feature: dict | None = None


class ValidationReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    ok: bool
    stage: Stage
    message: str = ""
    levers: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        """One line for logs: ok or the failed stage and why."""
        if self.ok:
            return f"{self.path}: ok ({', '.join(self.levers)}) in {self.seconds:.1f}s"
        return f"{self.path}: failed at {self.stage}: {self.message}"


def check_parse(path: Path) -> str:
    """'' when the file parses, else the syntax error with its line."""
    try:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read: {exc}"
    return ""


def validate_lever(
    path: str | Path,
    *,
    expect: list[str] | None = None,
    timeout: float = 25.0,
    smoke: Smoke | None = None,
) -> ValidationReport:
    """Parse, then import + register + smoke-run in a subprocess; failures are data."""
    path = Path(path).resolve()
    started = time.perf_counter()

    def report(ok: bool, stage: Stage, message: str = "", levers=()) -> ValidationReport:
        return ValidationReport(
            path=str(path),
            ok=ok,
            stage=stage,
            message=message,
            levers=list(levers),
            seconds=round(time.perf_counter() - started, 2),
        )

    if problem := check_parse(path):
        return report(False, "parse", problem)
    with tempfile.TemporaryDirectory(prefix="autoresearch-validate-") as tmp:
        copy = _agent_copy(path, Path(tmp))
        try:
            done = _run_sandboxed(copy, expect, smoke, timeout)
        except subprocess.TimeoutExpired as exc:
            stage = _last_stage(exc.stdout or "")
            return report(False, stage, f"timed out after {timeout:.0f}s during {stage}")
        except SandboxError as exc:
            return report(False, "import", str(exc))
    stage = _last_stage(done.stdout)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{") and '"ok"' in line:
            result = json.loads(line)
            message = str(result["message"])[:MESSAGE_LIMIT]
            return report(result["ok"], result["stage"], message, result["levers"])
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:MESSAGE_LIMIT]
    return report(False, stage, f"the validator process exited {done.returncode}: {tail}")


def _agent_copy(path: Path, dest: Path) -> Path:
    """The lever file copied under dest/agent/levers/ (with its sibling lever files and
    agent.toml when it sits in an agent's levers/); returns the copy's path."""
    levers = dest / "agent" / "levers"
    levers.mkdir(parents=True)
    if _in_workspace(path):
        for sibling in path.parent.glob("*.py"):
            shutil.copy(sibling, levers / sibling.name)
        shutil.copy(path.parent.parent / "agent.toml", dest / "agent" / "agent.toml")
    shutil.copy(path, levers / path.name)
    return levers / path.name


def _run_sandboxed(
    path: Path, expect: list[str] | None, smoke: Smoke | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    from levers.feature import FeatureSpec
    from levers.pipeline import feature_rulers, prepare_weights

    cmd = [
        sys.executable,
        "-m",
        "levers.validate",
        str(path),
        *(["--expect", ",".join(expect)] if expect is not None else []),
        *(["--smoke", smoke.model_dump_json()] if smoke is not None else []),
    ]
    weights = [
        w for model in (smoke.models if smoke else []) for w in prepare_weights({"model": model})
    ]
    # the caller's import path: installed levers load, so name clashes show
    feature = FeatureSpec.model_validate(smoke.feature) if smoke and smoke.feature else None
    sandboxed = sandboxed_command(
        cmd,
        child_env(),
        agent_dir=path.parent.parent,
        model_paths=weights,
        rulers=feature_rulers(feature),
    )
    try:
        return subprocess.run(
            sandboxed.argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=sandboxed.env,
            cwd=sandboxed.scratch,
        )
    finally:
        sandboxed.cleanup()


def _last_stage(stdout: str | bytes) -> Stage:
    text = stdout.decode() if isinstance(stdout, bytes) else stdout
    stages = [line[6:].strip() for line in text.splitlines() if line.startswith("stage ")]
    return stages[-1] if stages else "import"  # type: ignore[return-value]


def _in_workspace(path: Path) -> bool:
    """Whether a lever file sits in an agent's `levers/` folder (next to agent.toml)."""
    return path.parent.name == "levers" and (path.parent.parent / "agent.toml").is_file()


def _stage(name: str) -> None:
    print(f"stage {name}", flush=True)


def _worker(
    path: Path, expect: list[str] | None, smoke: Smoke | None = None
) -> tuple[bool, Stage, str, list[str]]:
    """Runs in the subprocess: import, register, smoke; returns (ok, stage, message, levers)."""
    _stage("import")
    from levers.registry import (
        LeverError,
        check_lever_class,
        ensure_levers,
        lever_classes,
        load_lever_files,
        register_lever_file,
    )
    from levers.runner import stage_manager
    from models.plugins import pm

    try:
        ensure_levers()  # built-ins and installed entry points
        code = path.read_bytes()  # this file (a copy of it), installed: no clash
        for plugin_name, plugin in list(pm.list_name_plugin()):
            source = Path(getattr(plugin, "__file__", None) or "/")
            same = source.name == path.name and source.is_file()
            if same and source.read_bytes() == code:
                pm.unregister(name=plugin_name)
        if _in_workspace(path):  # its sibling lever files load too, as `eval` loads them
            load_lever_files(path.parent)
        name = register_lever_file(path)
    except Exception as exc:
        return False, "import", _short(exc), []
    _stage("register")
    try:
        found = []
        for impl in pm.hook.register_levers.get_hookimpls():
            if impl.plugin_name == name:
                impl.function(register=lambda cls: found.append(check_lever_class(cls, name)))
        names = [cls.name for cls in found]
        if not names:
            return False, "register", "registers no lever (no @hookimpl register_levers?)", []
        if expect is not None and sorted(expect) != sorted(names):
            return False, "register", f"registers {names}, expected {sorted(expect)}", names
        try:
            lever_classes()  # installed levers (entry points, sibling files) load here
        except LeverError as exc:
            clash = "name clash with an installed lever: " if "twice" in str(exc) else ""
            return False, "register", f"{clash}{exc}", names
        stage_manager([cls(cls.Params()) for cls in found])  # stage method signatures
    except Exception as exc:
        return False, "register", _short(exc), []
    _stage("smoke")
    if smoke is None:
        return _smoke(names, {"model": SMOKE_MODEL, "levers": [{"name": n} for n in names]})
    enabled = {spec.get("name") for spec in smoke.agent.get("levers", [])}
    if not enabled & set(names):
        return False, "smoke", f"the agent it was tried in does not enable {names}", names
    for model in smoke.models:
        result = _smoke(names, {**smoke.agent, "model": model}, smoke.task, smoke.feature)
        if not result[0]:
            return result[0], result[1], f"inside the agent on {model}: {result[2]}", names
    return True, "smoke", "", names


def _smoke(
    names: list[str], agent: dict, task: str = SMOKE_TASK, feature: dict | None = None
) -> tuple[bool, Stage, str, list[str]]:
    from levers.config import AgentConfig
    from levers.feature import PLANNER, FeatureSpec, activate
    from levers.runner import Task, run_agent

    case = Task(id="case-1", task=task)
    try:
        spec = FeatureSpec.model_validate(feature) if feature else PLANNER
        activate(spec)
        config = AgentConfig.model_validate(agent)
        run = run_agent(config, [case], feature=spec)[0]
    except Exception as exc:
        return False, "smoke", _short(exc), names
    if run.failed:
        return False, "smoke", run.error, names
    if not run.text.strip():
        return False, "smoke", "the pipeline produced empty text", names
    return True, "smoke", "", names


def _short(exc: BaseException) -> str:
    text = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    return f"{type(exc).__name__}: {text[:300]}"


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m levers.validate")
    parser.add_argument("path", type=Path)
    parser.add_argument("--expect", default=None)
    parser.add_argument("--smoke", default=None, help="a Smoke as JSON")
    args = parser.parse_args(argv)
    expect = [e for e in args.expect.split(",") if e] if args.expect is not None else None
    smoke = Smoke.model_validate_json(args.smoke) if args.smoke else None
    enter()  # the sandbox, before the lever is imported
    ok, stage, message, levers = _worker(args.path, expect, smoke)
    print(json.dumps({"ok": ok, "stage": stage, "message": message, "levers": levers}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
