"""The cassette usage log of a pytest run, which ``myna cassettes prune`` reads.

Every cassette names itself in the log when it starts (`myna.cassettes.note_usage`, through
``MYNA_CASSETTE_LOG``, inherited by xdist workers). The plugin adds the cassettes of every
collected test whose file exists (a skipped test opens none, yet its cassette is not stale),
and closes the log at the end saying which folders the run covered and whether it ran the
whole suite. Prune refuses after a partial run: the cassettes of the tests it did not run
(deselected by ``-k``, ``-m`` or ``--lf``, outside the named files, after ``-x`` stopped it)
would look unused.

Imports nothing heavy: `myna.cassettes` loads only when a collected test has a cassette file
or the run has written a log.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._session import cassette_path

__all__ = ["UsageRun", "default_log"]

_LOG = "MYNA_CASSETTE_LOG"
_OWNER = "MYNA_CASSETTE_LOG_OWNER"
"""Set while a pytest run owns the log: a pytest run inside it (pytester, a subprocess)
logs to the same file but leaves resetting and closing it to the owner."""


def default_log(root: Path) -> Path:
    """The log of a project: ``.myna/cassettes-used.log`` under the rootdir."""
    return root / ".myna" / "cassettes-used.log"


class UsageRun:
    """What one pytest process knows about the run, for the usage log."""

    def __init__(self, config: Any, settings: Any) -> None:
        self.config = config
        self.settings = settings
        self.owner = False
        """Whether this run resets and closes the log (not a worker, not a nested run)."""
        self.deselected = 0
        self.collect_errors = 0
        self.crashed_workers = 0
        self.saved_env: dict[str, str | None] = {}

    # -- start ----------------------------------------------------------------------------

    def start(self) -> None:
        """Point ``MYNA_CASSETTE_LOG`` at the project's log and delete the last run's log
        (a run that uses no cassette leaves none behind). A log the user chose is kept and
        appended to."""
        if hasattr(self.config, "workerinput") or os.environ.get(_OWNER):
            return
        self.owner = True
        log = default_log(Path(str(self.config.rootpath)))
        for key in (_LOG, _OWNER):
            self.saved_env[key] = os.environ.get(key)
        os.environ[_OWNER] = str(os.getpid())
        if _LOG not in os.environ:
            os.environ[_LOG] = str(log)
            log.unlink(missing_ok=True)

    def restore(self) -> None:
        """Put the environment back (the end of the run)."""
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self.saved_env = {}

    # -- collection -------------------------------------------------------------------------

    def collected(self, items: list[Any]) -> None:
        """Name the existing cassettes of every collected test that has one."""
        if not os.environ.get(_LOG):
            return
        paths = []
        for item in items:
            names = getattr(item, "fixturenames", ())
            marker = item.get_closest_marker("myna_cassette")
            if marker is None and "cassette" not in names and "chat_model" not in names:
                continue
            name = None
            if marker is not None:
                name = marker.kwargs.get("name") or (marker.args[0] if marker.args else None)
            try:
                path = cassette_path(item, self.settings, name if isinstance(name, str) else None)
            except (TypeError, ValueError):
                continue  # a bad marker fails the test itself, with the reason
            if path.exists():
                paths.append(path)
        if paths:
            from ..cassettes import note_usage

            note_usage(*paths)

    # -- the end --------------------------------------------------------------------------

    def worker_output(self) -> dict[str, int]:
        """What an xdist worker hands the controller."""
        return {"deselected": self.deselected, "collect_errors": self.collect_errors}

    def merge(self, data: dict[str, int], crashed: bool) -> None:
        """The controller receives a worker's counts (each worker collects the whole run)."""
        self.deselected = max(self.deselected, data.get("deselected", 0))
        self.collect_errors = max(self.collect_errors, data.get("collect_errors", 0))
        self.crashed_workers += crashed

    def covers(self) -> tuple[list[Path], list[str]]:
        """The folders the run's tests came from, and the files or node ids it named."""
        config = self.config
        here = Path(str(config.invocation_params.dir))
        folders: list[Path] = []
        named: list[str] = []
        given = config.args_source == config.ArgsSource.ARGS
        for arg in config.args:
            path = here / arg.split("::", 1)[0]
            if given and ("::" in arg or not path.is_dir()):
                named.append(arg)
            else:
                folders.append(path)
        if not given and self.settings.cassette_dir is not None:
            folders.append(self.settings.cassette_dir)  # the suite's cassettes live there
        return folders, named

    def partial(self, session: Any, exitstatus: int, named: list[str]) -> str | None:
        """Why this run did not run the whole suite, or None."""
        import pytest

        config = self.config
        reasons = []
        if self.deselected:
            reasons.append(f"{self.deselected} test(s) deselected (-k, -m, --deselect or --sw)")
        lf = config.pluginmanager.get_plugin("lfplugin")
        if config.getoption("lf", False) and getattr(lf, "lastfailed", None):
            reasons.append("--lf ran only the last failures")
        if named:
            shown = ", ".join(named[:3]) + (", ..." if len(named) > 3 else "")
            reasons.append(f"it ran only the named files or tests ({shown})")
        if config.getoption("collectonly", False):
            reasons.append("--collect-only ran no test")
        if exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop or session.shouldfail:
            reasons.append("it stopped early (-x, --maxfail, --sw or an interrupt)")
        if self.collect_errors:
            reasons.append(f"{self.collect_errors} file(s) failed to collect")
        if self.crashed_workers:
            reasons.append(f"{self.crashed_workers} xdist worker(s) crashed")
        return "; ".join(reasons) or None

    def finish(self, session: Any, exitstatus: int) -> None:
        """Close the log (the run's owner only, and only when a cassette was logged)."""
        log = os.environ.get(_LOG)
        if not self.owner or not log or not Path(log).exists():
            return
        folders, named = self.covers()
        from ..cassettes import finish_usage_log

        finish_usage_log(partial=self.partial(session, exitstatus, named), covers=folders)
