"""`refresh` / ``myna cassettes refresh``, cassette ages and ``[tool.myna] cassette_max_age``."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from myna import init_chat_model
from myna.cassettes import (
    CassetteError,
    arefresh,
    cassette,
    cassette_age,
    cassette_max_age,
    load_cassette,
    parse_age,
    refresh,
)
from myna.cli import main
from myna.emulators import emulate
from myna.exceptions import UserError
from myna.fakes import fault

ENV_KEY = "sk-proj-refreshkey0123456789abcdef"


@pytest.fixture
def recorded(tmp_path, monkeypatch) -> Path:
    """A cassette of two calls (one streamed) recorded through the OpenAI emulator."""
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    path = tmp_path / "chat.yaml"
    with emulate("openai", script=["Old answer.", "Old stream"]), cassette(path, mode="once"):
        llm = init_chat_model("openai:gpt-4.1-mini")
        llm.invoke("Hi")
        list(llm.stream("Stream"))
    return path


def texts(path: Path) -> list[str]:
    out = []
    for item in load_cassette(path)["interactions"]:
        body = item["response"]["body"]
        if "json" in body:
            out.append(body["json"]["choices"][0]["message"]["content"])
        else:
            out.append(
                "".join(
                    (e["data"]["choices"][0]["delta"].get("content") or "")
                    for e in body["sse"]
                    if isinstance(e.get("data"), dict) and e["data"]["choices"]
                )
            )
    return out


def test_refresh_rewrites_the_answers_and_keeps_the_requests(recorded, loopback):
    before = load_cassette(recorded)["interactions"]
    server = loopback(script=["New answer.", "New stream"])
    result = refresh(recorded, base_url=server.base_url)
    assert (result.interactions, result.statuses) == (2, (200, 200))
    assert texts(recorded) == ["New answer.", "New stream"]
    after = load_cassette(recorded)["interactions"]
    assert [i["request"] for i in after] == [i["request"] for i in before]
    # the key went to the server from the environment, and not into the file
    assert [r.headers["authorization"] for r in server.requests] == [f"Bearer {ENV_KEY}"] * 2
    assert ENV_KEY not in recorded.read_text()


async def test_async_refresh(recorded, loopback):
    server = loopback(script=["Async answer.", "Async stream"])
    result = await arefresh(recorded, base_url=server.base_url)
    assert result.statuses == (200, 200)
    assert texts(recorded) == ["Async answer.", "Async stream"]


def test_a_secret_in_the_new_answer_is_never_written(recorded, loopback):
    server = loopback(script=[f"Your key is {ENV_KEY}", "fine"])
    refresh(recorded, base_url=server.base_url)
    text = recorded.read_text()
    assert ENV_KEY not in text
    assert "Your key is REDACTED" in text


def test_an_error_answer_keeps_the_old_file(recorded, loopback):
    old = recorded.read_bytes()
    server = loopback(script=["fine", fault.rate_limit()])
    with pytest.raises(CassetteError, match="answered 429 where the recording has 200"):
        refresh(recorded, base_url=server.base_url)
    assert recorded.read_bytes() == old


async def test_a_dead_server_keeps_the_old_file(recorded, tmp_path):
    old = recorded.read_bytes()
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(CassetteError, match="the old file was kept"):
        refresh(recorded, base_url=dead)
    with pytest.raises(CassetteError, match="the old file was kept"):
        await arefresh(recorded, base_url=dead)
    assert recorded.read_bytes() == old
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".chat")]  # no temp left


def test_live_refresh_needs_the_key(recorded, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    old = recorded.read_bytes()
    with pytest.raises(UserError, match="Set OPENAI_API_KEY"):
        refresh(recorded)
    assert recorded.read_bytes() == old


def test_a_foreign_cassette_is_refused(tmp_path):
    real = Path(__file__).resolve().parents[2] / "cassettes" / "real" / "anthropic"
    source = shutil.copy(real / "test_prompt.yaml", tmp_path / "vcr.yaml")
    with pytest.raises(CassetteError, match="convert it first"):
        refresh(source, base_url="http://127.0.0.1:9")


def test_the_command_refreshes_only_stale_cassettes(recorded, loopback, capsys):
    fresh = recorded.with_name("fresh.yaml")
    shutil.copy(recorded, fresh)
    old = time.time() - 100 * 86400
    os.utime(recorded, (old, old))
    server = loopback(script=["Refreshed.", "Refreshed stream"])
    args = ["cassettes", "refresh", "--older-than", "90d", "--base-url", server.base_url]
    assert main([*args, "--dry-run", str(recorded.parent)]) == 0
    assert "would refresh" in capsys.readouterr().out
    assert main([*args, str(recorded.parent)]) == 0
    out = capsys.readouterr().out
    assert "chat.yaml: refreshed 2 interaction(s) (200, 200)" in out
    assert "fresh.yaml: fresh (0s old by mtime), kept" in out
    assert texts(recorded) == ["Refreshed.", "Refreshed stream"]
    assert texts(fresh) == ["Old answer.", "Old stream"]


def test_the_command_exits_1_when_a_refresh_fails(recorded, loopback, capsys):
    server = loopback(script=[fault.server_error()])
    assert main(["cassettes", "refresh", "--base-url", server.base_url, str(recorded)]) == 1
    assert "the old file was kept" in capsys.readouterr().out
    assert texts(recorded) == ["Old answer.", "Old stream"]


# -- ages ------------------------------------------------------------------------------------


def test_parse_age():
    assert parse_age("90d") == 90 * 86400
    assert parse_age("12h") == 12 * 3600
    assert parse_age("2w") == 14 * 86400
    assert parse_age(30) == 30.0
    with pytest.raises(UserError, match="90d, 12h"):
        parse_age("three months")


def test_list_flags_cassettes_past_the_configured_maximum(recorded, tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.myna]\ncassette_max_age = "30d"\n')
    monkeypatch.chdir(tmp_path)
    assert cassette_max_age() == 30 * 86400
    new = recorded.with_name("new.yaml")
    shutil.copy(recorded, new)
    old = time.time() - 40 * 86400
    os.utime(recorded, (old, old))
    assert main(["cassettes", "list", "."]) == 0
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if line.endswith("chat.yaml\tSTALE")]
    assert row.startswith("40d\t")
    assert next(line for line in out.splitlines() if "new.yaml" in line).endswith("new.yaml\t")
    assert "age from the file time" in out
    assert "1 older than [tool.myna] cassette_max_age (30d)" in out


def test_a_bad_maximum_age_names_the_setting(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.myna]\ncassette_max_age = "soon"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["cassettes", "list", "."]) == 2
    assert "cassette_max_age" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_age_comes_from_git_for_a_committed_unchanged_file(recorded, tmp_path):
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", recorded.name)
    stamp = "2020-01-01T00:00:00+0000"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(
        [
            "git",
            "-C",
            str(tmp_path),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "c",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    seconds, source = cassette_age(recorded)  # the checkout's fresh mtime does not count
    assert source == "git" and seconds > 5 * 365 * 86400
    recorded.write_text(recorded.read_text() + "\n")  # changed since the commit
    assert cassette_age(recorded)[1] == "mtime"
