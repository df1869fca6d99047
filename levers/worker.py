"""The lever pipeline's own process: `python -m levers.worker`, driven by `levers.pipeline`.

Every lever (built-in, entry-point package, workspace file) is imported and run here, never in
the process that judges. Requests and replies are JSON lines: requests on stdin, replies on a
private copy of the original stdout (fd 1 itself is pointed at stderr, so a lever's prints
cannot corrupt the channel). Nothing is pickled: the judging process reads only JSON, which it
validates as data.

The process applies its OS sandbox (`levers.sandbox.enter`: Landlock here, or the wrapper the
parent started it in) before it imports any lever, and holds no secret: its environment was
scrubbed, and a model that needs one (a cloud model and its key) stays in the parent, which
answers `call` messages for it over the same pipe. Case inputs come over the pipe too (id and
task only), so this process never reads the ruler.

Requests: `prepare` (load the agent's lever files, validate the agent, report the hashes of the
code that will run; `remote` names the models the parent holds; `feature`, the
`levers.feature.FeatureSpec` the levers serve, the planner when absent), `run` (the prepared
agent on tasks; progress lines, then the runs), `prompts` (the agent's own prompt for each task, for
training data) and `describe` (the levers a folder of lever files adds to
the installed ones). Every reply carries `tamper`: the names in the judge's modules (`ruler.*`)
that were rebound in this process since it started, and `sandbox`: what confines it. Rebinding
them here cannot change a score (the judge is elsewhere); it is reported so the experiment is
failed with the reason.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import select
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, TextIO

# The judge's modules a lever could try to patch; imported up front so that the snapshot below
# covers them (importing them later would not count as tampering).
JUDGE_MODULES = (
    "ruler",
    "ruler.cache",
    "ruler.gates",
    "ruler.judges",
    "ruler.loader",
    "ruler.lock",
    "ruler.plan",
    "ruler.quality",
    "ruler.records",
    "ruler.rubric",
)


def is_code(value: object) -> bool:
    """A function, class or method: what patching the judge rebinds (lazily filled caches and
    other data are not compared)."""
    if isinstance(value, staticmethod | classmethod | property):
        return True
    return inspect.isfunction(value) or inspect.isclass(value) or inspect.isbuiltin(value)


def judge_snapshot() -> dict[str, int]:
    """The identity of every function and class in the judge's loaded modules and of their
    classes' methods."""
    names: dict[str, int] = {}
    for module_name, module in list(sys.modules.items()):
        if module_name != "ruler" and not module_name.startswith("ruler."):
            continue
        for attr, value in list(vars(module).items()):
            if not is_code(value):
                continue
            names[f"{module_name}.{attr}"] = id(value)
            if isinstance(value, type) and value.__module__ == module_name:
                for member, inner in list(vars(value).items()):
                    if is_code(inner) and not member.startswith("__"):
                        names[f"{module_name}.{attr}.{member}"] = id(inner)
    return names


def tampered(before: dict[str, int]) -> list[str]:
    """Names of the judge's modules rebound or removed since `before` (the first few)."""
    after = judge_snapshot()
    changed = sorted(name for name, ident in before.items() if after.get(name) != ident)
    return changed[:5]


class Channel:
    """The pipe to the parent: messages out, requests and call answers in."""

    def __init__(self, requests: TextIO, out: TextIO) -> None:
        self.requests = requests
        self.out = out
        self.lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.out.write(json.dumps(message) + "\n")
            self.out.flush()

    def ask(self, call: dict[str, Any]) -> dict[str, Any]:
        """Send a `call` and wait for its `answer` (the main loop is inside a request then, so
        nothing else reads the pipe)."""
        with self.lock:
            self.out.write(json.dumps({"call": call}) + "\n")
            self.out.flush()
            line = self.requests.readline()
        message = json.loads(line) if line.strip() else {}
        if not isinstance(message, dict) or not isinstance(message.get("answer"), dict):
            raise RuntimeError("the parent did not answer a model call")
        return message["answer"]


class RemoteModel:
    """A model the parent holds (a cloud model with its key, or one placed there by a test):
    every batch is asked over the pipe, so no key is ever in this process."""

    def __init__(self, spec: str, channel: Channel) -> None:
        self.model_id = spec
        self.channel = channel

    def generate(self, messages: Any, options: Any) -> Any:
        return self.generate_batch([messages], options)[0]

    def generate_batch(self, batch: Any, options: Any) -> list[Any]:
        from models.base import Completion, ModelError

        answer = self.channel.ask(
            {
                "spec": self.model_id,
                "batch": [[m.model_dump() for m in messages] for messages in batch],
                "options": options.model_dump(mode="json"),
            }
        )
        if "error" in answer:
            raise ModelError(str(answer["error"]))
        return [Completion.model_validate(c) for c in answer["completions"]]


