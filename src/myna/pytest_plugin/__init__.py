"""myna's pytest plugin: fixtures, markers, options and a report. Loaded by the ``pytest11``
entry point; it imports the rest of myna only inside hooks and fixtures.

Options (``pytest --help``, group "myna"; each also an ini key with ``_`` for ``-``):

- ``--myna-record-mode={none,once,new_episodes,all}`` for cassettes (default ``once``, or
  ``none`` when ``CI`` is set; ``MYNA_RECORD_MODE`` overrides both). A mode chosen by option
  or ini key is also the default of cassettes the plugin does not open (``cassette(path)``
  in a test, ``myna.evals`` judges): the plugin sets ``MYNA_RECORD_MODE`` for the run.
- ``--myna-cassette-dir=DIR`` (default: ``cassettes/`` beside each test module).
- ``--myna-block-network[={on,off,auto}]`` (auto: on when ``CI`` is set).
- ``--myna-live``: real provider calls (opens the network; `chat_model` goes live).
- ``--myna-report=FILE.json``, ``--myna-report-top=N``.
- ``--myna-eval-report=DIR``, ``--myna-eval-baseline=FILE``, ``--myna-eval-repeat=N`` for
  eval tests (`myna.evals.cases`); their side lives in `myna.evals._pytest`, imported only
  when a test module uses it or one of these options is given.
- ``--myna-verify-cassettes[=URL]``: after the run, compare the shape of every cassette used
  with a new answer from myna's emulator (or URL); breaking drift fails the run
  (`myna.pytest_plugin._verify`).

Markers: ``myna_cassette(name=None, mode=None, match_on=[...], ignore=[...], **options)``
(alone it records and replays the test's HTTP traffic, as pytest-recording's ``vcr`` marker
does; options are `myna.cassettes.Cassette`'s), ``myna_script([...])``,
``myna_model("provider:model", **params)``, ``myna_eval`` (set by `myna.evals.cases`).

Fixtures: ``fake_model``, ``schema_model``, ``emulator``, ``cassette``, ``model_calls``,
``override_models``, ``chat_model``, ``lc_fake_model`` (needs ``myna[langchain]``).

Files: ``.myna/cassettes-used.log`` under the rootdir names the cassettes the last run used,
for ``myna cassettes prune`` (see `myna.pytest_plugin._usage`); the folder ignores itself in git.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

__all__ = [
    "cassette",
    "chat_model",
    "emulator",
    "fake_model",
    "lc_fake_model",
    "model_calls",
    "override_models",
    "schema_model",
]

_STATE = pytest.StashKey[Any]()
_USAGE = pytest.StashKey[Any]()  # ._usage.UsageRun: the cassette usage log
_WORKER_KEY = "myna_report"
_USAGE_WORKER_KEY = "myna_usage"
_EVALS = "myna.evals._pytest"
_EVAL_WORKER_KEY = "myna_evals"  # myna.evals._pytest.WORKER_KEY
_EVAL_OPTIONS = ("myna_eval_report", "myna_eval_baseline", "myna_eval_repeat")

_MARKERS = (
    "myna_cassette(name=None, mode=None, match_on=[...], ignore=[], **options): the test's "
    "cassette, active for the whole test (the marker alone records and replays): its file "
    "name; its record mode (none, once, new_episodes, all); the request parts compared "
    "(default method, host, path, query, body; leave out host to replay what was recorded "
    "against another base URL); JSON body fields ignored; and the other Cassette options "
    "(unplayed=, allow_playback_repeats=, timing=, redact=, ...).",
    "myna_script(replies, *, assert_all_replies_used=True, **options): the replies of the "
    "fake_model fixture (and of chat_model when faked); a list or a YAML script path.",
    "myna_model(model, **params): the model string (and parameters) of the chat_model "
    "fixture when it is replayed or live, e.g. myna_model('openai:gpt-4.1-mini').",
    "myna_eval(): an eval test, one per case, set by myna.evals.cases; -m myna_eval selects them.",
)


# -- options and configuration --------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("myna", "myna: fake models, emulators, cassettes")
    group.addoption(
        "--myna-record-mode",
        dest="myna_record_mode",
        choices=("none", "once", "new_episodes", "all"),
        default=None,
        help="cassette record mode: none (replay only), once (record missing cassettes), "
        "new_episodes, all. Default: once, or none when CI is set (MYNA_RECORD_MODE "
        "overrides both).",
    )
    group.addoption(
        "--myna-cassette-dir",
        dest="myna_cassette_dir",
        default=None,
        metavar="DIR",
        help="where cassettes live (default: cassettes/ beside each test module).",
    )
    group.addoption(
        "--myna-block-network",
        dest="myna_block_network",
        nargs="?",
        const="on",
        default=None,
        choices=("on", "off", "auto"),
        help="fail any real network connection, naming the test and host "
        "(default auto: on when the CI environment variable is set).",
    )
    group.addoption(
        "--myna-live",
        dest="myna_live",
        action="store_true",
        default=False,
        help="allow real provider calls: chat_model goes live and the network opens.",
    )
    group.addoption(
        "--myna-report",
        dest="myna_report",
        default=None,
        metavar="FILE",
        help="write the model-call and cassette report as JSON to FILE.",
    )
    group.addoption(
        "--myna-report-top",
        dest="myna_report_top",
        type=int,
        default=None,
        metavar="N",
        help="show the N most expensive tests in the terminal summary (default 5).",
    )
    group.addoption(
        "--myna-eval-report",
        dest="myna_eval_report",
        default=None,
        metavar="DIR",
        help="write each eval's report to DIR as <name>.json, <name>.html, <name>.junit.xml.",
    )
    group.addoption(
        "--myna-eval-baseline",
        dest="myna_eval_baseline",
        default=None,
        metavar="FILE",
        help="compare the evals with this JSON report (or a --myna-eval-report directory); "
        "a significant regression fails the run.",
    )
    group.addoption(
        "--myna-eval-repeat",
        dest="myna_eval_repeat",
        type=int,
        default=None,
        metavar="N",
        help="run every eval case N times, whatever the tests say.",
    )
    from ._verify import add_option

    add_option(group)
    parser.addini(
        "myna_record_mode",
        "cassette record mode (none, once, new_episodes, all); default once, or none under CI",
    )
    parser.addini("myna_cassette_dir", "where cassettes live (relative to the rootdir)")
    parser.addini("myna_block_network", "block the network: on, off or auto", default="auto")
    parser.addini("myna_live", "allow real provider calls", type="bool", default=False)
    parser.addini("myna_report", "write the JSON report to this file")
    parser.addini("myna_report_top", "tests shown in the terminal summary", default="5")
    parser.addini("myna_model", "default model of the chat_model fixture, e.g. openai:gpt-4.1")
    parser.addini("myna_eval_report", "write the eval reports to this directory")
    parser.addini("myna_eval_baseline", "compare the evals with this report (file or directory)")
    parser.addini("myna_eval_repeat", "runs per eval case, overriding the tests")


def pytest_configure(config: pytest.Config) -> None:
    for line in _MARKERS:
        config.addinivalue_line("markers", line)
    from myna.testing import PriceTable

    from ._session import PluginState, resolve_settings

    settings = resolve_settings(config)
    try:
        prices = PriceTable.from_pyproject(config.inipath)
    except ValueError as exc:  # UserError: a bad [tool.myna.prices] entry
        raise pytest.UsageError(str(exc)) from None
    state = PluginState(settings, prices)
    config.stash[_STATE] = state
    _share_record_mode(config, settings)
    from ._usage import UsageRun

    usage = UsageRun(config, settings)
    usage.start()
    config.stash[_USAGE] = usage
    config.pluginmanager.register(_PerTest(state), "myna-per-test")
    config.pluginmanager.register(_RunHooks(usage), "myna-run")
    from ._verify import configure as verify_cassettes

    verify_cassettes(config)  # --myna-verify-cassettes, after the usage log is set up
    if settings.block_network:
        state.block()
    if _eval_options_given(config):
        _evals().configure(config)


_SAVED_ENV = pytest.StashKey[dict[str, Any]]()


def _share_record_mode(config: pytest.Config, settings: Any) -> None:
    """Make a record mode chosen by option or ini key the default of every cassette of the run.

    Cassettes the plugin does not open (your own ``cassette(path)``, a ``myna.evals`` judge's
    ``cassette=``, a subprocess) read ``MYNA_RECORD_MODE`` (`myna.cassettes.default_record_mode`);
    the plugin sets it for the run and restores it at the end. Through the environment, so
    nothing is imported here and xdist workers and subprocesses see it too.
    """
    import os

    if not settings.record_mode_given:
        return
    config.stash[_SAVED_ENV] = {"MYNA_RECORD_MODE": os.environ.get("MYNA_RECORD_MODE")}
    os.environ["MYNA_RECORD_MODE"] = settings.record_mode


def _restore_env(config: pytest.Config) -> None:
    import os

    for key, value in config.stash.get(_SAVED_ENV, {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _eval_options_given(config: pytest.Config) -> bool:
    return any(config.getoption(key) is not None or config.getini(key) for key in _EVAL_OPTIONS)


def _evals() -> Any:
    """`myna.evals._pytest`, imported only when an eval test or an eval option exists.

    By path, like an entry point: `myna.evals` sits above the plugin (it uses `myna.testing`
    and the plugin's fixtures), so the plugin never imports it by name."""
    import importlib

    return importlib.import_module(_EVALS)


def pytest_unconfigure(config: pytest.Config) -> None:
    _restore_env(config)
    shared = config.stash.get(_INTERCEPTION, None)
    if shared is not None:
        shared.uninstall()
    usage = config.stash.get(_USAGE, None)
    if usage is not None:
        usage.restore()
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return None
    s = state.settings
    network = "live" if s.live else ("blocked" if s.block_network else "open")
    return f"myna: record mode {s.record_mode}, network {network}"


def _state(config: pytest.Config) -> Any:
    return config.stash[_STATE]


# -- per test -----------------------------------------------------------------------------


class _PerTest:
    """The per-test hooks, registered with the run's state (plain hooks: cheaper than wrappers)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.state.start_test(item.nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        self.state.observe()  # fixtures may have just loaded myna.models

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.nodeid == self.state.nodeid:
            self.state.call_passed = report.passed
            if report.failed:  # a cassette's teardown tells whether it shows a miss
                self.state.call_failure = report.longreprtext

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: Any) -> None:
        self.state.end_test()  # after the fixtures' teardown, which may still count calls


def _test_passed(request: pytest.FixtureRequest) -> bool:
    state = _state(request.config)
    return state.call_passed and state.nodeid == request.node.nodeid


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: Any, right: Any) -> Any:
    if "myna.messages" not in sys.modules:
        return None  # no myna message can exist yet
    from myna.testing import explain_comparison

    return explain_comparison(op, left, right)


# -- report -------------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        for item in items:
            if item.get_closest_marker("myna_cassette") is not None:
                _use_cassette(item, state.settings)
        config.stash[_USAGE].collected(items)
    if _EVALS in sys.modules:  # a test module uses myna.evals.cases
        sys.modules[_EVALS].collected(config, items, state)


class _RunHooks:
    """What the cassette usage log needs to know about the run: tests left out of it."""

    def __init__(self, usage: Any) -> None:
        self.usage = usage

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.usage.deselected += len(items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.usage.collect_errors += 1


def _use_cassette(item: pytest.Item, settings: Any) -> None:
    """The ``myna_cassette`` marker alone makes the test use its cassette, as
    ``@pytest.mark.vcr`` does with pytest-recording: `cassette` joins the item's fixtures,
    before its function-scoped ones (so fixtures' traffic is recorded too). Only marked tests
    pay for it. Under ``--myna-live`` with record mode ``none`` there is no cassette."""
    names = getattr(item, "fixturenames", None)
    if names is None or "cassette" in names:
        return
    if settings.live:
        marker = item.get_closest_marker("myna_cassette")
        if (marker.kwargs.get("mode") or settings.record_mode) == "none":  # type: ignore[union-attr]
            return
    # after the fixtures of wider scope, which must not be set up inside this test's cassette
    defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    index = next(
        (i for i, name in enumerate(names) if name in defs and defs[name][-1].scope == "function"),
        len(names),
    )
    item.fixturenames = [*names[:index], "cassette", *names[index:]]  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if _EVALS in sys.modules or _eval_options_given(config):
        _evals().session_finish(session)  # may set the exit status (a baseline regression)
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    usage = config.stash[_USAGE]
    if hasattr(config, "workerinput"):  # an xdist worker: hand the report to the controller
        config.workeroutput[_WORKER_KEY] = json.dumps(state.report.to_json())  # type: ignore[attr-defined]
        config.workeroutput[_USAGE_WORKER_KEY] = usage.worker_output()  # type: ignore[attr-defined]
        return
    usage.finish(session, exitstatus)
    if state.settings.report_file is not None:
        state.report.write(state.settings.report_file)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {})
    data = output.get(_WORKER_KEY)
    if data:
        _state(node.config).report.merge(json.loads(data))
    if output.get(_EVAL_WORKER_KEY):
        _evals().merge(node.config, output[_EVAL_WORKER_KEY])
    usage = node.config.stash.get(_USAGE, None)
    if usage is not None:
        usage.merge(output.get(_USAGE_WORKER_KEY) or {}, crashed=error is not None)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _EVALS in sys.modules:
        sys.modules[_EVALS].terminal_summary(terminalreporter, config)
    state = config.stash.get(_STATE, None)
    if state is None or hasattr(config, "workerinput") or state.report.is_empty():
        return
    terminalreporter.ensure_newline()  # else the first line below gets a blank one before it
    terminalreporter.section("myna")
    for line in state.report.terminal_lines(top=state.settings.report_top):
        terminalreporter.write_line(line)
    if state.settings.report_file is not None:
        terminalreporter.write_line(f"report written to {state.settings.report_file}")


# -- fixtures -----------------------------------------------------------------------------


def _marker_kwargs(request: pytest.FixtureRequest, name: str) -> tuple[tuple, dict] | None:
    marker = request.node.get_closest_marker(name)
    if marker is None:
        return None
    return marker.args, dict(marker.kwargs)


def _fake_from_marker(request: pytest.FixtureRequest) -> Any:
    from ._fixtures import FixtureFakeChatModel, script_from_marker

    found = _marker_kwargs(request, "myna_script")
    if found is None:
        return FixtureFakeChatModel()
    args, kwargs = found
    strict = kwargs.pop("assert_all_replies_used", True)
    script = script_from_marker(args, request.node.path)
    return FixtureFakeChatModel(script, strict=strict, **kwargs)


def _check_unused(request: pytest.FixtureRequest, model: Any) -> None:
    if not any(strict and made.remaining for made, strict in model.made):
        return
    from ._fixtures import unused_replies

    if _test_passed(request):
        problem = unused_replies(model.made)
        if problem:
            pytest.fail(problem, pytrace=False)


@pytest.fixture
def fake_model(request: pytest.FixtureRequest) -> Any:
    """A `FakeChatModel` answering from ``@pytest.mark.myna_script([...])``, and a factory:
    ``fake_model(["Hi!"])`` builds another. Unused scripted replies fail a passing test."""
    model = _fake_from_marker(request)
    _state(request.config).observe()
    # the teardown check is registered only once a strict script exists (cheaper per test)
    model._arm = lambda: request.addfinalizer(lambda: _check_unused(request, model))
    if model.script and model.made[0][1]:
        model.arm()
    return model


@pytest.fixture
def lc_fake_model(fake_model: Any) -> Any:
    """`fake_model` as a LangChain chat model (``myna.interop.langchain.to_langchain``): the
    same script (``@pytest.mark.myna_script``), calls and unused-replies check;
    ``lc_fake_model(["Hi!"])`` builds another. Needs ``pip install 'myna[langchain]'``."""
    from ._langchain import langchain_fake

    return langchain_fake(fake_model)


@pytest.fixture
def schema_model(request: pytest.FixtureRequest) -> Any:
    """A `SchemaChatModel(seed=0)`: calls your tools and fills your schemas with valid
    values, no script needed; ``schema_model(seed=3)`` builds another."""
    from ._fixtures import FixtureSchemaChatModel

    model = FixtureSchemaChatModel(seed=0)
    _state(request.config).observe()
    return model


_INTERCEPTION = pytest.StashKey[Any]()


def _interception(config: pytest.Config) -> Any:
    """The session's one `myna.emulators.Interception`: each test's emulators attach to it,
    so a test pays for no patching of httpx and httpx2 (removed in `pytest_unconfigure`)."""
    shared = config.stash.get(_INTERCEPTION, None)
    if shared is None:
        from myna.emulators import Interception

        shared = config.stash[_INTERCEPTION] = Interception()
    return shared


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """A factory of started provider emulators: ``server = emulator("anthropic", script=[...])``.

    Each is stopped at teardown and, if the test passed, verified (every scripted reply
    requested, every request answered). A script error (the script ran out, a scripted tool
    call to a tool the request did not offer) fails the test with `UnmatchedRequestError`
    quoting it even when the test failed too, as its failure may only be the consequence
    (a client that swallowed the 400 the emulator answered with). Options are
    `myna.emulators.Emulator`'s.
    """
    from myna.emulators import emulate

    shared = _interception(request.config)
    started: list[Any] = []

    def start(provider: str | None = None, script: Any = (), **options: Any) -> Any:
        server = emulate(provider, script, **options)
        started.append(server)  # before start(): a half-started emulator is stopped too
        return server.start(via=shared)

    _state(request.config).observe()
    yield start
    passed = _test_passed(request)
    for server in reversed(started):
        server.stop(check=False)
    for server in started:
        if passed or (server.assert_all_requests_matched and server.app.errors):
            try:
                server.verify()  # script errors first: UnmatchedRequestError
            except AssertionError as exc:
                raise type(exc)(f"{exc} (emulator {server.provider!r})") from exc.__cause__


@pytest.fixture
def model_calls(request: pytest.FixtureRequest) -> Any:
    """Every call any myna model made during this test, in order (`myna.models.CallRecord`:
    messages, tools, schema, params, output, usage), with ``.last``, ``.count``, ``.usage``."""
    state = _state(request.config)
    if not state.observing:
        import myna.models

        state.observe()
    return state.calls


@pytest.fixture
def override_models(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Make every `init_chat_model` in the code under test return a model of yours.

    ``override_models(fake)`` (or a ``{"provider:model": model, "*": default}`` dict, or a
    function) applies until the test ends and returns it; ``override_models()`` uses the
    `fake_model` fixture (so the ``myna_script`` marker drives the app).
    """
    from contextlib import ExitStack

    from myna.testing import override_models as override

    stack = ExitStack()

    def apply(target: Any = None) -> Any:
        if target is None:
            target = request.getfixturevalue("fake_model")
        return stack.enter_context(override(target))

    _state(request.config).observe()
    with stack:
        yield apply


@pytest.fixture
def cassette(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The test's cassette (`myna.cassettes.Cassette`), active for the whole test: HTTP
    traffic of httpx and httpx2 clients (our providers, the official SDKs) is replayed from
    it or recorded to it.

    The file is ``cassettes/<module>/<test>.yaml`` beside the test module (see
    ``--myna-cassette-dir``); ``@pytest.mark.myna_cassette(name=, mode=, match_on=[...],
    ignore=[...])`` changes the name, the record mode, the request parts compared (leave out
    ``"host"`` to replay against another base URL than the one recorded) and the JSON body
    fields ignored; any other `myna.cassettes.Cassette` option passes through.
    The marker alone is enough: a marked test uses its cassette whether or not it asks for
    this fixture, and `chat_model` shares it.
    """
    from ._recording import setup_cassette

    active, finish = setup_cassette(request.node, _state(request.config))
    yield active
    finish(_test_passed(request))


@pytest.fixture
def chat_model(request: pytest.FixtureRequest) -> Iterator[Any]:
    """One model for the test, faked, replayed or live by option; the same body runs in all.

    - ``--myna-live``: the real model of ``@pytest.mark.myna_model("provider:model")`` (or
      the ``myna_model`` ini key); with a record mode chosen, its traffic is recorded to
      the test's cassette.
    - the test has a cassette (a ``myna_cassette`` marker, or the file exists): the real
      provider code path replayed from it. When the record mode records (``once`` with no
      file yet, ``new_episodes``, ``all``), an emulator answers from the ``myna_script``
      marker while the cassette records, so cassettes are made offline.
    - otherwise: a `FakeChatModel` with the ``myna_script`` replies, or a `SchemaChatModel`
      when there is no script.

    The model string and parameters (marker or ini key) are checked at setup in every mode,
    faked too: a typo such as ``myna_model("opnai:gpt-4.1-mini")`` fails the test at once.
    """
    from ._recording import setup_chat_model

    state = _state(request.config)
    model, finish, kind = setup_chat_model(
        request.node, state, lambda: request.getfixturevalue("cassette")
    )
    request.node.user_properties.append(("myna_chat_model", kind))
    state.observe()
    yield model
    passed = _test_passed(request)
    finish(passed)
    if kind == "fake" and hasattr(model, "made"):
        _check_unused(request, model)
