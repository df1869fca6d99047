"""Verdict cache in SQLite: re-judging identical output is free and deterministic.

Key: sha256 of (judge id, ruler lock hash, mode, case id, canonical candidate text).

Every row is signed (HMAC-SHA256) with a key kept next to the cache (`verdicts.key`, mode 0600,
in the workspace's `.autoresearch/`, which no lever process can open): only a judging process
writes rows that verify. A row whose signature does not verify is *refused*, and the gate that
met it fails naming the reason; a row from before signatures is a miss (judged again).

`VerdictCache.pinned()` is the view an experiment judges through: taken once, before its first
gate's pipeline runs, it serves only rows that were already there, byte for byte, at that
moment. A row that appeared or changed since is not served; the text is judged again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from models.base import AutoresearchError
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


def signing_key(path: Path) -> bytes:
    """The cache's signing key, made on first use (readable by this user only)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


class ForgedVerdict(AutoresearchError):
    """A cached verdict whose signature does not verify: not written by a judging process."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"verdict cache row {key[:12]} is not signed by a judging process (lever code or a "
            "hand edit wrote it); its result is not trusted"
        )
        self.key = key


class VerdictCache(SqliteCache):
    table = "verdicts"

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        with self._lock, self._connect() as db:
            columns = {row[1] for row in db.execute(f"PRAGMA table_info({self.table})")}
            if "mac" not in columns:
                db.execute(f"ALTER TABLE {self.table} ADD COLUMN mac TEXT")
        try:
            self._key = signing_key(self.path.with_name(self.path.stem + ".key"))
        except FileExistsError:  # another process made it between our read and create
            self._key = signing_key(self.path.with_name(self.path.stem + ".key"))

    def _mac(self, key: str, value: str) -> str:
        return hmac.new(self._key, f"{key}\0{value}".encode(), hashlib.sha256).hexdigest()

    def lookup(self, key: str) -> tuple[str, str] | None:
        """(value, mac) of a row, None without one."""
        with self._lock, self._connect() as db:
            row = db.execute(
                f"SELECT value, mac FROM {self.table} WHERE key = ?", (key,)
            ).fetchone()
        return (row[0], row[1] or "") if row else None

    def verified(self, key: str, value: str, mac: str) -> Verdict | None:
        """The verdict of a signed row; None for an unsigned (old) row; ForgedVerdict when the
        signature does not verify."""
        if not mac:
            return None
        if not hmac.compare_digest(mac, self._mac(key, value)):
            raise ForgedVerdict(key)
        return Verdict.model_validate_json(value)

    def get(self, key: str) -> Verdict | None:
        row = self.lookup(key)
        return self.verified(key, *row) if row else None

    def put(self, key: str, verdict: Verdict) -> None:
        value = verdict.model_dump_json()
        with self._lock, self._connect() as db:
            db.execute(
                f"INSERT OR REPLACE INTO {self.table} (key, value, mac) VALUES (?, ?, ?)",
                (key, value, self._mac(key, value)),
            )

    def pinned(self) -> PinnedVerdicts:
        """A view serving only the rows present now (see the module docstring)."""
        return PinnedVerdicts(self, self.rows())


class PinnedVerdicts:
    """A verdict cache as it was at one moment: later rows are misses; forged rows are refused
    (`refused` names their keys); writes go through."""

    def __init__(self, cache: VerdictCache, snapshot: dict[str, bytes]) -> None:
        self.cache = cache
        self.snapshot = snapshot
        self.refused: list[str] = []

    def get(self, key: str) -> Verdict | None:
        row = self.cache.lookup(key)
        if row is None:
            return None
        try:
            verdict = self.cache.verified(key, *row)
        except ForgedVerdict:
            self.refused.append(key)
            return None
        if self.snapshot.get(key) != hashlib.sha256(row[0].encode()).digest():
            return None  # written since the experiment began: judged again
        return verdict

    def put(self, key: str, verdict: Verdict) -> None:
        self.cache.put(key, verdict)
