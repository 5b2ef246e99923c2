"""Several sessions writing one cassette, the lock beside it, and killed writers' leftovers.

Issue 11: processes recording one cassette in mode ``once`` or ``all`` kept only the last
writer's interactions; the lock folder in the temp dir belonged to its first OS user; a writer
killed mid-write left its temporary file beside the cassette for good.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from myna.cassettes import CassetteError, _store, cassette, load_cassette
from myna.cassettes._store import STALE_TMP_SECONDS, cassette_lock, clean_stale_tmp
from myna.cli import main as cli_main
from myna.emulators import emulate

URL = "https://api.openai.com/v1/chat/completions"


def _body(tag: str, n: int) -> dict[str, Any]:
    return {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": f"{tag}#{n}"}]}


def _tags(path: Path) -> list[str]:
    return [
        item["request"]["body"]["json"]["messages"][0]["content"]
        for item in load_cassette(path)["interactions"]
    ]


# ---------------------------------------------------------------- processes: merged, not lost

RECORDER = textwrap.dedent(
    """
    import sys
    import httpx
    from myna.cassettes import cassette
    from myna.emulators import emulate

    once, every, tag = sys.argv[1:4]
    url = "https://api.openai.com/v1/chat/completions"
    with emulate("openai", script=["ok"], cycle=True, require_auth=False):
        with httpx.Client(verify=False) as client:
            with cassette(once, mode="once") as a, cassette(every, mode="all") as b:
                for session in (a, b):
                    with session.scope():
                        for n in range(3):
                            body = {"model": "gpt-4.1-mini",
                                    "messages": [{"role": "user", "content": f"{tag}#{n}"}]}
                            client.post(url, json=body).raise_for_status()
                print("recorded", flush=True)
                sys.stdin.readline()  # every process has recorded before any writes
    """
)


def test_four_processes_recording_one_cassette_keep_all_twelve(tmp_path):
    once, every = tmp_path / "once.yaml", tmp_path / "all.yaml"
    with emulate("openai", script=["ok"], cycle=True, require_auth=False):
        with httpx.Client(verify=False) as client, cassette(every, mode="all"):
            client.post(URL, json=_body("old", 0))  # mode all re-records this one away
    tags = [f"p{i}" for i in range(4)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RECORDER, str(once), str(every), tag],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in tags
    ]
    try:
        assert [p.stdout.readline() for p in procs] == ["recorded\n"] * 4  # type: ignore[union-attr]
        for proc in procs:
            proc.stdin.write("go\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    finally:
        for proc in procs:
            proc.kill() if proc.poll() is None else None
    assert [code for code, _ in results] == [0] * 4, results
    for path in (once, every):
        recorded = _tags(path)
        assert sorted(recorded) == sorted(f"{tag}#{n}" for tag in tags for n in range(3))
        for tag in tags:  # each session's requests keep their order
            assert [t for t in recorded if t.startswith(tag)] == [f"{tag}#{n}" for n in range(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.yaml", "once.yaml"]


@pytest.mark.parametrize("mode", ["once", "all", "new_episodes"])
def test_two_sessions_of_one_cassette_in_one_process_keep_both(tmp_path, mode):
    path = tmp_path / "shared.yaml"
    with emulate("openai", script=["ok"], cycle=True, require_auth=False):
        with httpx.Client(verify=False) as client:
            if mode != "once":
                with cassette(path, mode="all"):
                    client.post(URL, json=_body("before", 0))
            first, second = cassette(path, mode=mode), cassette(path, mode=mode)
            first.start()
            second.start()
            with first.scope():
                client.post(URL, json=_body("first", 0))
            with second.scope():
                client.post(URL, json=_body("second", 0))
            second.stop()
            first.stop()
    kept = ["before#0"] if mode == "new_episodes" else []
    assert _tags(path) == [*kept, "second#0", "first#0"]


def test_mode_all_alone_still_replaces_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    with emulate("openai", script=["ok"], cycle=True, require_auth=False):
        with httpx.Client(verify=False) as client:
            for run in range(2):
                with cassette(path, mode="all"):
                    client.post(URL, json=_body(f"run{run}", 0))
    assert _tags(path) == ["run1#0"]


# ---------------------------------------------------------------- the lock


def test_the_lock_lives_beside_the_cassette_and_goes_away(tmp_path):
    path = tmp_path / "c.yaml"
    with cassette_lock(path):
        assert [p.name for p in tmp_path.iterdir()] == [".c.yaml.lock"]
    assert list(tmp_path.iterdir()) == []


def test_another_users_temp_lock_folder_does_not_matter(tmp_path, monkeypatch):
    """The old lock folder, ``$TMPDIR/myna-cassette-locks``, made 0755 by its first user,
    refused every other user with a raw PermissionError (we run as root in CI, where chmod
    refuses nothing: os.open is made to refuse instead)."""
    others = tmp_path / "tmp" / "myna-cassette-locks"
    others.mkdir(parents=True)
    others.chmod(0o755)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    real_open = os.open

    def as_another_user(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(file).startswith(str(others)):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", as_another_user)
    path = tmp_path / "cassettes" / "c.yaml"
    with emulate("openai", script=["ok"], require_auth=False):
        with httpx.Client(verify=False) as client, cassette(path, mode="once"):
            client.post(URL, json=_body("mine", 0))
    assert _tags(path) == ["mine#0"]


def test_an_unwritable_cassette_folder_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    real_open = os.open

    def refuse_lock(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(file).endswith(".lock"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_lock)
    with pytest.raises(CassetteError) as caught:
        with cassette_lock(path):
            pass
    message = str(caught.value)
    assert ".c.yaml.lock" in message and "Permission denied" in message
    assert f"needs write access to {tmp_path}" in message


def test_a_lock_file_removed_by_the_holder_is_not_locked_twice(tmp_path, monkeypatch):
    """Writer B opened the lock file before holder A removed it: B must not take a lock on
    the removed file while C locks a new one."""
    path = tmp_path / "c.yaml"
    lock_file = tmp_path / ".c.yaml.lock"
    opened: list[int] = []
    real_flock = _store._flock

    def flock_then_lose_the_file(fd: int, where: Path, timeout: float) -> None:
        real_flock(fd, where, timeout)
        opened.append(fd)
        if len(opened) == 1:
            lock_file.unlink()  # as a holder before us would, just before unlocking

    monkeypatch.setattr(_store, "_flock", flock_then_lose_the_file)
    with cassette_lock(path):
        assert lock_file.exists() and len(opened) == 2  # it locked the file now on disk
    assert not lock_file.exists()


# ---------------------------------------------------------------- killed writers' leftovers

KILLED = textwrap.dedent(
    """
    import os, sys, threading
    from pathlib import Path
    from myna.cassettes._store import cassette_lock, write_atomic

    hold = threading.Event()
    os.replace = lambda src, dst: (print("writing", flush=True), hold.wait())
    with cassette_lock(Path(sys.argv[1])):
        write_atomic(Path(sys.argv[1]), "x: 1\\n" * 100_000)
    """
)


def _kill_mid_write(path: Path) -> Path:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline() == "writing\n"  # type: ignore[union-attr]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    (left,) = path.parent.glob(f".{path.name}.*.tmp")
    assert left.name.startswith(f".{path.name}.{proc.pid}.")
    return left


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_writer_killed_mid_write_leaves_a_tmp_the_next_writer_removes(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    with emulate("openai", script=["ok"], cycle=True, require_auth=False):
        with httpx.Client(verify=False) as client, cassette(path, mode="once"):
            client.post(URL, json=_body("first", 0))
    left = _kill_mid_write(path)
    assert left.stat().st_size > 100_000

    # ignored by every command meanwhile
    capsys.readouterr()
    assert cli_main(["cassettes", "list", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 cassette(s)" in out and ".tmp" not in out
    assert cli_main(["cassettes", "scan", str(tmp_path)]) == 0
    assert "no secrets found in 1 file(s)" in capsys.readouterr().out
    log = tmp_path / "used.log"
    log.write_text(f"{path.resolve()}\n")
    assert cli_main(["cassettes", "prune", str(tmp_path), "--log", str(log)]) == 0
    assert "0 unused cassette(s) removed" in capsys.readouterr().out
    assert left.exists()

    with emulate("openai", script=["ok"], cycle=True, require_auth=False):
        with httpx.Client(verify=False) as client, cassette(path, mode="new_episodes"):
            client.post(URL, json=_body("second", 0))
    assert _tags(path) == ["first#0", "second#0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "used.log"]


def test_only_stale_tmp_files_of_this_cassette_are_removed(tmp_path):
    path = tmp_path / "c.yaml"
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        files = {
            "live": tmp_path / f".c.yaml.{alive.pid}.abc123.tmp",
            "dead": tmp_path / f".c.yaml.{gone.pid}.abc123.tmp",
            "old_name_fresh": tmp_path / ".c.yaml.k2j_9x.tmp",
            "old_name_old": tmp_path / ".c.yaml.q1w2e3.tmp",
            "live_but_old": tmp_path / f".c.yaml.{alive.pid}.zzz999.tmp",
            "other_cassette": tmp_path / f".c.yaml.v2.yaml.{gone.pid}.abc.tmp",
            "lock": tmp_path / ".c.yaml.lock",
        }
        for file in files.values():
            file.write_text("partial")
        old = time.time() - STALE_TMP_SECONDS - 60
        for name in ("old_name_old", "live_but_old"):
            os.utime(files[name], (old, old))
        removed = clean_stale_tmp(path)
    finally:
        alive.kill()
        alive.wait()
    assert sorted(p.name for p in removed) == sorted(
        files[name].name for name in ("dead", "old_name_old", "live_but_old")
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        files[name].name for name in ("live", "old_name_fresh", "other_cassette", "lock")
    )
