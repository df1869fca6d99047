"""The Claude researcher: a research turn in which Claude reads the run log through tools,
writes and validates levers, tries agents on training-pool tasks and submits one proposal.

- `researcher`: `ClaudeResearcher` and its system prompt, written from the feature;
- `subgraph`: the LangGraph research turn (think, call tools, submit);
- `tools`, `tool_specs`: what Claude can see and do, and the tools' JSON schemas;
- `holdout`: the sealed cases and gold questions that never reach it.
"""

from orchestrator.researchers.claude.researcher import SYSTEM, ClaudeResearcher

__all__ = ["SYSTEM", "ClaudeResearcher"]
