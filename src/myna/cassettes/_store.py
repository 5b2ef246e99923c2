"""Writing cassettes safely: atomic replace, a lock per cassette, and a usage log.

A cassette is written to a temporary file in the same directory, flushed to disk, then renamed
over the old one (`os.replace` is atomic), so a reader sees the old file or the new one, never
half of either. Writers of the same cassette (pytest-xdist workers, parallel jobs) take an
exclusive lock first: a ``flock`` on a file in the temp directory named after the cassette's
path, so no lock files litter the repository.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ._errors import CassetteError

__all__ = [
    "cassette_lock",
    "note_usage",
    "read_usage",
    "set_usage_log",
    "usage_log",
    "write_atomic",
]

_LOCK_TIMEOUT = 60.0
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _lock_file(path: Path) -> Path:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:20]
    folder = Path(tempfile.gettempdir()) / "myna-cassette-locks"
    folder.mkdir(exist_ok=True)
    return folder / f"{digest}.lock"


@contextlib.contextmanager
def cassette_lock(path: Path, timeout: float = _LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive write lock of one cassette (across threads and processes)."""
    key = str(path.resolve())
    with _thread_locks_guard:
        local = _thread_locks.setdefault(key, threading.Lock())
    if not local.acquire(timeout=timeout):
        raise CassetteError(f"Timed out after {timeout:.0f} s waiting to write {path}.")
    try:
        lock_path = _lock_file(path)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _flock(fd, path, timeout)
            try:
                yield
            finally:
                _funlock(fd)
        finally:
            os.close(fd)
    finally:
        local.release()


def _flock(fd: int, path: Path, timeout: float) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        deadline = time.monotonic() + timeout
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise CassetteError(f"Timed out waiting to write {path}.") from None
                time.sleep(0.01)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise CassetteError(
                    f"Timed out after {timeout:.0f} s waiting for another process writing {path}."
                ) from None
            time.sleep(0.005)


def _funlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (temp file in the same folder + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------- usage log (for prune)

_usage_log: Path | None = None
_ENV_LOG = "MYNA_CASSETTE_LOG"


def set_usage_log(path: str | Path | None, *, reset: bool = False) -> None:
    """Log every cassette used in this process to `path` (one absolute path per line).

    ``myna cassettes prune`` removes cassettes the log does not name. The pytest plugin calls
    this at the start of a run with ``reset=True``; the ``MYNA_CASSETTE_LOG`` environment
    variable does the same for other runners. None turns logging off.
    """
    global _usage_log
    _usage_log = Path(path) if path is not None else None
    if _usage_log is not None and reset:
        _usage_log.parent.mkdir(parents=True, exist_ok=True)
        _usage_log.write_text("", encoding="utf-8")


def usage_log() -> Path | None:
    """Where cassette use is logged, or None when it is not."""
    if _usage_log is not None:
        return _usage_log
    env = os.environ.get(_ENV_LOG)
    return Path(env) if env else None


def note_usage(path: Path) -> None:
    """Append `path` to the usage log, if one is set (one short O_APPEND write: atomic)."""
    log = usage_log()
    if log is None:
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    line = (str(path.resolve()) + "\n").encode("utf-8")
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_usage(log: Path) -> set[str]:
    """The absolute cassette paths named in a usage log."""
    try:
        text = log.read_text(encoding="utf-8")
    except OSError as exc:
        raise CassetteError(
            f"Cannot read the cassette usage log {log}: {exc.strerror or exc}. Run the tests "
            f"with the myna pytest plugin (or {_ENV_LOG}={log}) first."
        ) from None
    return {line.strip() for line in text.splitlines() if line.strip()}
