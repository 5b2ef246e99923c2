"""The pytest plugin's `cassette` and `chat_model` fixtures, on top of `myna.cassettes`.

Kept out of the plugin module so cassettes, emulators and providers load only when a test
asks for one of these fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..exceptions import UserError
from ..testing import CassetteUse
from ._session import cassette_path

__all__ = ["setup_cassette", "setup_chat_model"]

Finish = Callable[[bool], None]
"""Teardown: called with whether the test passed (strict checks run only then)."""

_TEST_KEY = "myna-test-key"
"""API key given to replayed or emulated providers when no real key is set."""


def _marker(item: Any, name: str) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    marker = item.get_closest_marker(name)
    return None if marker is None else (marker.args, dict(marker.kwargs))


def _cassette_options(item: Any, state: Any) -> tuple[Path, str, dict[str, Any], bool]:
    """The test's cassette path, record mode, extra Cassette options, and marked-or-not."""
    found = _marker(item, "myna_cassette")
    args, kwargs = found if found is not None else ((), {})
    if len(args) > 1:
        raise UserError(
            "@pytest.mark.myna_cassette takes at most one positional argument, the name: "
            f"myna_cassette('weather.yaml', mode='once'); got {len(args)}."
        )
    name = kwargs.pop("name", None) or (args[0] if args else None)
    mode = kwargs.pop("mode", None) or state.settings.record_mode
    from ..cassettes import MODES

    if mode not in MODES:
        raise UserError(
            f"@pytest.mark.myna_cassette(mode={mode!r}) is not a record mode; use one of "
            f"{', '.join(MODES)}."
        )
    ignore = kwargs.pop("ignore", ())
    if isinstance(ignore, str):
        ignore = [ignore]
    kwargs["ignore"] = list(ignore)
    return cassette_path(item, state.settings, name), mode, kwargs, found is not None


def _start_cassette(item: Any, state: Any) -> tuple[Any, Finish]:
    from ..cassettes import Cassette

    path, mode, options, _ = _cassette_options(item, state)
    existed = path.exists()
    try:
        active = Cassette(path, mode=mode, **options)
    except TypeError as exc:
        raise UserError(
            f"@pytest.mark.myna_cassette got an option Cassette does not take ({exc}); use "
            "name=, mode=, match_on=, ignore=, or Cassette's own (unplayed=, timing=, "
            "allow_playback_repeats=, redact=, ...)."
        ) from None
    active.start()

    def finish(passed: bool) -> None:
        try:
            active.stop(check=passed)
            _raise_unshown_miss(active, state)
        finally:
            recorded = len(active.recorded)
            unplayed = 0 if active.mode == "all" else sum(1 for n in active.play_counts if n == 0)
            state.report.add_cassette(
                CassetteUse(
                    nodeid=item.nodeid,
                    path=_shown(path, item),
                    mode=active.mode,
                    replayed=active.play_count,
                    recorded=recorded,
                    unplayed=unplayed,
                    missing=not existed and not recorded and active.mode == "none",
                )
            )

    return active, finish


def _raise_unshown_miss(active: Any, state: Any) -> None:
    """A failed test whose failure does not show the cassette's miss fails its teardown with
    it: the code under test swallowed the miss (a client's 400, an ``except Exception``)
    and failed later, of the consequence."""
    failure = state.call_failure
    if failure and active.misses:
        miss = active.misses[0]
        if str(miss).splitlines()[0] not in failure:
            raise miss


def _shown(path: Path, item: Any) -> str:
    root = Path(str(item.config.rootpath))
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def setup_cassette(item: Any, state: Any) -> tuple[Any, Finish]:
    """Start the test's cassette; returns it and its teardown."""
    return _start_cassette(item, state)


def _can_record(path: Path, mode: str) -> bool:
    return mode in ("all", "new_episodes") or (mode == "once" and not path.exists())


