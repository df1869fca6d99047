"""Every language model behind one ChatModel protocol: the bottom layer of autoresearch."""

from models.base import (
    AutoresearchError,
    ChatModel,
    Completion,
    GenerationOptions,
    Message,
    ModelError,
    ModelInfo,
    messages_from,
)
from models.registry import available_models, get_model, parse_spec

__all__ = [
    "AutoresearchError",
    "ChatModel",
    "Completion",
    "GenerationOptions",
    "Message",
    "ModelError",
    "ModelInfo",
    "available_models",
    "get_model",
    "messages_from",
    "parse_spec",
]
