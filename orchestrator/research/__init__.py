"""The Claude researcher's research turn: tools over the workspace, the sealed holdout, and
the LangGraph subgraph in which Claude thinks, calls tools and finally submits."""
