"""`myna.interop` in the main environment, which has no langchain-core (its tests run in
tests_langchain/, a venv of their own): the package is light and a missing extra is named."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys

import pytest
sys.modules["langchain_core"] = None  # as if langchain-core were not installed
import myna.interop
try:
    import myna.interop.langchain
except ImportError as exc:
    print(exc)
"""


def test_a_missing_langchain_core_names_the_extra() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == (
        "myna.interop.langchain needs langchain-core: pip install 'myna[langchain]'."
    )


def test_the_interop_package_imports_nothing() -> None:
    code = "import sys, myna.interop; print(sorted(m for m in sys.modules if 'lang' in m))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_the_lc_fake_model_fixture_names_the_extra_without_langchain(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "langchain_core", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "myna.interop.langchain", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'myna\[langchain\]'"):
        request.getfixturevalue("lc_fake_model")
