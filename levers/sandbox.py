"""The OS sandbox of every process that imports lever code (the trust boundary, DESIGN §10).

Lever code is untrusted: a researcher wrote it, and it is optimised against the ruler. The
process that runs it (the pipeline worker, `levers validate`, describing levers) is started by
`sandboxed_command`, which picks one of:

- **Landlock** (Linux ≥ 5.13, unprivileged): the child restricts itself with `enter()` before it
  imports any lever. A small ctypes binding below; ABI 4 adds "no TCP at all", ABI 6 scopes
  signals and abstract unix sockets to the sandbox.
- **sandbox-exec** (macOS): a generated Seatbelt profile with the same read/write lists.
- **bubblewrap** (`bwrap` on PATH, elsewhere): the read trees bound read-only into an empty root.

The rule is one allow-list (`SandboxPolicy`): the process may read the interpreter, the
packages, the project's code minus the rulers' data, the agent folder, the training pool and the
model weights; it may write only its scratch folder; it never opens a ruler's cases or splits,
the workspace's `runlog/`, `.autoresearch/` (but its adapter store), `.git` or
`autoresearch.toml`, nor another process's `/proc` entries. Landlock rules only allow, so a
hidden folder inside a readable tree is kept out by allowing its siblings instead.

The child's environment is scrubbed to an allow-list (no key or token ever reaches it). With no
sandbox on the platform, lever code that does not ship with the project is refused unless the
user passed `--unsandboxed` (`AUTORESEARCH_UNSANDBOXED=1`); every record made that way says so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from levers.landlock import (
    FILE_RIGHTS,
    READ_DIR,
    READ_FILE,
    READ_RIGHTS,
    TRUNCATE,
    WRITE_FILE,
    WRITE_RIGHTS,
    LandlockError,
    landlock_abi,
    restrict_self,
)
from levers.scratch import owned_folder
from models.base import AutoresearchError

POLICY_ENV = "AUTORESEARCH_SANDBOX"  # the policy (JSON) a child applies to itself
UNSANDBOXED_ENV = "AUTORESEARCH_UNSANDBOXED"  # "1": the user accepted running without one
OFF = "unsandboxed"


class SandboxError(AutoresearchError):
    """No sandbox could be applied, or lever code was refused without one."""


# -- the policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxPolicy:
    """What a sandboxed process may read and write (absolute, resolved paths).

    A path is readable when the deepest entry of `read` ∪ `hidden` that holds it is a `read`
    one (so the training pool, read, can sit inside a ruler folder, hidden). `list_only` trees
    may be listed but no file in them opened (a project root, so that imports can look around).
    """

    read: tuple[str, ...]
    write: tuple[str, ...]
    hidden: tuple[str, ...] = ()
    list_only: tuple[str, ...] = ()
    files_rw: tuple[str, ...] = ()  # single files opened for writing too (/dev/null)

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> SandboxPolicy:
        data = json.loads(text)
        return cls(**{k: tuple(v) for k, v in data.items()})

    def readable(self, path: str | Path) -> bool:
        """Whether the sandbox lets a process read `path` (checked here, without the kernel)."""
        target = Path(os.path.realpath(path))
        best, allowed = -1, False
        for entries, verdict in ((self.read, True), (self.write, True), (self.hidden, False)):
            for entry in entries:
                root = Path(entry)
                if target == root or root in target.parents:
                    depth = len(root.parts)
                    if depth > best or (depth == best and not verdict):
                        best, allowed = depth, verdict
        return allowed

    def landlock_rules(self) -> list[tuple[str, int]]:
        """(path, rights) rules: each read tree, with hidden folders cut out by allowing their
        siblings instead; the write trees; single files."""
        rules: list[tuple[str, int]] = []
        for root in self.read:
            if self.readable(root):
                rules += _allow_tree(Path(root), [Path(h) for h in self.hidden], READ_RIGHTS)
        rules += [(path, WRITE_RIGHTS) for path in self.write]
        rules += [(path, READ_DIR) for path in self.list_only]
        rules += [(path, READ_FILE | WRITE_FILE | TRUNCATE) for path in self.files_rw]
        return rules


def _allow_tree(root: Path, hidden: list[Path], rights: int) -> list[tuple[str, int]]:
    """Rules that allow `root` but no hidden path below it (their siblings, recursively)."""
    inside = [h for h in hidden if root in h.parents]
    if any(h == root for h in hidden):
        return []
    if not inside:
        return [(str(root), rights)]
    rules: list[tuple[str, int]] = []
    try:
        children = sorted(root.iterdir())
    except OSError:
        return []
    for child in children:
        real = Path(os.path.realpath(child))
        if any(real == h or h in real.parents for h in hidden):
            continue  # a hidden path, or a link into one
        if real.is_dir():
            rules += _allow_tree(real, hidden, rights)
        elif real.is_file():
            rules.append((str(real), rights & FILE_RIGHTS))
    return rules


def _existing(paths: list[str | Path | None]) -> tuple[str, ...]:
    found = []
    for path in paths:
        if path and os.path.exists(path):
            found.append(os.path.realpath(path))
    return tuple(dict.fromkeys(found))


SYSTEM_READ = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/sys", "/opt")
SYSTEM_FILES = ("/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/dev/urandom", "/dev/random")
PROJECT_PACKAGES = ("models", "ruler", "levers", "runlog", "orchestrator", "tui")
WORKSPACE_HIDDEN = ("runlog", ".autoresearch", ".git", "autoresearch.toml")


def ruler_data_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Every ruler folder this process knows of: what only the judge may read."""
    from ruler.loader import DATA_DIR

    folders = [DATA_DIR, *(extra or [])]
    return [Path(os.path.realpath(f)) for f in folders if f.exists()]


