"""Test helpers for apps built on chat models: assertions, call recording, model overrides,
network blocking, and the report and price table behind the pytest plugin. None of it needs
pytest; the plugin's own parts (fixtures, session, cassette set-up) live in
`myna.pytest_plugin`.

```python
from myna.fakes import FakeChatModel, tool_call
from myna.testing import assert_tool_call, override_models, record_calls

fake = FakeChatModel([tool_call("get_weather", city="Paris")])
with override_models(fake), record_calls() as calls:
    reply = my_app.ask("Weather in Paris?")        # init_chat_model inside returns `fake`
assert_tool_call(reply, "get_weather", {"city": "Paris"})
assert calls.count == 1
```

The pytest plugin (``myna.pytest_plugin``, loaded automatically) wraps these in fixtures.
Names load on first use, so the plugin's start-up imports only what it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "DEFAULT_PRICES": "._prices",
    "CassetteUse": "._report",
    "ModelCalls": "._calls",
    "NetworkBlockedError": "._network",
    "Price": "._prices",
    "PriceTable": "._prices",
    "RunReport": "._report",
    "StreamSummary": "._stream",
    "TestUsage": "._report",
    "assert_astream": "._stream",
    "assert_no_tool_calls": "._assertions",
    "assert_stream": "._stream",
    "assert_structured_output": "._assertions",
    "assert_tool_call": "._assertions",
    "assert_tool_calls": "._assertions",
    "assert_usage": "._assertions",
    "block_network": "._network",
    "diff_messages": "._diff",
    "explain_comparison": "._diff",
    "override_models": "._override",
    "record_calls": "._calls",
}

__all__ = [
    "CassetteUse",
    "DEFAULT_PRICES",
    "ModelCalls",
    "NetworkBlockedError",
    "Price",
    "PriceTable",
    "RunReport",
    "StreamSummary",
    "TestUsage",
    "assert_astream",
    "assert_no_tool_calls",
    "assert_stream",
    "assert_structured_output",
    "assert_tool_call",
    "assert_tool_calls",
    "assert_usage",
    "block_network",
    "diff_messages",
    "explain_comparison",
    "override_models",
    "record_calls",
]

if TYPE_CHECKING:
    from ._assertions import (
        assert_no_tool_calls,
        assert_structured_output,
        assert_tool_call,
        assert_tool_calls,
        assert_usage,
    )
    from ._calls import ModelCalls, record_calls
    from ._diff import diff_messages, explain_comparison
    from ._network import NetworkBlockedError, block_network
    from ._override import override_models
    from ._prices import DEFAULT_PRICES, Price, PriceTable
    from ._report import CassetteUse, RunReport, TestUsage
    from ._stream import StreamSummary, assert_astream, assert_stream


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'myna.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
