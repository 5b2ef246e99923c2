"""Atomic writes, one lock per cassette, several processes at once, and the usage log."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from myna.cassettes import CassetteError, load_cassette
from myna.cassettes._store import (
    cassette_lock,
    finish_usage_log,
    note_usage,
    read_usage,
    read_usage_record,
    set_usage_log,
    write_atomic,
)

WRITER = textwrap.dedent(
    """
    import json, sys
    import httpx, respx
    from myna.cassettes import cassette

    path, tag, sessions, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    client = httpx.Client()
    with respx.mock() as router:
        router.post("https://api.test/v1/chat").mock(
            side_effect=lambda r: httpx.Response(200, json={"echo": json.loads(r.content)})
        )
        for s in range(sessions):
            with cassette(path, mode="new_episodes"):
                for i in range(per):
                    client.post("https://api.test/v1/chat", json={"tag": tag, "n": s * per + i})
    """
)


def _pairs(path: Path) -> list[tuple[str, int]]:
    out = []
    for item in load_cassette(path)["interactions"]:
        body = item["request"]["body"]["json"]
        assert item["response"]["body"]["json"]["echo"] == body
        out.append((body["tag"], body["n"]))
    return out


def test_processes_writing_one_cassette_never_lose_or_corrupt_anything(tmp_path):
    shared = tmp_path / "shared.yaml"
    own = {tag: tmp_path / f"{tag}.yaml" for tag in ("solo1", "solo2")}
    sessions, per = 3, 2
    jobs = [
        [sys.executable, "-c", WRITER, str(shared), tag, str(sessions), str(per)]
        for tag in ("w1", "w2", "w3")
    ] + [[sys.executable, "-c", WRITER, str(path), tag, "1", "3"] for tag, path in own.items()]

    seen, problems = [], []
    stop = threading.Event()

    def read_while_writing() -> None:
        while not stop.is_set():
            if shared.exists():
                try:
                    seen.append(len(load_cassette(shared)["interactions"]))
                except CassetteError as exc:  # a half-written file would land here
                    problems.append(str(exc))
            stop.wait(0.002)

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    try:
        procs = [subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True) for cmd in jobs]
        errors = [(p.wait(timeout=120), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    finally:
        stop.set()
        reader.join()
    assert [code for code, _ in errors] == [0] * len(jobs), errors
    assert problems == []
    assert seen == sorted(seen)  # readers only ever see whole, growing files

    pairs = _pairs(shared)
    expected = {(tag, n) for tag in ("w1", "w2", "w3") for n in range(sessions * per)}
    assert len(pairs) == len(expected) and set(pairs) == expected
    for tag in ("w1", "w2", "w3"):  # each writer's requests keep their order
        assert [n for t, n in pairs if t == tag] == list(range(sessions * per))
    for tag, path in own.items():
        assert _pairs(path) == [(tag, n) for n in range(3)]
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_write_atomic_replaces_whole_files_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "c.yaml"
    write_atomic(path, "first\n")
    write_atomic(path, "second\n")
    assert path.read_text() == "second\n"

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, "third\n")
    assert path.read_text() == "second\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["c.yaml"]


def test_the_lock_serialises_threads(tmp_path):
    path = tmp_path / "c.yaml"
    inside, overlaps = [], []

    def work() -> None:
        for _ in range(20):
            with cassette_lock(path):
                if inside:
                    overlaps.append(1)
                inside.append(1)
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []
    assert not list(tmp_path.iterdir())  # no lock file next to the cassette


def test_usage_log(tmp_path, monkeypatch):
    log = tmp_path / "log" / "used.txt"
    note_usage(tmp_path / "ignored.yaml")  # no log configured: nothing happens
    monkeypatch.setenv("MYNA_CASSETTE_LOG", str(log))
    note_usage(tmp_path / "a.yaml")
    assert read_usage(log) == {str((tmp_path / "a.yaml").resolve())}
    set_usage_log(log, reset=True)
    try:
        assert read_usage(log) == set()
        assert read_usage_record(log).status is None  # open until finish_usage_log()
        note_usage(tmp_path / "b.yaml", tmp_path / "c.yaml")
        finish_usage_log(partial="2 test(s) deselected", covers=[tmp_path])
        record = read_usage_record(log)
        assert record.paths == {str((tmp_path / n).resolve()) for n in ("b.yaml", "c.yaml")}
        assert record.status == "partial: 2 test(s) deselected" and record.managed
        assert record.covers == [tmp_path.resolve()]
        finish_usage_log()  # the last run to close the log decides
        assert read_usage_record(log).status == "complete"
    finally:
        set_usage_log(None)
    with pytest.raises(CassetteError, match="Cannot read the cassette usage log"):
        read_usage(tmp_path / "missing.txt")


def test_a_log_folder_myna_creates_ignores_itself_in_git(tmp_path, monkeypatch):
    monkeypatch.setenv("MYNA_CASSETTE_LOG", str(tmp_path / ".myna" / "cassettes-used.log"))
    note_usage(tmp_path / "a.yaml")
    assert (tmp_path / ".myna" / ".gitignore").read_text().splitlines()[-1] == "*"
    mine = tmp_path / "logs"
    mine.mkdir()
    monkeypatch.setenv("MYNA_CASSETTE_LOG", str(mine / "used.log"))
    note_usage(tmp_path / "a.yaml")
    assert sorted(p.name for p in mine.iterdir()) == ["used.log"]  # a folder of yours: as is
