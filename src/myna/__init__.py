"""myna: one chat-model interface over many providers, and a test harness around it.

```python
import myna

model = myna.init_chat_model("fake:scripted", script=["Hello!"])
print(model.invoke("Hi").text)
```

Names are loaded on first use, so ``import myna`` stays cheap; the subpackages
(`myna.messages`, `myna.models`, `myna.fakes`, `myna.providers`, `myna.emulators`,
`myna.cassettes`, `myna.testing`) can be imported directly too.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .exceptions import *
from .exceptions import __all__ as _exceptions_all

_LAZY = {
    "AIMessage": "myna.messages",
    "AIMessageChunk": "myna.messages",
    "BaseMessage": "myna.messages",
    "HumanMessage": "myna.messages",
    "SystemMessage": "myna.messages",
    "ToolMessage": "myna.messages",
    "CallbackHandler": "myna.models",
    "ChatModel": "myna.models",
    "InMemoryRateLimiter": "myna.models",
    "init_chat_model": "myna.models",
    "register_provider": "myna.models",
    "tool": "myna.tools",
}

__all__ = sorted([*_exceptions_all, *_LAZY])

if TYPE_CHECKING:
    from .messages import (
        AIMessage,
        AIMessageChunk,
        BaseMessage,
        HumanMessage,
        SystemMessage,
        ToolMessage,
    )
    from .models import (
        CallbackHandler,
        ChatModel,
        InMemoryRateLimiter,
        init_chat_model,
        register_provider,
    )
    from .tools import tool


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'myna' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
