"""Every public name is exported, listed in sorted `__all__`, and documented."""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = [
    "myna",
    "myna.cassettes",
    "myna.codecs",
    "myna.emulators",
    "myna.evals",
    "myna.evals.evaluators",
    "myna.exceptions",
    "myna.fakes",
    "myna.messages",
    "myna.models",
    "myna.providers",
    "myna.schema",
    "myna.strategies",
    "myna.testing",
    "myna.tools",
]


def _own_doc(obj: object) -> str | None:
    """The object's docstring, not one inherited from a base class."""
    doc = obj.__doc__
    if inspect.isclass(obj):
        for base in obj.__mro__[1:]:
            if doc is not None and doc == base.__doc__:
                return None
    return doc


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_unique(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__)
    assert len(set(module.__all__)) == len(module.__all__)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_name_in_all_exists(name: str) -> None:
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_class_and_function_has_a_docstring(name: str) -> None:
    module = importlib.import_module(name)
    undocumented = []
    for public in module.__all__:
        obj = getattr(module, public)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            doc = _own_doc(obj)
            if not doc or not doc.strip():
                undocumented.append(public)
    assert undocumented == []


@pytest.mark.parametrize("name", PACKAGES)
def test_public_methods_of_exported_classes_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    undocumented = []
    for public in module.__all__:
        cls = getattr(module, public)
        if not inspect.isclass(cls) or issubclass(cls, BaseException):
            continue
        for attr, value in vars(cls).items():
            if attr.startswith("_") or not inspect.isfunction(value):
                continue
            if not (value.__doc__ or "").strip() and not _documented_in_base(cls, attr):
                undocumented.append(f"{public}.{attr}")
    assert undocumented == []


def _documented_in_base(cls: type, attr: str) -> bool:
    for base in cls.__mro__[1:]:
        value = vars(base).get(attr)
        if value is not None and (getattr(value, "__doc__", None) or "").strip():
            return True
    return False


def test_top_level_names_are_the_subpackage_objects() -> None:
    import myna
    import myna.messages
    import myna.models

    assert myna.AIMessage is myna.messages.AIMessage
    assert myna.init_chat_model is myna.models.init_chat_model
    assert set(dir(myna)) >= set(myna.__all__)


def test_unknown_top_level_name_is_an_attribute_error() -> None:
    import myna

    with pytest.raises(AttributeError, match="module 'myna' has no attribute 'nope'"):
        myna.nope  # noqa: B018


def test_the_readme_example_runs() -> None:
    import myna

    model = myna.init_chat_model("fake:scripted", script=["Hello!"])
    assert model.invoke("Hi").text == "Hello!"
