"""The README's LangChain section runs (its blocks are ```py, which the main suite's
tests/test_readme.py leaves alone: the main environment has no langchain-core)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def section_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## LangChain\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```py\n(.*?)```", section, flags=re.S)


def test_the_langchain_section_runs(pytester) -> None:
    blocks = section_blocks()
    assert len(blocks) == 2
    namespace: dict = {"__name__": "readme"}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    # the pytest block, with the first block's imports, as a test file
    header = "from myna.fakes import FakeChatModel\n"
    pytester.makepyfile(header + blocks[1])
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest("-p", "no:langsmith_plugin", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