def _named_model(item: Any, state: Any) -> tuple[str, dict[str, Any], str] | None:
    """The model the test names (marker, else ini key): string, parameters, where it is set."""
    found = _marker(item, "myna_model")
    if found is not None:
        args, kwargs = found
        if len(args) != 1 or not isinstance(args[0], str):
            raise UserError(
                "@pytest.mark.myna_model takes the model string and parameters: "
                f"myna_model('openai:gpt-4.1-mini', temperature=0); got {args!r}."
            )
        return args[0], kwargs, f"@pytest.mark.myna_model({args[0]!r}) of {item.nodeid}"
    if state.settings.model:
        return state.settings.model, {}, f"myna_model = {state.settings.model} (ini)"
    return None


def _model_spec(item: Any, state: Any) -> tuple[str, dict[str, Any], str]:
    named = _named_model(item, state)
    if named is not None:
        return named
    raise UserError(
        f"chat_model in {item.nodeid} must replay or call a real model, but no model is named: "
        "mark the test with @pytest.mark.myna_model('provider:model') or set myna_model = "
        "provider:model in [tool.pytest.ini_options]."
    )


def _real_model(model: str, params: dict[str, Any], where: str, *, live: bool) -> Any:
    """The provider model the test names; a wrong model string or parameter fails the
    test's setup naming the marker (or ini key), whatever the test then runs against."""
    from ..models import init_chat_model

    if not live:
        # replays and emulators accept any key, so no real one is read (or needed)
        params = {"api_key": _TEST_KEY, **params}
    try:
        return init_chat_model(model, **params)
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from None


def _fake(item: Any) -> tuple[Any, bool]:
    from ._fixtures import FixtureFakeChatModel, FixtureSchemaChatModel, script_from_marker

    found = _marker(item, "myna_script")
    if found is None:
        return FixtureSchemaChatModel(seed=0), False
    args, kwargs = found
    strict = kwargs.pop("assert_all_replies_used", True)
    script = script_from_marker(args, item.path)
    return FixtureFakeChatModel(script, strict=strict, **kwargs), True


def _emulator_for(item: Any, model: str) -> Any:
    from ..emulators import emulate
    from ..models import parse_model_string
    from ._fixtures import script_from_marker

    found = _marker(item, "myna_script")
    if found is None:
        raise UserError(
            f"chat_model in {item.nodeid} would record a cassette, but without --myna-live "
            "it records an emulator, which needs replies: add @pytest.mark.myna_script([...]). "
            "To record real traffic instead, run with --myna-live."
        )
    args, kwargs = found
    strict = kwargs.pop("assert_all_replies_used", True)
    script = script_from_marker(args, item.path)
    provider = parse_model_string(model)[0]
    # the options a fake and an emulator share carry over (validate_tool_calls=False, ...)
    shared = {k: v for k, v in kwargs.items() if k in ("chunking", "cycle", "validate_tool_calls")}
    server = emulate(provider, script, assert_all_replies_used=strict, **shared)
    try:
        return server.start()
    except BaseException:
        server.stop(check=False)  # a half-started emulator must not stay patched in
        raise


def setup_chat_model(
    item: Any, state: Any, test_cassette: Callable[[], Any]
) -> tuple[Any, Finish, str]:
    """Build the `chat_model` fixture's model; returns it, its teardown and its kind:
    ``"live"``, ``"record"`` (against an emulator), ``"replay"`` or ``"fake"``.

    `test_cassette` starts (or returns the already started) test's cassette, the `cassette`
    fixture: one cassette per test, shared by both fixtures, so a test asking for both does
    not open its file twice.
    """
    settings = state.settings
    path, mode, _, marked = _cassette_options(item, state)
    if settings.live:
        model, params, where = _model_spec(item, state)
        llm = _real_model(model, params, where, live=True)
        if (marked or settings.record_mode_given) and mode != "none":
            test_cassette()  # records the real traffic
        return llm, (lambda passed: None), "live"
    if not (marked or path.exists()):
        named = _named_model(item, state)
        if named is not None:  # checked though unused: the same body runs replayed or live
            _real_model(*named, live=False)
        fake, _ = _fake(item)
        return fake, (lambda passed: None), "fake"
    model, params, where = _model_spec(item, state)
    llm = _real_model(model, params, where, live=False)
    active = test_cassette()
    server = _emulator_for(item, model) if _can_record(path, active.mode) else None

    def finish(passed: bool) -> None:
        if server is not None:
            server.stop(check=passed)

    return llm, finish, "record" if server is not None else "replay"
