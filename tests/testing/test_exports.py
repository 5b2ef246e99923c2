"""myna.testing's façade: every name exported, sorted, documented, and loaded lazily."""

from __future__ import annotations

import inspect
import subprocess
import sys

import myna.testing


def test_all_is_sorted_and_every_name_exists_with_a_docstring() -> None:
    assert myna.testing.__all__ == sorted(myna.testing.__all__)
    for name in myna.testing.__all__:
        obj = getattr(myna.testing, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert (obj.__doc__ or "").strip(), name
    assert set(dir(myna.testing)) >= set(myna.testing.__all__)


def test_unknown_name() -> None:
    try:
        myna.testing.assert_everything  # noqa: B018
    except AttributeError as exc:
        assert str(exc) == "module 'myna.testing' has no attribute 'assert_everything'"
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_facade_is_light() -> None:
    code = (
        "import sys, myna.testing; "
        "heavy = {'pytest', 'myna.models', 'myna.messages', 'pydantic', 'httpx'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
