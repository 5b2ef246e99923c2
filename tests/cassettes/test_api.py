"""The public face of `myna.cassettes`: sorted, complete, documented, light to import."""

from __future__ import annotations

import inspect
import subprocess
import sys

import myna.cassettes as cassettes


def test_all_is_sorted_unique_and_exists():
    assert cassettes.__all__ == sorted(cassettes.__all__)
    assert len(set(cassettes.__all__)) == len(cassettes.__all__)
    assert [n for n in cassettes.__all__ if not hasattr(cassettes, n)] == []


def test_public_classes_functions_and_methods_have_docstrings():
    undocumented = []
    for name in cassettes.__all__:
        obj = getattr(cassettes, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not (obj.__doc__ or "").strip():
                undocumented.append(name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr, value in vars(obj).items():
                if (
                    not attr.startswith("_")
                    and inspect.isfunction(value)
                    and not (value.__doc__ or "").strip()
                ):
                    undocumented.append(f"{name}.{attr}")
    assert undocumented == []


def test_importing_cassettes_loads_no_http_or_yaml_library():
    code = (
        "import sys, myna.cassettes; "
        "print(sorted(m for m in ('httpx', 'httpx2', 'yaml', 'vcr', 'respx', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_module_docstring_explains_why_vcrpy_stubs_are_not_used():
    doc = cassettes.__doc__
    assert "Why not vcrpy's httpx stubs" in doc and "one wire chunk" in doc
