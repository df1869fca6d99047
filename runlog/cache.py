"""Candidate output cache in SQLite under `.autoresearch/cache/`.

Key: sha256 of (the agent's fingerprint, candidate model id, ruler hash, case id). The
fingerprint (`runlog.evaluate.agent_fingerprint`) covers the git tree hash of `agent/`, the
validated agent config, the source of every lever module that runs (built-in, entry-point
package, workspace file: the module files actually loaded, hashed in the pipeline process), the
model's weights id and the project version. So evaluating an unchanged agent again, at any commit
or in any worktree, makes zero model calls, and editing any code that runs misses the cache.

Lever code can write this file (it runs as the same user), but an output is only ever the
lever's own candidate text: a planted row can do no more than the lever could by producing that
text itself, and it is judged like any other.
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
