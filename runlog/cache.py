"""Candidate output cache in SQLite under `.autoresearch/cache/`.

Key: sha256 of (git tree hash of `agent/`, candidate model id, ruler hash, case id). The tree
hash covers agent.toml and every lever file, so evaluating an unchanged agent again, at any
commit or in any worktree, makes zero model calls. Built-in levers live outside the tree: after
changing their code, clear the cache (`rm -r .autoresearch/cache`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ruler.cache import SqliteCache


def output_key(tree_hash: str, model_id: str, ruler_hash: str, case_id: str) -> str:
    payload = json.dumps([tree_hash, model_id, ruler_hash, case_id])
    return hashlib.sha256(payload.encode()).hexdigest()


class OutputCache(SqliteCache):
    """Candidate runs (CandidateRun as JSON dicts) by `output_key`."""

    table = "outputs"

    def get(self, key: str) -> dict[str, Any] | None:
        text = self.get_text(key)
        return json.loads(text) if text is not None else None

    def put(self, key: str, run: dict[str, Any]) -> None:
        self.put_text(key, json.dumps(run))
