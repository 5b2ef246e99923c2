"""myna: one chat-model interface over many providers, and a test harness around it."""

from .exceptions import *  # noqa: F403
from .messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

__version__ = "0.1.0"
