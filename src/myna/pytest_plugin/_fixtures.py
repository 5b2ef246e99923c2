"""The models behind the pytest plugin's `fake_model` and `schema_model` fixtures.

Kept apart from the plugin so the plugin module imports nothing heavy: this module (and
`myna.fakes`) loads only when a test asks for one of these fixtures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._text import counted, short_repr
from ..exceptions import ScriptExhaustedError, UserError
from ..fakes import FakeChatModel, SchemaChatModel, load_script

__all__ = ["FixtureFakeChatModel", "FixtureSchemaChatModel", "unused_replies"]

_NO_SCRIPT_HINT = (
    " The fake_model fixture has no script: mark the test with "
    "@pytest.mark.myna_script(['reply', ...]) or build a model with fake_model(['reply', ...])."
)


class _Fake(FakeChatModel):
    """A `FakeChatModel` whose exhaustion error explains the fixture."""

    __test__ = False
    _fixture_hint = ""

    def _next_entry(self) -> tuple[int, Any]:
        try:
            return super()._next_entry()
        except ScriptExhaustedError as exc:
            if self._fixture_hint:
                raise ScriptExhaustedError(f"{exc}{self._fixture_hint}") from None
            raise


class FixtureFakeChatModel(_Fake):
    """The `fake_model` fixture: a `FakeChatModel` answering from the test's
    ``@pytest.mark.myna_script([...])``, and a factory of more fakes.

    ```python
    @pytest.mark.myna_script(["Sunny."])
    def test_uses_the_marker(fake_model):
        assert fake_model.invoke("Weather?").text == "Sunny."

    def test_builds_its_own(fake_model):
        model = fake_model(["Hi!"], chunking="chars")
    ```

    Strict: when the test passes, a reply it never requested fails it, unless the marker or
    the factory call says ``assert_all_replies_used=False``.
    """

    __test__ = False

    def __init__(
        self, script: Sequence[Any] | str | Path = (), /, *, strict: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(script, **kwargs)
        self._fixture_hint = "" if self.script else _NO_SCRIPT_HINT
        self.made: list[tuple[FakeChatModel, bool]] = [(self, strict)]
        """Every fake this fixture handed out, with its strictness."""
        self._arm: Any = None
        self._armed = False

    def arm(self) -> None:
        """Make sure the strict unused-replies check runs at teardown (once)."""
        if not self._armed and self._arm is not None:
            self._armed = True
            self._arm()

    def __call__(
        self,
        script: Sequence[Any] | str | Path = (),
        /,
        *,
        assert_all_replies_used: bool = True,
        **kwargs: Any,
    ) -> FakeChatModel:
        """A new `FakeChatModel` answering from `script` (replies, or a YAML script path)."""
        model = _Fake(script, **kwargs)
        self.made.append((model, assert_all_replies_used))
        if assert_all_replies_used:
            self.arm()
        return model


class FixtureSchemaChatModel(SchemaChatModel):
    """The `schema_model` fixture: a `SchemaChatModel(seed=0)`, and a factory of others.

    ```python
    def test_agent_survives_any_valid_args(schema_model):
        plan_trip("Anything", model=schema_model)
        other = schema_model(seed=7)
    ```
    """

    __test__ = False

    def __call__(self, **kwargs: Any) -> SchemaChatModel:
        """A new `SchemaChatModel` (``seed=``, ``chunking=``, ...)."""
        return SchemaChatModel(**kwargs)


def unused_replies(models: list[tuple[FakeChatModel, bool]]) -> str | None:
    """The failure message for strict fakes with replies nobody requested, or None."""
    problems = []
    for i, (model, strict) in enumerate(models):
        if strict and model.remaining:
            which = "fake_model" if i == 0 else f"fake_model(...) #{i}"
            problems.append(
                f"{which}: {model.remaining} of {len(model.script)} scripted replies "
                f"{'was' if model.remaining == 1 else 'were'} never requested "
                f"({counted(len(model.calls), 'call')} made); next unused: "
                f"{short_repr(model.script[len(model.script) - model.remaining], 60)}"
            )
    if not problems:
        return None
    return (
        "myna: " + "; ".join(problems) + ". Remove the extra replies, or pass "
        "assert_all_replies_used=False (to the myna_script marker or the fake_model(...) call)."
    )


def script_from_marker(args: tuple[Any, ...], test_file: Any) -> Any:
    """The script a ``myna_script`` marker gives: a list of replies or a YAML path (relative
    to the working directory or to the test file's folder)."""
    if len(args) != 1:
        raise UserError(
            "@pytest.mark.myna_script takes one argument, the list of replies (or a YAML "
            f"script path): @pytest.mark.myna_script(['Hello!']); got {len(args)} arguments."
        )
    script = args[0]
    if isinstance(script, (str, Path)):
        path = Path(script)
        base = Path(str(test_file)).parent
        if not path.is_absolute() and not path.exists() and (base / path).exists():
            path = base / path
        if not str(path).endswith((".yaml", ".yml")):
            raise UserError(
                f"@pytest.mark.myna_script({script!r}): a string must be the path of a YAML "
                "script; wrap a single reply in a list: myna_script(['Hello!'])."
            )
        return load_script(path)
    return script
