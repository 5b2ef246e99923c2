"""The client environment (``tests_clients/``) runs as one test of the main suite.

Its tests point real client libraries (langchain-openai, -anthropic, -google-genai, -ollama,
pydantic-ai, litellm) at myna's emulators; those libraries stay out of the main environment
(litellm alone is about 250 MB and seconds to import), so ``tests_clients/run`` builds a venv
of its own (``.venv/clients``, reused; ``MYNA_CLIENTS_VENV`` moves it) and runs them there.
Run here, the README's test command covers them too. Leave it out locally with
``-k 'not clients_environment'``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_clients_environment_passes() -> None:
    run = subprocess.run(
        ["bash", str(ROOT / "tests_clients" / "run"), "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env=_environ(),
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"tests_clients/run failed ({run.returncode}):\n{output[-6000:]}"
    summary = re.search(r"(\d+) passed", output)
    assert summary, output[-3000:]
    # each client x plain, stream, tool call, streamed tool call, 429, 500, a script error x
    # sync, async x emulate(), serve(): 4 LangChain packages (112), litellm's 4 routes (112),
    # pydantic-ai's 3 models (84), and litellm on aiohttp and Ollama's /api/show (9)
    assert int(summary.group(1)) >= 317, output[-3000:]
    assert not re.search(r"\d+ (failed|errors?)\b", output), output[-3000:]


def _environ() -> dict[str, str]:
    # the inner run is a separate pytest: none of this run's settings (xdist worker ids,
    # the plugin's record mode) may leak into it
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "MYNA_RECORD_MODE"))
    }