def pool_dirs(rulers: list[Path]) -> list[Path]:
    """The training pools kept apart inside the ruler folders (what the agent may read)."""
    from ruler.loader import POOL_DIR

    found = []
    for folder in rulers:
        candidates = [folder / POOL_DIR, *folder.glob(f"*/{POOL_DIR}")]
        found += [c for c in candidates if c.is_dir()]
    return found


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def policy_for(
    scratch: Path,
    *,
    agent_dir: Path | None = None,
    workspace: Path | None = None,
    rulers: list[Path] | None = None,
    model_paths: list[Path] | None = None,
    import_path: list[str] | None = None,
) -> SandboxPolicy:
    """The allow-list for a lever process of this agent (see the module docstring);
    `import_path` is the user's PYTHONPATH (this process's installed paths are readable)."""
    from models.backends.local import home as models_home

    project = _project_root()
    ruler_dirs = ruler_data_dirs(rulers)
    interpreter = [sys.prefix, sys.base_prefix, sys.exec_prefix, Path(sys.executable).parent]
    packages = [project / name for name in PROJECT_PACKAGES]
    entries = [*_installed_paths(interpreter), *(import_path or [])]
    on_path = [p for p in entries if p and Path(p).is_dir() and not _holds_project(Path(p))]
    weights = [models_home() / "models", models_home() / "gguf", *(model_paths or [])]
    adapters = [workspace / ".autoresearch" / "adapters"] if workspace else []
    hidden: list[str | Path] = [*ruler_dirs]
    for root in [*on_path, *interpreter]:
        hidden.append(Path(root) / ".git")  # a repository's objects hold what its tree hides
    if workspace is not None:
        hidden += [workspace / name for name in WORKSPACE_HIDDEN]
    read = _existing(
        [
            *SYSTEM_READ,
            *interpreter,
            *on_path,
            *packages,
            *pool_dirs(ruler_dirs),
            *weights,
            *adapters,
            *SYSTEM_FILES,
            *_entry_point_sources(),
            agent_dir,  # the child adds its own /proc entry when it applies the policy
        ]
    )
    hidden_real = _existing(hidden)  # a hidden path that does not exist cuts nothing out
    return SandboxPolicy(
        read=read,
        write=_existing([scratch]),
        hidden=hidden_real,
        list_only=_existing([project]),
        files_rw=_existing(["/dev/null"]),
    )


def _installed_paths(prefixes: list[str | Path]) -> list[str]:
    """This process's import path without its first entry when that is a plain folder (the
    script's or the working directory: a home folder must not become readable); entries that
    `.pth` files add (editable lever packages) stay."""
    roots = [Path(p).resolve() for p in prefixes]
    first = sys.path[:1]
    keep_first = [p for p in first if p and any(r in Path(p).resolve().parents for r in roots)]
    return [*keep_first, *sys.path[1:]]


def _entry_point_sources() -> list[Path]:
    """Where installed lever packages live (an editable install maps its modules to a source
    folder through an import hook, not the import path): each top-level module's file or
    folder, found without importing it."""
    from importlib.metadata import entry_points
    from importlib.util import find_spec

    found: list[Path] = []
    for point in entry_points(group="autoresearch"):
        try:
            spec = find_spec(point.module.split(".")[0])
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        found += [Path(p) for p in spec.submodule_search_locations or []]
        if spec.origin and not spec.submodule_search_locations:
            found.append(Path(spec.origin))
    return found


