"""The separate test environments run as one test each of the main suite.

``tests_langchain/`` needs langchain-core, langchain, langgraph and langchain-tests (langsmith
autoloads a pytest plugin costing about a second per start; langchain-tests pins pytest and
vcrpy); ``tests_clients/`` points real client libraries (langchain-openai, -anthropic,
-google-genai, -ollama, pydantic-ai, litellm: litellm alone is about 250 MB and seconds to
import) at myna's emulators. Both stay out of the main environment: each ``run`` script builds
a venv of its own (``.venv/langchain``, ``.venv/clients``, reused; ``MYNA_LANGCHAIN_VENV`` /
``MYNA_CLIENTS_VENV`` move them) and runs its tests there. Run here, the README's test command
covers them too: ``.ci/run`` stays exactly that command. Leave them out locally with
``-k 'not langchain_environment and not clients_environment'``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_environment(folder: str) -> str:
    """Run ``<folder>/run``; its output, after asserting that it exited 0."""
    run = subprocess.run(
        ["bash", str(ROOT / folder / "run"), "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env=_environ(),
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"{folder}/run failed ({run.returncode}):\n{output[-6000:]}"
    return output


def test_the_langchain_environment_passes() -> None:
    output = run_environment("tests_langchain")
    summary = re.search(r"(\d+) passed(?:, (\d+) skipped)?", output)
    assert summary, output[-3000:]
    passed = int(summary.group(1))
    # langchain-tests' unit and integration suites over to_langchain (59 + 1 skipped,
    # test_serdes), over a round trip through from_langchain, and myna's own LangChain tests
    assert passed >= 190, output[-3000:]
    assert "failed" not in summary.group(0)


def test_the_clients_environment_passes() -> None:
    output = run_environment("tests_clients")
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
