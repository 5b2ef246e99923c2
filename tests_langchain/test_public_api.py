"""`myna.interop.langchain` holds to tests/test_public_api.py's rules (which cannot import it:
the main environment has no langchain-core)."""

from __future__ import annotations

import inspect

import myna.interop.langchain as api


def test_all_is_sorted_unique_and_exists() -> None:
    assert api.__all__ == sorted(set(api.__all__))
    assert [n for n in api.__all__ if not hasattr(api, n)] == []


def test_every_public_name_and_method_is_documented() -> None:
    undocumented = []
    for name in api.__all__:
        obj = getattr(api, name)
        if not (obj.__doc__ or "").strip():
            undocumented.append(name)
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_") or not inspect.isfunction(value):
                    continue
                documented = any(
                    (getattr(vars(base).get(attr), "__doc__", None) or "").strip()
                    for base in obj.__mro__
                )
                if not documented:
                    undocumented.append(f"{name}.{attr}")
    assert undocumented == []
