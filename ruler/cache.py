"""Verdict cache in SQLite: re-judging identical output is free and deterministic.

Key: sha256 of (judge id, ruler lock hash, mode, case id, canonical candidate text).

`VerdictCache.pinned()` is the view a gate judges through: taken before the agent's pipeline
runs, it serves only rows that were already there, byte for byte, at that moment. A row that
appeared or changed while the pipeline ran (lever code writing a high score for its own output)
is not served; the text is judged again and the row overwritten.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ruler.plan import parse_plan, render_plan
from ruler.records import JudgeMode, Verdict


def canonical_text(candidate_text: str) -> str:
    """What a judge actually reads: the rendered parsed plan, or the raw text if unparseable."""
    parsed = parse_plan(candidate_text)
    return render_plan(parsed.plan) if parsed.usable else (candidate_text or "").strip()


def verdict_key(judge_id: str, ruler_hash: str, mode: JudgeMode, case_id: str, text: str) -> str:
    payload = json.dumps([judge_id, ruler_hash, mode, case_id, canonical_text(text)])
    return hashlib.sha256(payload.encode()).hexdigest()


class SqliteCache:
    """A thread-safe text cache in one SQLite table: key (a sha256) → value (JSON text)."""

    table = "entries"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            columns = "key TEXT PRIMARY KEY, value TEXT NOT NULL"
            db.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def get_text(self, key: str) -> str | None:
        with self._lock, self._connect() as db:
            row = db.execute(f"SELECT value FROM {self.table} WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put_text(self, key: str, value: str) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                f"INSERT OR REPLACE INTO {self.table} (key, value) VALUES (?, ?)", (key, value)
            )

    def rows(self) -> dict[str, bytes]:
        """Key → sha256 of the value, for every row (what `pinned` compares against)."""
        with self._lock, self._connect() as db:
            found = db.execute(f"SELECT key, value FROM {self.table}").fetchall()
        return {key: hashlib.sha256(value.encode()).digest() for key, value in found}

    def __len__(self) -> int:
        with self._lock, self._connect() as db:
            return db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]


class VerdictCache(SqliteCache):
    table = "verdicts"

    def get(self, key: str) -> Verdict | None:
        text = self.get_text(key)
        return Verdict.model_validate_json(text) if text is not None else None

    def put(self, key: str, verdict: Verdict) -> None:
        self.put_text(key, verdict.model_dump_json())

    def pinned(self) -> PinnedVerdicts:
        """A view serving only the rows present now (see the module docstring)."""
        return PinnedVerdicts(self, self.rows())


class PinnedVerdicts:
    """A verdict cache as it was at one moment: later rows are misses; writes go through."""

    def __init__(self, cache: VerdictCache, snapshot: dict[str, bytes]) -> None:
        self.cache = cache
        self.snapshot = snapshot
        self.refused: list[str] = []

    def get(self, key: str) -> Verdict | None:
        text = self.cache.get_text(key)
        if text is None:
            return None
        if self.snapshot.get(key) != hashlib.sha256(text.encode()).digest():
            self.refused.append(key)
            return None
        return Verdict.model_validate_json(text)

    def put(self, key: str, verdict: Verdict) -> None:
        self.cache.put(key, verdict)
