"""The chat-model interface: `ChatModel`, binding, structured output, `init_chat_model`.

```python
from myna.models import init_chat_model

model = init_chat_model("fake:scripted", script=["Hello!"])
assert model.invoke("Hi").text == "Hello!"
```
"""

from ._base import ChatModel, ChatRequest
from ._bound import BoundChatModel
from ._config import (
    CallbackHandler,
    CallRecord,
    RunConfig,
    RunInfo,
    add_call_observer,
    remove_call_observer,
)
from ._rate_limiter import BaseRateLimiter, InMemoryRateLimiter
from ._registry import (
    ConfigurableChatModel,
    add_model_override,
    infer_provider,
    init_chat_model,
    known_providers,
    parse_model_string,
    register_provider,
    remove_model_override,
)
from ._retry import RetryPolicy
from ._runnable import Runnable
from ._structured import StructuredOutputRunnable

__all__ = [
    "BaseRateLimiter",
    "BoundChatModel",
    "CallRecord",
    "CallbackHandler",
    "ChatModel",
    "ChatRequest",
    "ConfigurableChatModel",
    "InMemoryRateLimiter",
    "RetryPolicy",
    "RunConfig",
    "RunInfo",
    "Runnable",
    "StructuredOutputRunnable",
    "add_call_observer",
    "add_model_override",
    "infer_provider",
    "init_chat_model",
    "known_providers",
    "parse_model_string",
    "register_provider",
    "remove_call_observer",
    "remove_model_override",
]
