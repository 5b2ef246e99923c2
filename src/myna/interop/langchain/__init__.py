"""LangChain interop (extra ``myna[langchain]``): myna models as LangChain chat models, and back.

```python
from myna.fakes import FakeChatModel, tool_call
from myna.interop.langchain import from_langchain, to_langchain

llm = to_langchain(FakeChatModel([tool_call("get_weather", city="Paris"), "Sunny."]))
# llm is a langchain_core BaseChatModel: bind_tools, with_structured_output, agents, ...

model = from_langchain(llm)  # any LangChain chat model as a myna ChatModel
```

- `to_langchain(model)` / `MynaChatModel`: a myna `ChatModel` (fakes, providers,
  emulator-backed or cassette-replayed) as a langchain-core ``BaseChatModel``.
- `from_langchain(lc_model)` / `LangChainChatModel`: a LangChain chat model as a myna
  `ChatModel`, so `model_calls`, `myna.testing` assertions and `myna.evals` work on it.
- `message_to_langchain`, `message_from_langchain` (and the list and chunk forms):
  message conversion both ways, lossless for tool calls, usage and content blocks.

This module imports langchain-core; `import myna` and the pytest plugin never do.
"""

from __future__ import annotations

try:
    import langchain_core
except ImportError as exc:  # pragma: no cover - exercised in the main test suite
    raise ImportError(
        "myna.interop.langchain needs langchain-core: pip install 'myna[langchain]'."
    ) from exc

from ._convert import (
    chunk_from_langchain,
    chunk_to_langchain,
    message_from_langchain,
    message_to_langchain,
    messages_from_langchain,
    messages_to_langchain,
)
from ._from import LangChainChatModel, from_langchain
from ._override import override_init_chat_model
from ._to import MynaChatModel, to_langchain

__all__ = [
    "LangChainChatModel",
    "MynaChatModel",
    "chunk_from_langchain",
    "chunk_to_langchain",
    "from_langchain",
    "message_from_langchain",
    "message_to_langchain",
    "messages_from_langchain",
    "messages_to_langchain",
    "override_init_chat_model",
    "to_langchain",
]