class Worker:
    """The pipeline's state in this process: the prepared agent and where it runs."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.config: Any = None
        self.workspace: Path | None = None
        self.feature: Any = None

    def send(self, message: dict[str, Any]) -> None:
        self.channel.send(message)

    def prepare(self, request: dict[str, Any]) -> dict[str, Any]:
        from levers.config import AgentConfig, validate_agent
        from levers.feature import PLANNER, FeatureSpec, activate
        from levers.registry import check_fits, load_lever_files
        from levers.sources import lever_sources, project_version, weights_id
        from models.registry import use_model

        for spec in request.get("remote") or []:
            use_model(spec, RemoteModel(spec, self.channel))
        agent_dir = request.get("agent_dir")
        source = str(Path(agent_dir) / "agent.toml") if agent_dir else "agent"
        if agent_dir and (Path(agent_dir) / "levers").is_dir():
            load_lever_files(Path(agent_dir) / "levers")
        config = validate_agent(AgentConfig.model_validate(request["config"]), source)
        given = request.get("feature")
        feature = FeatureSpec.model_validate(given) if given else PLANNER
        check_fits([spec.name for spec in config.enabled_levers()], feature, source)
        activate(feature)
        self.config, self.feature = config, feature
        self.workspace = Path(request["workspace"]) if request.get("workspace") else None
        return {
            "config": config.model_dump(mode="json"),
            "sources": lever_sources(config),
            "weights": weights_id(config.model),
            "version": project_version(),
        }

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        from levers.runner import Task, run_agent

        if self.config is None:
            raise RuntimeError("run before prepare")
        cases = [Task.model_validate(c) for c in request["cases"]]
        runs = run_agent(
            self.config,
            cases,
            workspace=self.workspace,
            progress=lambda done, total: self.send({"progress": [done, total]}),
            feature=self.feature,
        )
        return {"runs": [r.model_dump(mode="json") for r in runs]}

    def prompts(self, request: dict[str, Any]) -> dict[str, Any]:
        """The prepared agent's own prompt for each task (its prepare + build_messages stages),
        for the training track's data."""
        from levers.runner import Task
        from levers.training.data import agent_prompter

        if self.config is None:
            raise RuntimeError("prompts before prepare")
        prompt_for = agent_prompter(self.config, self.workspace, self.feature)
        tasks = [Task.model_validate(c) for c in request["cases"]]
        return {"prompts": [prompt_for(t).model_dump(mode="json") for t in tasks]}

    def describe(self, request: dict[str, Any]) -> dict[str, Any]:
        from levers.registry import lever_classes

        folder = request.get("levers_dir")
        infos = lever_classes(Path(folder) if folder and Path(folder).is_dir() else None)
        return {
            "levers": {
                name: {
                    "lever_class": info.lever_class,
                    "summary": info.cls.summary(),
                    "features": list(info.features),
                    "params": info.schema(),
                    "source": inspect.getsourcefile(info.cls) or "",
                }
                for name, info in infos.items()
            }
        }


def reply_error(exc: BaseException) -> dict[str, Any]:
    from models.base import AutoresearchError

    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    if not isinstance(exc, AutoresearchError):
        last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" ({Path(last.filename).name}:{last.lineno})" if last else ""
        message = f"{type(exc).__name__}: {message}{where}"
    return {"error": message, "error_type": type(exc).__name__}


def exit_with_parent(out: TextIO) -> None:
    """Exit the moment the process that reads `out` is gone (killed, or done with this worker):
    a gate's generation runs for minutes, and an orphan would spend them all on a core. Its end
    closing is POLLERR on a pipe (a spawned worker) and POLLHUP on a socket (a forked child); a
    socket shut for writing only, the parent's end of requests, is neither."""
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory channel: no process to outlive
        return
    if not hasattr(select, "poll"):  # Windows: no poll(2)
        return
    poller = select.poll()
    poller.register(fd, 0)  # POLLHUP and POLLERR are reported unasked
    exit_now = os._exit  # bound before any lever is imported: a lever cannot rebind it here

    def watch() -> None:
        while True:
            for _, event in poller.poll():
                if event & select.POLLNVAL:
                    return  # the channel was closed here: the worker is ending anyway
                if event & (select.POLLHUP | select.POLLERR):
                    exit_now(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def serve(requests: TextIO, out: TextIO, sandbox: str = "") -> None:
    """Answer requests until stdin closes (the judge's modules were imported before), and
    never outlive the process that reads the replies."""
    exit_with_parent(out)
    before = judge_snapshot()
    channel = Channel(requests, out)
    worker = Worker(channel)
    handlers = {
        "prepare": worker.prepare,
        "run": worker.run,
        "prompts": worker.prompts,
        "describe": worker.describe,
    }
    while line := requests.readline():
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            reply = handlers[request["op"]](request)
        except Exception as exc:  # noqa: BLE001 (every failure goes back as data)
            reply = reply_error(exc)
        reply["tamper"] = tampered(before)
        reply["sandbox"] = sandbox
        worker.send({"reply": reply})


def main() -> int:
    from levers.sandbox import enter

    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # a lever's print() goes to stderr, never into the channel
    sys.stdout = sys.stderr
    for name in JUDGE_MODULES:  # before the snapshot: importing them later is not tampering
        importlib.import_module(name)
    sandbox = enter()  # before any lever module is imported
    serve(sys.stdin, channel, sandbox)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
