"""Test helpers for apps built on chat models: assertions, call recording, model overrides,
network blocking and the report behind the pytest plugin. None of it needs pytest.

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
"""

from ._assertions import (
    assert_no_tool_calls,
    assert_structured_output,
    assert_tool_call,
    assert_tool_calls,
    assert_usage,
)
from ._calls import ModelCalls, record_calls
from ._diff import diff_messages
from ._network import NetworkBlockedError, block_network
from ._override import override_models
from ._prices import DEFAULT_PRICES, Price, PriceTable
from ._report import CassetteUse, RunReport, TestUsage
from ._stream import StreamSummary, assert_astream, assert_stream

__all__ = [
    "DEFAULT_PRICES",
    "CassetteUse",
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
    "override_models",
    "record_calls",
]
