"""The LangChain environment (``tests_langchain/``) runs as one test of the main suite.

Its tests need langchain-core, langchain, langgraph and langchain-tests, which stay out of
the main environment (langsmith autoloads a pytest plugin costing about a second per start,
and langchain-tests pins pytest and vcrpy), so ``tests_langchain/run`` builds a venv of its own
(``.venv/langchain``, reused; ``MYNA_LANGCHAIN_VENV`` moves it) and runs them there. Run here,
the README's test command covers them too: ``.ci/run`` stays exactly that command. Leave it
out locally with ``-k 'not langchain_environment'``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_langchain_environment_passes() -> None:
    run = subprocess.run(
        ["bash", str(ROOT / "tests_langchain" / "run"), "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env=_environ(),
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"tests_langchain/run failed ({run.returncode}):\n{output[-6000:]}"
    summary = re.search(r"(\d+) passed(?:, (\d+) skipped)?", output)
    assert summary, output[-3000:]
    passed = int(summary.group(1))
    # langchain-tests' unit and integration suites over to_langchain (59 + 1 skipped,
    # test_serdes), over a round trip through from_langchain, and myna's own LangChain tests
    assert passed >= 190, output[-3000:]
    assert "failed" not in summary.group(0)


def _environ() -> dict[str, str]:
    # the inner run is a separate pytest: none of this run's settings (xdist worker ids,
    # the plugin's record mode) may leak into it
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "MYNA_RECORD_MODE"))
    }
