"""The boundary around a gate: what lever code must not change while the pipeline runs (the
ruler's files, the judge's source, the file of every module a judge runs), taken before a gate
and compared after it. The judge loads everything it uses first."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from models.base import AutoresearchError
from ruler.loader import Ruler
from ruler.lock import RulerLockError, changed_code, code_hash, loaded_code


class GateIntegrityError(AutoresearchError):
    """The ruler or the judge's code changed while a gate ran: its result is not trusted."""


@dataclass
class Boundary:
    """What lever code must not change, taken before a gate and compared after it: the ruler's
    files, the judge's own source, and the file of every module this process has loaded (the
    judge fully loaded first, lazy imports included)."""

    ruler: Ruler
    ruler_hash: str
    judge_code: str
    loaded: dict[str, tuple[int, int, int]]
    taken_ns: int

    @classmethod
    def take(cls, ruler: Ruler, judge: Any = None) -> Boundary:
        prepare = getattr(judge, "prepare", None)
        if callable(prepare):
            prepare()  # the judge loads everything it will use before any lever runs
        return cls(ruler, ruler.verify(), code_hash(), loaded_code(), time.time_ns())

    def check(self, gate: str) -> None:
        """Raise GateIntegrityError naming what changed while `gate` ran."""
        try:
            now = self.ruler.verify()
        except RulerLockError as exc:
            raise GateIntegrityError(
                f"gate {gate}: the ruler changed while it ran: {exc}"
            ) from None
        if now != self.ruler_hash:
            raise GateIntegrityError(
                f"gate {gate}: the ruler was re-frozen while it ran "
                f"({self.ruler_hash[:12]} -> {now[:12]}); its result is not trusted"
            )
        if code_hash() != self.judge_code:
            raise GateIntegrityError(
                f"gate {gate}: the judge's source (the ruler package) changed on disk while it "
                "ran; its result is not trusted"
            )
        if changed := changed_code(self.loaded, self.taken_ns):
            raise GateIntegrityError(
                f"gate {gate}: code the judge runs changed on disk while it ran "
                f"({', '.join(changed)}); its result is not trusted"
            )
