"""The litellm tests of the main suite (``tests/sdk/test_litellm_*.py``: acompletion on aiohttp
in a cassette and under `block_network`, the Ollama route's ``/api/show``) skip there, where
litellm is not installed; they run here, in the environment that has it.

They are imported, not copied, so that each stays in one place; their fixtures are their own
(the main suite's conftest needs its dev extra, which this environment does not install).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "sdk"))

from test_litellm_aiohttp import *  # noqa: F403
from test_litellm_ollama import *  # noqa: F403
