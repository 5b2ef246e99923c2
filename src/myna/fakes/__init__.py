"""Fake chat models for tests: scripted, function-driven, and schema-driven.

```python
from myna.fakes import FakeChatModel, fault, tool_call

model = FakeChatModel([tool_call("get_weather", city="Paris"), "Sunny."])
```

All three register as providers: ``init_chat_model("fake:scripted", script=[...])``,
``init_chat_model("fake:function", fn=...)``, ``init_chat_model("fake:schema", seed=0)``;
any other ``fake:<name>`` builds a `FakeChatModel` whose model name is ``<name>``.
"""

from __future__ import annotations

from typing import Any

from ._base import estimate_tokens, estimate_usage
from ._function import FunctionChatModel, FunctionInfo
from ._schema_model import SchemaChatModel
from ._script import FakeCall, Fault, ScriptedToolCall, fault, load_script, tool_call
from ._scripted import FakeChatModel
from ._seed import current_seed, seed_var, seeded
from ._values import example_value

__all__ = [
    "FakeCall",
    "FakeChatModel",
    "Fault",
    "FunctionChatModel",
    "FunctionInfo",
    "SchemaChatModel",
    "ScriptedToolCall",
    "current_seed",
    "estimate_tokens",
    "estimate_usage",
    "example_value",
    "fault",
    "load_script",
    "seed_var",
    "seeded",
    "tool_call",
]


def _fake_factory(*, model: str, **params: Any) -> Any:
    """The ``fake`` provider; `myna.models` registers it by path, ``"myna.fakes:_fake_factory"``."""
    if model == "function":
        fn = params.pop("fn", None)
        if fn is None:
            from ..exceptions import UserError

            raise UserError(
                "init_chat_model('fake:function') needs fn=your_function(messages, info)."
            )
        return FunctionChatModel(fn, **params)
    if model == "schema":
        return SchemaChatModel(**params)
    script = params.pop("script", ())
    if model != "scripted":
        params["model"] = model
    return FakeChatModel(script, **params)


_fake_factory.extra_params = (  # type: ignore[attr-defined]
    FakeChatModel.extra_params
    | FunctionChatModel.extra_params
    | SchemaChatModel.extra_params
    | {"script", "fn"}
)
"""What `init_chat_model("fake:...", configurable_fields="any")` lets config set."""
