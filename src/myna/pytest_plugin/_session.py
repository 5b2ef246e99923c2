"""Per-process state of the pytest plugin: settings, the current test, the report.

Imports nothing heavy: `myna.models` is touched only once the code under test has loaded it
(no model call can happen before), so a pytest run that never uses myna pays nothing.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._record_mode import MODES, default_record_mode, is_ci
from ..exceptions import UserError
from ..testing import ModelCalls, PriceTable, RunReport

__all__ = [
    "PluginState",
    "RECORD_MODES",
    "Settings",
    "cassette_path",
    "default_record_mode",
    "network_default",
]

RECORD_MODES = MODES
"""The record modes (`myna.cassettes.MODES`)."""


def network_default(environ: dict[str, str] | None = None) -> bool:
    """Whether the network is blocked when nothing says otherwise: yes under ``CI``."""
    return is_ci(environ)


@dataclass(frozen=True)
class Settings:
    """The plugin's options, resolved from the command line, the ini file and ``CI``."""

    record_mode: str
    """From the command line, the ini file or ``MYNA_RECORD_MODE``; else `default_record_mode`:
    ``once``, or ``none`` when ``CI`` is set."""
    record_mode_given: bool
    """True when the record mode was chosen (option, ini or environment), not defaulted."""
    cassette_dir: Path | None
    """None: ``cassettes/`` beside each test module."""
    block_network: bool
    live: bool
    report_file: Path | None
    report_top: int
    model: str | None
    """Default model string for the `chat_model` fixture (ini ``myna_model``)."""


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("on", "true", "yes", "1"):
        return True
    if text in ("off", "false", "no", "0"):
        return False
    if text in ("", "auto"):
        return None
    raise ValueError(text)


def resolve_settings(config: Any) -> Settings:
    """Read the options; a bad value raises `pytest.UsageError` naming the option."""
    import pytest

    root = Path(str(config.rootpath))
    mode = config.getoption("myna_record_mode") or config.getini("myna_record_mode") or ""
    mode = str(mode).strip()
    source = "myna_record_mode"
    if not mode and os.environ.get("MYNA_RECORD_MODE", "").strip():
        source = "MYNA_RECORD_MODE"
    given = bool(mode) or source == "MYNA_RECORD_MODE"
    if not mode:
        try:
            mode = default_record_mode()
        except UserError:
            mode = os.environ["MYNA_RECORD_MODE"].strip()  # reported below, as a usage error
    if mode not in RECORD_MODES:
        raise pytest.UsageError(
            f"{source} = {mode!r} is not a record mode; use one of {', '.join(RECORD_MODES)}."
        )
    directory = config.getoption("myna_cassette_dir") or config.getini("myna_cassette_dir")
    cassette_dir = None
    if directory:
        cassette_dir = Path(str(directory))
        if not cassette_dir.is_absolute():
            cassette_dir = root / cassette_dir
    live = bool(config.getoption("myna_live")) or bool(_flag(config.getini("myna_live")))
    raw = config.getoption("myna_block_network")
    if raw is None:
        raw = config.getini("myna_block_network")
    try:
        block = _flag(raw)
    except ValueError:
        raise pytest.UsageError(
            f"myna_block_network = {raw!r}; use on, off or auto (auto: blocked when the CI "
            "environment variable is set)."
        ) from None
    if block is None:
        block = network_default()
    if live:
        block = False  # live provider calls need the network
    report = config.getoption("myna_report") or config.getini("myna_report")
    report_file = None
    if report:
        report_file = Path(str(report))
        if not report_file.is_absolute():
            report_file = Path(str(config.invocation_params.dir)) / report_file
    top = config.getoption("myna_report_top")
    if top is None:
        top = int(config.getini("myna_report_top") or 5)
    model = config.getini("myna_model") or None
    return Settings(mode, given, cassette_dir, block, live, report_file, int(top), model)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.,=+-]+")


def cassette_path(item: Any, settings: Settings, name: str | None = None) -> Path:
    """Where a test's cassette lives: ``<dir>/<module>/<test name>.yaml``.

    ``<dir>`` is ``--myna-cassette-dir`` or ``cassettes/`` beside the test module; `name`
    (from ``myna_cassette(name=...)``) replaces the test name, and may be a path.
    """
    module = Path(str(item.path))
    base = settings.cassette_dir or (module.parent / "cassettes")
    if name:
        path = Path(name)
        if path.is_absolute():
            return path
        target = base / module.stem / path
    else:
        test = _UNSAFE.sub("_", item.name).strip("_") or "test"
        target = base / module.stem / test
    if target.suffix not in (".yaml", ".yml", ".json"):
        target = target.with_name(target.name + ".yaml")
    return target


class PluginState:
    """What the plugin tracks in one process."""

    def __init__(self, settings: Settings, prices: PriceTable) -> None:
        self.settings = settings
        self.report = RunReport(prices)
        self.nodeid: str | None = None
        self.call_passed = False
        """Whether the running test's call phase passed (strict teardown checks need it)."""
        self.call_failure = ""
        """The running test's failure as reported, when its call phase failed."""
        self.calls = ModelCalls()
        self.observing = False
        self.blocker: Any = None

    def where(self) -> str:
        """The running test, for error messages."""
        return f"test {self.nodeid}" if self.nodeid else "code outside any test (collection)"

    def observe(self) -> None:
        """Start receiving model calls, once the code under test has loaded `myna.models`."""
        if self.observing or "myna.models" not in sys.modules:
            return
        from ..models import add_call_observer

        add_call_observer(self.on_call)
        self.observing = True

    def stop(self) -> None:
        """Stop observing and unblock the network (end of the run)."""
        if self.observing:
            from ..models import remove_call_observer

            remove_call_observer(self.on_call)
            self.observing = False
        if self.blocker is not None:
            self.blocker.__exit__(None, None, None)
            self.blocker = None

    def on_call(self, record: Any) -> None:
        """The call observer: count the call for the report and for `model_calls`."""
        self.report.add_call(self.nodeid or "<outside tests>", record)
        self.calls.append(record)

    def start_test(self, nodeid: str) -> None:
        """A test begins (its setup): calls from now on are its calls."""
        self.nodeid = nodeid
        self.call_passed = False
        self.call_failure = ""
        self.calls = ModelCalls()
        self.observe()

    def end_test(self) -> None:
        """The test's teardown is done."""
        self.nodeid = None
        self.calls = ModelCalls()

    def block(self) -> None:
        """Install the network block (see `myna.testing.block_network`)."""
        from ..testing import block_network

        self.blocker = block_network(
            where=self.where,
            hint="Replay a cassette or use an emulator or fake, or allow real calls with "
            "--myna-live (or --myna-block-network=off).",
        )
        self.blocker.__enter__()  # for the whole run: left in `stop`
