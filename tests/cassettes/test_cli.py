"""``myna cassettes ...`` commands."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from myna.cassettes import convert_cassette, load_cassette
from myna.cli import main

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real"
DATA = Path(__file__).parent / "data"


@pytest.fixture
def folder(tmp_path):
    convert_cassette(REAL / "anthropic" / "test_prompt.yaml", tmp_path / "prompt.yaml")
    convert_cassette(
        REAL / "openai-responses" / "test_responses_tool_use_streaming.yaml",
        tmp_path / "sub" / "tools.yaml",
    )
    (tmp_path / "notes.yaml").write_text("not: a cassette\n")
    old = time.time() - 3 * 86400
    os.utime(tmp_path / "prompt.yaml", (old, old))
    return tmp_path


def test_list_shows_age_size_interactions_and_provider(folder, capsys):
    assert main(["cassettes", "list", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "prompt.yaml" in out and "tools.yaml" in out and "notes.yaml" not in out
    assert "anthropic" in out and "openai" in out
    assert "3d" in out and "KB" in out
    assert "2 cassette(s)" in out


def test_show_renders_the_conversation(capsys):
    assert main(["cassettes", "show", str(DATA / "anthropic_stream.yaml")]) == 0
    out = capsys.readouterr().out
    assert "#0 POST http://127.0.0.1:9/v1/messages -> 200 (anthropic-messages, stream)" in out
    assert "user: Hi" in out
    assert "ai >> Hello there" in out
    assert "usage: in 4 / out 3 / total 7" in out


def test_show_renders_tool_calls_and_errors(folder, tmp_path, capsys):
    assert main(["cassettes", "show", str(folder / "sub" / "tools.yaml")]) == 0
    out = capsys.readouterr().out
    assert "ai >> -> multiply(" in out
    errors = tmp_path / "err.yaml"
    convert_cassette(REAL / "gemini" / "TestGoogleAIErrorHandling.httprr", errors)
    assert main(["cassettes", "show", str(errors)]) == 0
    assert "error: AuthenticationError:" in capsys.readouterr().out


def test_scan_exits_non_zero_on_a_find_and_names_the_line(folder, capsys):
    assert main(["cassettes", "scan", str(folder)]) == 0
    assert "no secrets found in 3 file(s)" in capsys.readouterr().out
    leaky = folder / "sub" / "tools.yaml"
    lines = leaky.read_text().splitlines()
    lines.insert(8, "      x-api-key: hunter2")
    lines.append("# sk-proj-abcdefghijklmnopqrstuvwxyz123456")
    leaky.write_text("\n".join(lines) + "\n")
    assert main(["cassettes", "scan", str(folder)]) == 1
    out = capsys.readouterr().out
    assert f"{leaky}:{len(lines)}: openai-key" in out
    assert f"{leaky}: interaction 0 request.headers.x-api-key (secret-header)" in out
    assert "remove secrets (myna cassettes scrub PATH)" in out


def test_scrub_rewrites_in_place(folder, capsys):
    path = folder / "prompt.yaml"
    text = path.read_text().replace(
        "text: Two names", "text: key sk-proj-abcdefghijklmnopqrstuvwxyz123456 Two names", 1
    )
    path.write_text(text)
    assert main(["cassettes", "scrub", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: scrubbed 1 interaction(s)" in out and "tools.yaml: clean" in out
    assert "sk-proj" not in path.read_text()
    assert main(["cassettes", "scan", str(folder), "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_prune_removes_cassettes_the_last_run_did_not_use(folder, capsys):
    log = folder / "used.log"
    log.write_text(str((folder / "prompt.yaml").resolve()) + "\n")
    assert main(["cassettes", "prune", str(folder), "--log", str(log), "--dry-run"]) == 0
    assert f"would remove {folder / 'sub' / 'tools.yaml'}" in capsys.readouterr().out
    assert (folder / "sub" / "tools.yaml").exists()
    assert main(["cassettes", "prune", str(folder), "--log", str(log)]) == 0
    assert "1 unused cassette(s) removed" in capsys.readouterr().out
    assert not (folder / "sub" / "tools.yaml").exists()
    assert (folder / "prompt.yaml").exists() and (folder / "notes.yaml").exists()


def test_prune_refuses_without_a_usage_record(folder, capsys):
    empty = folder / "empty.log"
    empty.write_text("")
    assert main(["cassettes", "prune", str(folder), "--log", str(empty)]) == 2
    assert "names no cassette; refusing to prune everything" in capsys.readouterr().err
    assert main(["cassettes", "prune", str(folder), "--log", str(folder / "nope.log")]) == 2
    assert "Cannot read the cassette usage log" in capsys.readouterr().err


def test_convert_writes_ours(tmp_path, capsys):
    assert main(["cassettes", "convert", str(REAL / "ollama" / "TestToolCall.httprr")]) == 2
    assert "convert needs --out-dir DIR" in capsys.readouterr().err
    assert (
        main(
            [
                "cassettes",
                "convert",
                str(REAL / "ollama" / "TestToolCall.httprr"),
                "--out-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "(1 interaction(s))" in capsys.readouterr().out
    assert load_cassette(tmp_path / "TestToolCall.yaml")["interactions"][0]["request"][
        "url"
    ].endswith("/api/chat")
    assert main(["cassettes", "convert", str(tmp_path / "TestToolCall.yaml"), "--in-place"]) == 1
    assert "already a myna cassette" in capsys.readouterr().out


def test_show_renders_recorded_bedrock_traffic(capsys):
    # recorded from the Bedrock emulator: one Converse call and one ConverseStream call,
    # whose binary event-stream body is stored as base64
    assert main(["cassettes", "show", str(DATA / "bedrock_converse.yaml")]) == 0
    out = capsys.readouterr().out
    assert "not a chat API call" not in out
    assert "/converse -> 200 (bedrock-converse, json)" in out
    assert "/converse-stream -> 200 (bedrock-converse, stream)" in out
    assert "user: Hi" in out and "ai >> Hello from Bedrock." in out
    assert "user: Stream please" in out and "ai >> Streamed reply." in out
    assert "usage: in 7 / out 4 / total 11" in out
