"""Provider APIs emulated on the wire, answering from the same scripts as `FakeChatModel`.

```python
from myna.emulators import emulate

with emulate("openai", script=["Hello!"]) as server:
    ...  # any httpx / httpx2 client (our providers, the official SDKs) talks to it
```

For subprocesses and non-Python clients, `serve()` (or ``myna serve``) runs the same
emulator as a real HTTP server on loopback.
"""

from ._app import (
    SCRIPT_ERROR_HEADER,
    EmulatedRequest,
    EmulatedResponse,
    EmulatorApp,
    RequestParams,
    protocol_for_path,
    protocols_for_provider,
)
from ._intercept import PROVIDER_HOSTS, Emulator, Interception, emulate
from ._loopback import LoopbackServer, client_guide, serve

__all__ = [
    "EmulatedRequest",
    "EmulatedResponse",
    "Emulator",
    "EmulatorApp",
    "Interception",
    "LoopbackServer",
    "PROVIDER_HOSTS",
    "RequestParams",
    "SCRIPT_ERROR_HEADER",
    "client_guide",
    "emulate",
    "protocol_for_path",
    "protocols_for_provider",
    "serve",
]
