"""`import myna` (and the core subpackages) must not load the test-harness dependencies."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["pytest", "vcr", "respx", "hypothesis", "httpx", "jsonschema"]

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded_after(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import myna",
        "import myna.fakes",  # also imports myna.messages and myna.models
        # using a fake model end to end stays light too
        "import myna\n"
        "m = myna.init_chat_model('fake:scripted', script=['hi there'] * 3)\n"
        "m.invoke('x'); list(m.stream('x'))",
    ],
    ids=["import-myna", "fakes-messages-models", "fake-model-use"],
)
def test_no_heavy_imports(code: str) -> None:
    assert loaded_after(code) == []


def test_the_probe_would_notice_a_heavy_import() -> None:
    assert loaded_after("import jsonschema") == ["jsonschema"]
