"""Candidate output cache in SQLite under `.autoresearch/cache/`.

Key: sha256 of (git tree hash of `agent/`, candidate model id, ruler hash, case id). The tree
hash covers agent.toml and every lever file, so evaluating an unchanged agent again, at any
commit or in any worktree, makes zero model calls. Built-in levers live outside the tree: after
changing their code, clear the cache (`rm -r .autoresearch/cache`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def output_key(tree_hash: str, model_id: str, ruler_hash: str, case_id: str) -> str:
    payload = json.dumps([tree_hash, model_id, ruler_hash, case_id])
    return hashlib.sha256(payload.encode()).hexdigest()


class OutputCache:
    """Candidate runs (CandidateRun as JSON dicts) by `output_key`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS outputs (key TEXT PRIMARY KEY, run TEXT NOT NULL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock, self._connect() as db:
            row = db.execute("SELECT run FROM outputs WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, run: dict[str, Any]) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO outputs (key, run) VALUES (?, ?)", (key, json.dumps(run))
            )

    def __len__(self) -> int:
        with self._lock, self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM outputs").fetchone()[0]
