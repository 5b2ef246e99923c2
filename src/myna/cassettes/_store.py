"""Writing cassettes safely: atomic replace, a lock per cassette, and a usage log.

A cassette is written to a temporary file in the same directory, flushed to disk, then renamed
over the old one (`os.replace` is atomic), so a reader sees the old file or the new one, never
half of either. Writers of the same cassette (pytest-xdist workers, parallel jobs, other OS
users sharing a checkout) take an exclusive lock first: a ``flock`` on ``.<name>.lock`` beside
the cassette, which the holder removes before unlocking, so none stays in the repository.

A writer killed mid-write (SIGKILL, a power cut) leaves its ``.<name>.<pid>.<random>.tmp``
behind; the next writer of that cassette removes it under the lock once its process is gone
(or it is older than `STALE_TMP_SECONDS`). Dot files are never listed, scanned or pruned.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._errors import CassetteError

__all__ = [
    "STALE_TMP_SECONDS",
    "UsageRecord",
    "cassette_lock",
    "clean_stale_tmp",
    "finish_usage_log",
    "note_usage",
    "read_usage",
    "read_usage_record",
    "set_usage_log",
    "usage_log",
    "write_atomic",
]

_LOCK_TIMEOUT = 60.0
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()

STALE_TMP_SECONDS = 600.0
"""A temporary file this old is stale even when its writer's process id is alive (reused)."""


def _lock_file(path: Path) -> Path:
    # beside the cassette: writable by whoever may write the cassette, and shared by every
    # OS user who does (a lock folder in the temp dir belongs to its first user alone)
    return path.parent / f".{path.name}.lock"