def _holds_project(path: Path) -> bool:
    """A checkout of this project (its root is listed, its packages allowed one by one)."""
    return (path / "ruler" / "__init__.py").is_file() and (
        path / "levers" / "__init__.py"
    ).is_file()


# -- which sandbox, and starting a child in it ----------------------------------------------


def unsandboxed_allowed() -> bool:
    return os.environ.get(UNSANDBOXED_ENV) == "1"


def allow_unsandboxed() -> None:
    """The user passed `--unsandboxed`: lever code may run without an OS sandbox (recorded)."""
    os.environ[UNSANDBOXED_ENV] = "1"


def sandbox_kind() -> str:
    """The sandbox lever code runs in: `landlock`, `sandbox-exec`, `bubblewrap`, or `none`
    (none on this platform, or the user passed `--unsandboxed`)."""
    if unsandboxed_allowed():
        return "none"
    if landlock_abi() >= 1:
        return "landlock"
    if sys.platform == "darwin" and shutil.which("sandbox-exec"):
        return "sandbox-exec"
    if shutil.which("bwrap"):
        return "bubblewrap"
    return "none"


def describe() -> str:
    """One line for records and status: the sandbox lever code runs in."""
    kind = sandbox_kind()
    if kind == "landlock":
        return f"landlock (ABI {landlock_abi()})"
    if kind == "none":
        return (
            "unsandboxed (--unsandboxed)"
            if unsandboxed_allowed()
            else ("none on this platform: only the project's own levers run")
        )
    return kind


SAFE_ENV = re.compile(  # what a lever process keeps of the environment
    r"(PATH|HOME|LANG|LANGUAGE|TERM|TZ|USER|LOGNAME|SHELL|VIRTUAL_ENV|NO_COLOR|FORCE_COLOR"
    r"|LC_\w+|PYTHON\w*|OMP_\w+|MKL_\w+|OPENBLAS_\w+|KMP_\w+|TOKENIZERS_PARALLELISM"
    r"|HF_HUB_OFFLINE|TRANSFORMERS_OFFLINE|HF_DATASETS_OFFLINE|CUDA_VISIBLE_DEVICES"
    r"|AUTORESEARCH_(HOME|SANDBOX|UNSANDBOXED|LOAD_PLUGINS|WORKER))"
)
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASS|CREDENTIAL|AUTH|COOKIE|SESSION", re.IGNORECASE)


def scrubbed_env(env: dict[str, str]) -> dict[str, str]:
    """The variables a lever process may see: an allow-list, and never one named like a secret."""
    return {k: v for k, v in env.items() if SAFE_ENV.fullmatch(k) and not SECRET_NAME.search(k)}


