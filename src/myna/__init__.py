"""myna: one chat-model interface over many providers, and a test harness around it.

```python
import myna

model = myna.init_chat_model("fake:scripted", script=["Hello!"])
print(model.invoke("Hi").text)
```
"""

from .exceptions import *  # noqa: F403
from .exceptions import __all__ as _exceptions_all
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

__version__ = "0.1.0"

__all__ = sorted(
    [
        *_exceptions_all,
        "AIMessage",
        "AIMessageChunk",
        "BaseMessage",
        "CallbackHandler",
        "ChatModel",
        "HumanMessage",
        "InMemoryRateLimiter",
        "SystemMessage",
        "ToolMessage",
        "init_chat_model",
        "register_provider",
    ]
)
