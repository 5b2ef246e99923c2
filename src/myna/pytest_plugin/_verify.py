"""``--myna-verify-cassettes``: the shape check of every cassette the run's tests used.

At the end of the run, each cassette named in the run's cassette usage log (every cassette a
test opened, and those of the collected tests: see `myna.pytest_plugin._usage`) is checked
with `myna.cassettes.verify` against myna's emulator (the default) or a server
(``--myna-verify-cassettes=URL``): each recorded request is answered again, and the shape of
the answer is compared with the recording.

Drift is reported in a terminal summary section, one block per drifted cassette, rather than
as a failure of the tests that replayed it: a cassette is shared by tests and the drift is
in the cassette or the emulator, not in a test's code. Breaking drift (a removed or retyped
path, a removed event type, a changed status) makes the run fail (exit status 1) even when
every test passed, so CI catches it; added paths and events are listed and do not fail it.
Under xdist the controller checks, once, after the workers finished.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CassetteDrift", "add_option", "configure"]

_OPTION = "myna_verify_cassettes"


def add_option(group: Any) -> None:
    """Add ``--myna-verify-cassettes[=URL]`` to the plugin's option group."""
    group.addoption(
        "--myna-verify-cassettes",
        dest=_OPTION,
        nargs="?",
        const="emulator",
        default=None,
        metavar="URL",
        help="after the run, compare the shape of each cassette the tests used with a new "
        "answer from myna's emulator (or the server at URL); breaking drift fails the run.",
    )


def configure(config: pytest.Config) -> None:
    """Register the check when the option is given."""
    target = config.getoption(_OPTION, None)
    if target is not None:
        config.pluginmanager.register(CassetteDrift(target), "myna-verify-cassettes")


def _log_size() -> tuple[Path | None, int]:
    name = os.environ.get("MYNA_CASSETTE_LOG")
    if not name:
        return None, 0
    path = Path(name)
    return path, path.stat().st_size if path.exists() else 0


class CassetteDrift:
    """Checks the run's cassettes at its end and reports their drift."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.reports: list[Any] = []
        self.errors: list[str] = []
        self.log, self.offset = _log_size()

    def used(self) -> list[Path]:
        """The cassettes this run named in the usage log (after the log's size at the start,
        so a nested run does not check its parent's)."""
        log = self.log or _log_size()[0]
        if log is None or not log.exists():
            return []
        with log.open("rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode("utf-8", "replace")
        names = dict.fromkeys(line.strip() for line in text.splitlines())
        return [Path(n) for n in names if n and not n.startswith("#") and Path(n).is_file()]

    @pytest.hookimpl(trylast=True)  # after the usage log is closed
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(session.config, "workerinput"):
            return  # the controller checks once
        from myna.cassettes import CassetteError, verify

        base_url = None if self.target == "emulator" else self.target
        for path in self.used():
            try:
                self.reports.append(verify(path, base_url=base_url))
            except CassetteError as exc:
                self.errors.append(f"{path}: not checked: {exc}")
        if any(r.breaking for r in self.reports) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.reports and not self.errors:
            return
        terminalreporter.ensure_newline()
        terminalreporter.section("myna cassette drift")
        drifted = [r for r in self.reports if r.drift]
        for report in drifted:
            for line in report.lines():
                terminalreporter.write_line(line)
        for line in self.errors:
            terminalreporter.write_line(line)
        breaking = sum(r.breaking for r in self.reports)
        where = "myna's emulator" if self.target == "emulator" else self.target
        terminalreporter.write_line(
            f"{len(self.reports)} cassette(s) checked against {where}: {len(drifted)} drifted, "
            f"{breaking} in a breaking way" + (" (the run fails)" if breaking else "")
        )
