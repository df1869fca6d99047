"""The feature plugin API: `register_feature_hooks`, on the one plugin manager.

A feature is data (docs/features.md); a Python plugin may add, for a named feature, what data
cannot say: an offline check for a rubric dimension, a parser from free text to the feature's
JSON, and a renderer. `ruler.plugins` adds this spec to `models.plugins.pm` (as `levers.registry`
adds the lever specs), so built-ins, the `autoresearch` entry-point group and plugins a test
registers all use it. A workspace's lever files (`workspace:*`, where the researcher writes)
are never asked: lever code must not change how answers are judged.

A complete plugin module:

    from ruler.hookspecs import hookimpl
    from ruler.plugins import FeatureHooks

    def subject_is_short(answer, case):
        words = len(answer["subject"].split())
        return (5.0, f"{words} words") if words <= 8 else (2.0, f"{words} words: too long")

    @hookimpl
    def register_feature_hooks(register):
        register(FeatureHooks(feature="support_triage", checks={"subject": subject_is_short}))
"""

from __future__ import annotations

from models.hookspecs import hookimpl, hookspec

__all__ = ["hookimpl", "hookspec"]


@hookspec
def register_feature_hooks(register):
    """Register a feature's hooks: `register(FeatureHooks(feature=NAME, ...))`.

    `FeatureHooks` (ruler.plugins) holds, all optional:
    - `checks`: {dimension name: check(answer, case) -> (score 1-5, reason)}: the generic judge
      uses it for that dimension instead of the dimension's signal (gold and candidate alike);
    - `parse`: parse(text) -> the answer, or None: tried when the model's text holds no JSON;
      what it returns must still conform to the feature's `[output]` schema;
    - `render`: render(answer) -> one short line for tables and the TUI;
    - `version`: bump it when a check changes (it is part of the judge id, so cached
      verdicts of the old check are not reused).
    """