@dataclass
class Sandboxed:
    """A command ready to start in the sandbox: argv, environment and its scratch folder."""

    argv: list[str]
    env: dict[str, str]
    scratch: Path
    kind: str
    policy: SandboxPolicy | None = field(default=None)

    def cleanup(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def sandboxed_command(
    argv: list[str],
    env: dict[str, str],
    *,
    agent_dir: Path | None = None,
    workspace: Path | None = None,
    rulers: list[Path] | None = None,
    model_paths: list[Path] | None = None,
    third_party: bool = True,
) -> Sandboxed:
    """`argv` (a `python -m …` lever process) wrapped in this platform's sandbox.

    Raises SandboxError when there is none and `third_party` code would run without the user's
    `--unsandboxed`."""
    scratch = owned_folder("sandbox")
    home = str(Path(os.environ.get("AUTORESEARCH_HOME") or default_home()))
    env = {
        **scrubbed_env(env),
        "AUTORESEARCH_HOME": home,
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "JOBLIB_MULTIPROCESSING": "0",  # no /dev/shm semaphores here: serial, without a warning
    }
    kind = sandbox_kind()
    if kind == "none":
        if third_party and not unsandboxed_allowed():
            shutil.rmtree(scratch, ignore_errors=True)
            raise SandboxError(
                "no OS sandbox on this platform (Landlock, sandbox-exec or bubblewrap) and the "
                "agent runs lever code that does not ship with autoresearch; install bubblewrap, "
                "or pass --unsandboxed to run it anyway (records will say so)"
            )
        return Sandboxed(argv, {**env, POLICY_ENV: OFF}, scratch, OFF)
    policy = policy_for(
        scratch,
        agent_dir=agent_dir,
        workspace=workspace,
        rulers=rulers,
        model_paths=model_paths,
        import_path=os.environ.get("PYTHONPATH", "").split(os.pathsep),  # the user's own
    )
    env[POLICY_ENV] = policy.to_json()
    if kind == "sandbox-exec":
        argv = ["sandbox-exec", "-p", seatbelt_profile(policy), *argv]
    elif kind == "bubblewrap":
        argv = [*bwrap_args(policy), *argv]
    return Sandboxed(argv, env, scratch, kind, policy)


def child_env() -> dict[str, str]:
    """The parent's environment with its import path, so the child loads the same code."""
    env = dict(os.environ)
    given = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    paths = [*given, *(p for p in sys.path if p and Path(p).exists())]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def default_home() -> Path:
    from models.backends.local import home

    return home()


# -- in the child ----------------------------------------------------------------------------


def enter() -> str:
    """Apply the sandbox the parent chose (`AUTORESEARCH_SANDBOX`) to this process; call it
    before importing any lever code. Returns what was applied; raises SandboxError when the
    policy cannot be applied (the process must not go on unsandboxed)."""
    raw = os.environ.get(POLICY_ENV)
    if raw is None:
        raise SandboxError(
            f"this lever process was started without a sandbox policy ({POLICY_ENV}); start it "
            "through levers.sandbox.sandboxed_command"
        )
    if raw == OFF:
        return OFF
    policy = SandboxPolicy.from_json(raw)
    if landlock_abi() < 1:
        return sandbox_kind()  # applied from outside (sandbox-exec, bubblewrap)
    own = f"/proc/{os.getpid()}"
    policy = SandboxPolicy(
        read=(*policy.read, own),
        write=policy.write,
        hidden=policy.hidden,
        list_only=policy.list_only,
        files_rw=policy.files_rw,
    )
    try:
        restrict_self(policy.landlock_rules())
    except LandlockError as exc:
        raise SandboxError(str(exc)) from None
    return f"landlock (ABI {landlock_abi()})"


# -- the other platforms ---------------------------------------------------------------------


def seatbelt_profile(policy: SandboxPolicy) -> str:
    """A macOS sandbox-exec profile: deny by default, the same read and write lists."""

    def subpaths(paths: tuple[str, ...]) -> str:
        return " ".join(f'(subpath "{p}")' for p in paths)

    reopened = tuple(p for p in policy.read if _under_hidden(p, policy))  # the pool, adapters
    return "\n".join(
        [
            "(version 1)",
            "(deny default)",
            "(allow process-fork process-exec sysctl-read mach-lookup ipc-posix-shm)",
            "(allow signal (target self))",
            f"(allow file-read* {subpaths(policy.read)})",
            f"(deny file-read* {subpaths(policy.hidden)})",
            f"(allow file-read* {subpaths(reopened)})",
            f"(allow file-read* file-write* {subpaths(policy.write)})",
            '(allow file-read* file-write* (literal "/dev/null"))',
            "(allow file-read-metadata)",
        ]
    )


def _under_hidden(path: str, policy: SandboxPolicy) -> bool:
    return any(Path(h) in Path(path).parents for h in policy.hidden)


def bwrap_args(policy: SandboxPolicy) -> list[str]:
    """bubblewrap: an empty root, every readable rule bound read-only, scratch read-write."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--proc", "/proc"]
    args += ["--dev", "/dev"]
    for path, rights in policy.landlock_rules():
        if rights & WRITE_FILE and os.path.isdir(path):
            args += ["--bind", path, path]
        elif path not in ("/dev/null", "/dev/urandom", "/dev/random") and rights & READ_FILE:
            args += ["--ro-bind", path, path]
    return args


def lever_source_readable(path: Path, agent_dir: Path | None) -> bool:
    """Whether `path`, a lever's source as a lever process reported it, is a Python file that
    process could read itself (its agent's lever file, an installed package's module): a forged
    `__module__` pointing at a ruler's cases or the run log is refused."""
    if path.suffix != ".py" or not path.is_file():
        return False
    workspace = agent_dir.parent if agent_dir is not None else None
    with tempfile.TemporaryDirectory(prefix="autoresearch-check-") as scratch:
        policy = policy_for(Path(scratch), agent_dir=agent_dir, workspace=workspace)
        return policy.readable(path)
