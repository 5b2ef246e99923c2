"""The `lc_fake_model` fixture's model: the `fake_model` fixture seen as a LangChain model.

`myna.interop` is a layer above the plugin, so it is loaded by path, and only when a test
asks for the fixture: the plugin never imports langchain-core otherwise.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["langchain_fake"]

_INTEROP = "myna.interop.langchain"
_CLASS: list[type] = []


def _fixture_class() -> type:
    if not _CLASS:
        interop = importlib.import_module(_INTEROP)

        class FixtureLangChainModel(interop.MynaChatModel):  # type: ignore[name-defined,misc]
            """The `lc_fake_model` fixture: `fake_model` as a LangChain chat model.

            ```python
            @pytest.mark.myna_script(["Hello!"])
            def test_chain(lc_fake_model, fake_model):
                assert (prompt | lc_fake_model).invoke({...}).content == "Hello!"
                assert fake_model.calls[0].messages[-1].text == "..."

            def test_builds_its_own(lc_fake_model):
                llm = lc_fake_model(["Hi", "Bye"])  # another one, checked at teardown too
            ```
            """

            def __call__(self, script: Any = (), /, **kwargs: Any) -> Any:
                """A new LangChain fake answering from `script` (as ``fake_model(script)``)."""
                return interop.to_langchain(self.myna_model(script, **kwargs))

            @property
            def calls(self) -> Any:
                """The calls the fake answered (`myna.fakes.FakeCall`), as ``fake_model.calls``."""
                return self.myna_model.calls

        _CLASS.append(FixtureLangChainModel)
    return _CLASS[0]


def langchain_fake(fake: Any) -> Any:
    """The `lc_fake_model` fixture's value for the test's `fake_model`."""
    return _fixture_class()(myna_model=fake)
