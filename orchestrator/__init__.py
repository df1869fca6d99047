"""The researcher: LangGraph loop, researchers, control channel, and the command line."""