def _open_lock(path: Path, lock_path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise CassetteError(
            f"Cannot write {path}: its lock file {lock_path} cannot be created "
            f"({exc.strerror or exc}). Recording needs write access to {path.parent}; fix its "
            "permissions, or record as the user who owns it."
        ) from None


@contextlib.contextmanager
def cassette_lock(path: Path, timeout: float = _LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive write lock of one cassette (across threads, processes and users);
    stale temporary files of killed writers are removed once it is held."""
    key = str(path.resolve())
    with _thread_locks_guard:
        local = _thread_locks.setdefault(key, threading.Lock())
    if not local.acquire(timeout=timeout):
        raise CassetteError(f"Timed out after {timeout:.0f} s waiting to write {path}.")
    try:
        lock_path = _lock_file(path)
        while True:
            fd = _open_lock(path, lock_path)
            try:
                _flock(fd, path, timeout)
            except BaseException:
                os.close(fd)
                raise
            # the previous holder removes the file before unlocking: if ours is no longer
            # the one on disk, a third writer may hold the new one; lock that instead
            try:
                if os.fstat(fd).st_ino == os.stat(lock_path).st_ino:
                    break
            except FileNotFoundError:
                pass
            _funlock(fd)
            os.close(fd)
        try:
            clean_stale_tmp(path)
            yield
        finally:
            with contextlib.suppress(OSError):  # Windows cannot remove an open file: it stays
                os.unlink(lock_path)
            _funlock(fd)
            os.close(fd)
    finally:
        local.release()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own writes of this cassette wait for the lock we hold
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, another user's
        return True
    return True


_TMP_NAME = re.compile(r"(?:(\d+)\.)?[^.]+\.tmp")
"""What follows ``.<cassette name>.`` in a temporary file's name: ``<pid>.<random>.tmp``,
or ``<random>.tmp`` as older versions wrote them."""


def clean_stale_tmp(path: Path) -> list[Path]:
    """Remove the temporary files killed writers of `path` left beside it; returns them.

    Call it holding `cassette_lock(path)`: no writer of this cassette is then mid-write, so a
    temporary file whose process is gone (or older than `STALE_TMP_SECONDS`) is stale.
    """
    prefix = f".{path.name}."
    removed = []
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return []
    now = time.time()
    for tmp in candidates:
        match = _TMP_NAME.fullmatch(tmp.name[len(prefix) :])
        if match is None:  # the lock, or another cassette's file (``.c.yaml.v2.yaml...``)
            continue
        try:
            age = now - tmp.stat().st_mtime
        except OSError:
            continue
        pid = int(match[1]) if match[1] else None
        if age > STALE_TMP_SECONDS or (pid is not None and not _pid_alive(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
    return removed


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
    """Replace `path` with `text` atomically (temp file in the same folder + rename); hold
    `cassette_lock(path)` around it when others may write the same file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name tells the next writer whether this file's writer is still alive
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
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
_HEADER = "# myna cassette usage log: `myna cassettes prune` keeps the cassettes named here\n"
_COVERS = "# covers: "
_RUN = "# run: "


def set_usage_log(path: str | Path | None, *, reset: bool = False) -> None:
    """Log every cassette used in this process to `path` (one absolute path per line).

    ``myna cassettes prune`` removes cassettes the log does not name, once the log says the
    run is over and was complete (`finish_usage_log`). The pytest plugin does all of this
    through the ``MYNA_CASSETTE_LOG`` environment variable; other runners call this at the
    start with ``reset=True`` (a new log) and `finish_usage_log` at the end. None turns
    logging off.
    """
    global _usage_log
    _usage_log = Path(path) if path is not None else None
    if _usage_log is not None and reset:
        _usage_log.unlink(missing_ok=True)
        _append(_usage_log, "")


def usage_log() -> Path | None:
    """Where cassette use is logged, or None when it is not."""
    if _usage_log is not None:
        return _usage_log
    env = os.environ.get(_ENV_LOG)
    return Path(env) if env else None


_GITIGNORE = "# made by myna: the cassette usage log of the last test run; not for git\n*\n"


def _make_folder(folder: Path) -> None:
    """Create the log's folder; one myna creates ignores itself in git (as .pytest_cache
    does), so ``.myna/`` never shows up in ``git status``."""
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        (folder / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")


def _append(log: Path, text: str) -> None:
    """Append to the log in one write (O_APPEND: atomic across processes); a new log starts
    with the header that marks it as one `finish_usage_log` must close."""
    _make_folder(log.parent)
    try:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o644)
        text = _HEADER + text
    except FileExistsError:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def note_usage(*paths: str | Path) -> None:
    """Name cassettes in the usage log, if one is set, so ``myna cassettes prune`` keeps them.

    Every cassette notes itself when it starts; the pytest plugin also notes the cassettes of
    every collected test (a skipped test opens none, yet its cassette is not stale).
    """
    log = usage_log()
    if log is None or not paths:
        return
    _append(log, "".join(str(Path(path).resolve()) + "\n" for path in paths))


def finish_usage_log(*, partial: str | None = None, covers: Sequence[str | Path] = ()) -> None:
    """Close the usage log of a run: ``myna cassettes prune`` acts only on a closed log.

    Args:
        partial: why the run did not run the whole suite (tests deselected, paths named,
            stopped early, ...); prune then refuses, naming the reason. None: complete.
        covers: the folders the run's tests came from; prune removes unused cassettes only
            under them (a run of ``tests/`` says nothing about ``examples/``). Empty: all.
    """
    log = usage_log()
    if log is None or not log.exists():
        return
    lines = [f"{_COVERS}{Path(folder).resolve()}\n" for folder in covers]
    lines.append(f"{_RUN}partial: {partial}\n" if partial else f"{_RUN}complete\n")
    _append(log, "".join(lines))


@dataclass
class UsageRecord:
    """What a usage log says about the run that wrote it."""

    paths: set[str]
    """Absolute paths of the cassettes the run used (or would have, for skipped tests)."""
    covers: list[Path]
    """Folders the run's tests came from; empty: no limit."""
    status: str | None
    """``"complete"``, ``"partial: <why>"``, or None: the run has not closed the log."""
    managed: bool
    """Whether a myna writer made the log (so it must be closed); a hand-written list of
    paths is taken as it is."""


def read_usage_record(log: Path) -> UsageRecord:
    """Parse a usage log (raises `CassetteError` when it cannot be read)."""
    try:
        text = log.read_text(encoding="utf-8")
    except OSError as exc:
        raise CassetteError(
            f"Cannot read the cassette usage log {log}: {exc.strerror or exc}. Run the tests "
            f"with the myna pytest plugin (or {_ENV_LOG}={log}) first."
        ) from None
    record = UsageRecord(set(), [], None, False)
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == _HEADER.strip():
            record.managed = True
        elif line.startswith(_COVERS):
            record.covers.append(Path(line[len(_COVERS) :]))
        elif line.startswith(_RUN):
            record.status = line[len(_RUN) :]  # the last run to close the log decides
        elif not line.startswith("#"):
            record.paths.add(line)
    return record


def read_usage(log: Path) -> set[str]:
    """The absolute cassette paths named in a usage log."""
    return read_usage_record(log).paths
