"""The adapter store: `.autoresearch/adapters/<sha256>/`, content-addressed by the weights file.

The one owner of stored adapters: the training track installs into it; the adapter lever, the
loop and the CLI resolve references (a full hash or a unique prefix) through it. Each folder
holds the adapter weights (peft: adapter_config.json + adapter_model.safetensors, or an external
adapter such as Apple's `.fmadapter` contents), the training data with its recipe, and
`meta.json` (an `AdapterRecord`). The hash is the sha256 of the weights file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.base import AutoresearchError
from models.files import STATE_DIR, atomic_write_text

AdapterKind = Literal["sft", "orpo"]
ORPO_BUILDERS = ("orpo-style", "orpo-on-policy")  # levers.training.data's pair builders
META_FILE = "meta.json"
PEFT_WEIGHTS = "adapter_model.safetensors"
WEIGHT_FILES: tuple[str, ...] = (PEFT_WEIGHTS, "adapter_weights.bin", "adapter_model.bin")


class AdapterError(AutoresearchError):
    """An adapter reference or folder that the store cannot use."""


class AdapterRecord(BaseModel):
    """`meta.json` of one stored adapter."""

    model_config = ConfigDict(extra="forbid")

    hash: str
    kind: AdapterKind
    base_model: str
    training_config: dict[str, Any] = Field(default_factory=dict)
    data_recipe: dict[str, Any] = Field(default_factory=dict)
    data_hash: str = ""
    loss_curve: list[tuple[int, float]] = Field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    seconds_per_step: float = 0.0
    peak_rss_mb: float = 0.0
    created: str = ""
    origin: Literal["trained", "added"] = "trained"
    request: str | None = None
    source_path: str = ""

    @property
    def short(self) -> str:
        return self.hash[:12]

    @property
    def experiment_class(self) -> str:
        """The class of an experiment that tries it: SFT, or ORPO by its pairs (style or
        on-policy, the seed report's rows); plain ORPO for one added with no data recipe."""
        if self.kind != "orpo":
            return "adapter-sft"
        builder = self.data_recipe.get("builder")
        return f"adapter-{builder}" if builder in ORPO_BUILDERS else "adapter-orpo"


def adapter_store(workspace: Path) -> Path:
    """The folder that holds a workspace's adapters (it may not exist yet)."""
    return Path(workspace) / STATE_DIR / "adapters"


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_file(folder: Path) -> Path | None:
    """The adapter's weights file in a folder, or None."""
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def folder_hash(folder: Path) -> str:
    """sha256 of the weights file; for an unknown layout, of every file (path + content)."""
    weights = weights_file(folder)
    if weights is not None:
        return sha256_file(weights)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def write_record(folder: Path, record: AdapterRecord) -> None:
    atomic_write_text(folder / META_FILE, record.model_dump_json(indent=2) + "\n")


def read_record(folder: Path) -> AdapterRecord:
    meta = folder / META_FILE
    try:
        return AdapterRecord.model_validate_json(meta.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AdapterError(f"{folder} has no {META_FILE}; it is not a stored adapter") from exc
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise AdapterError(f"{meta} is not a valid adapter record: {first}") from exc


def list_adapters(root: Path) -> list[AdapterRecord]:
    """Every stored adapter, oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    records = [
        read_record(folder)
        for folder in root.iterdir()
        if folder.is_dir() and not folder.name.startswith(".") and (folder / META_FILE).is_file()
    ]
    return sorted(records, key=lambda r: (r.created, r.hash))


def resolve_ref(root: Path, ref: str) -> Path:
    """The folder of the adapter whose hash is REF or starts with it (a unique prefix)."""
    root = Path(root)
    ref = ref.strip().lower()
    if not ref:
        raise AdapterError(f'no adapter named: set adapter = "<sha256 or prefix>" ({root})')
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    stored = [n for n in names if not n.startswith(".")]
    matches = [n for n in stored if n.startswith(ref)]
    if not matches:
        hint = "stored: " + ", ".join(n[:12] for n in stored) if stored else "the store is empty"
        raise AdapterError(
            f"no adapter {ref!r} in {root} ({hint}); `autoresearch adapters list` shows them"
        )
    if len(matches) > 1:
        shown = ", ".join(m[:12] for m in matches[:5])
        raise AdapterError(f"adapter prefix {ref!r} is ambiguous ({shown}); give more digits")
    return root / matches[0]


def resolve_adapter(workspace: Path, ref: str) -> Path:
    """The stored adapter folder of a workspace for a full sha256 or a unique prefix of one."""
    return resolve_ref(adapter_store(workspace), ref)


def adapter_meta(folder: Path) -> dict:
    """An adapter folder's meta.json as it is (kind, base model, training config), or {}: an
    adapter given by path need not come from the store."""
    try:
        return json.loads((Path(folder) / META_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def adapter_kind(folder: Path) -> AdapterKind:
    """sft or orpo from meta.json; sft when unknown."""
    return "orpo" if str(adapter_meta(folder).get("kind", "")).lower() == "orpo" else "sft"


def load_record(root: Path, ref: str) -> AdapterRecord:
    """The record of the adapter REF (a full hash or a unique prefix)."""
    return read_record(resolve_ref(root, ref))


def adapter_path(root: Path, ref: str) -> Path:
    """The folder to pass as `GenerationOptions(adapter=...)`."""
    return resolve_ref(root, ref)


def _check_external(path: Path) -> None:
    if not path.is_dir():
        raise AdapterError(f"adapter path {path} is not a folder")
    peft = (path / "adapter_config.json").is_file()
    apple = path.suffix == ".fmadapter" or (path / "metadata.json").is_file()
    if not (peft or apple) or (peft and weights_file(path) is None):
        raise AdapterError(
            f"{path} is neither a peft LoRA folder (adapter_config.json + {PEFT_WEIGHTS}) "
            "nor an Apple .fmadapter folder (metadata.json + adapter_weights.bin)"
        )


def add_adapter(
    root: Path,
    path: Path,
    *,
    kind: AdapterKind,
    base_model: str,
    request: str | None = None,
) -> AdapterRecord:
    """Copy an adapter trained elsewhere (e.g. with Apple's toolkit) into the store."""
    path = Path(path).expanduser().resolve()
    _check_external(path)
    digest = folder_hash(path)
    target = Path(root) / digest
    if (target / META_FILE).is_file():
        return read_record(target)
    partial = Path(root) / f".{digest}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(path, partial)
    record = AdapterRecord(
        hash=digest,
        kind=kind,
        base_model=base_model,
        created=now_iso(),
        origin="added",
        request=request,
        source_path=str(path),
    )
    write_record(partial, record)
    os.replace(partial, target)
    return record


def install_folder(root: Path, folder: Path, record: AdapterRecord) -> Path:
    """Move a finished adapter folder into the store under its hash; return its store path."""
    target = Path(root) / record.hash
    write_record(folder, record)
    if (target / META_FILE).is_file():  # identical weights already stored: keep the first
        shutil.rmtree(folder, ignore_errors=True)
        return target
    Path(root).mkdir(parents=True, exist_ok=True)
    os.replace(folder, target)
    return target


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
