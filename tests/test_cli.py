"""The ``myna`` command line: ``myna serve`` as a real subprocess, and argument handling."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from myna import init_chat_model
from myna.cli import build_parser, main
from myna.exceptions import RateLimitError

MAIN = "import sys; from myna.cli import main; sys.exit(main())"


def first_line(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    """The first stdout line of `proc`, or a failure naming its stderr."""
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not box or not box[0]:
        proc.kill()
        raise AssertionError(f"myna serve printed no URL; stderr: {proc.stderr.read()!r}")
    return box[0].strip()


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(
        "replies:\n"
        "  - tool_call: {name: get_weather, args: {city: Paris}}\n"
        '  - "It is sunny in Paris."\n'
        "  - fault: {kind: rate_limit, retry_after: 9}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def served(script: Path) -> Iterator[str]:
    """``myna serve openai`` in a subprocess; yields its base URL, then stops it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN, "serve", "openai", "--script", str(script), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield first_line(proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return "sunny"


def test_serve_prints_its_base_url_and_answers_clients(served):
    assert served.startswith("http://127.0.0.1:")
    port = int(served.rsplit(":", 1)[1])
    assert port > 0

    model = init_chat_model(
        "openai:gpt-4.1-mini", api_key="k", base_url=served + "/v1", max_retries=0
    ).bind_tools([get_weather])
    first = model.invoke("Weather in Paris?")
    assert first.tool_calls[0]["args"] == {"city": "Paris"}

    # a plain HTTP client (any language) sees the same API; a stream arrives chunked
    body = {
        "model": "gpt-4.1-mini",
        "messages": [{"role": "user", "content": "And?"}],
        "stream": True,
    }
    with httpx.Client() as client:
        with client.stream(
            "POST",
            served + "/v1/chat/completions",
            json=body,
            headers={"authorization": "Bearer k"},
        ) as response:
            assert response.headers["transfer-encoding"] == "chunked"
            lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert "sunny" in "".join(lines)

    with pytest.raises(RateLimitError) as caught:
        model.invoke("Again?")
    assert caught.value.retry_after == 9.0


def run_main(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run ``main(argv)`` with the server replaced by a recorder."""
    seen: dict[str, Any] = {}

    class Recorder:
        base_url = "http://127.0.0.1:9"

        def serve_forever(self) -> None:
            seen["served"] = True

        def stop(self) -> None:
            seen["stopped"] = True

    def fake_serve(provider: str, script: list[Any], **options: Any) -> Recorder:
        seen.update(provider=provider, script=script, options=options)
        return Recorder()

    monkeypatch.setattr("myna.emulators.serve", fake_serve)
    seen["rc"] = main(argv)
    return seen


def test_serve_options_reach_the_server(monkeypatch, capsys, script):
    seen = run_main(
        [
            "serve",
            "anthropic",
            "--script",
            str(script),
            "--port",
            "8123",
            "--cycle",
            "--chunking",
            "3",
            "--no-auth",
            "--event-delay",
            "0.25",
        ],
        monkeypatch,
    )

    assert seen["rc"] == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "http://127.0.0.1:9"  # the first line: the base URL alone
    assert 'anthropic.Anthropic(base_url="http://127.0.0.1:9"' in out
    assert seen["provider"] == "anthropic"
    assert len(seen["script"]) == 3
    assert seen["options"] == {
        "host": "127.0.0.1",
        "port": 8123,
        "cycle": True,
        "chunking": 3,
        "require_auth": False,
        "event_delay": 0.25,
        "verbose": False,
    }
    assert seen["served"] and seen["stopped"]


def test_serve_without_a_script_starts_empty(monkeypatch, capsys):
    seen = run_main(["serve", "ollama", "--chunking", "chars"], monkeypatch)
    assert seen["script"] == []
    assert seen["options"]["chunking"] == "chars"
    assert seen["options"]["require_auth"] is True


def test_unknown_provider_is_refused(capsys):
    assert main(["serve", "opnai"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("myna: Unknown provider 'opnai' for 'myna serve'. Did you mean 'openai'?")


def test_missing_script_file_is_refused(capsys, tmp_path):
    missing = tmp_path / "nope.yaml"
    assert main(["serve", "openai", "--script", str(missing)]) == 2
    assert capsys.readouterr().err == f"myna: Script file {str(missing)!r} does not exist.\n"


def test_bad_script_entry_is_refused(capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("replies:\n  - fault: {kind: meteor}\n", encoding="utf-8")
    assert main(["serve", "openai", "--script", str(path)]) == 2
    assert "unknown fault 'meteor'" in capsys.readouterr().err


def test_help_lists_serve(capsys):
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["serve", "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "--script" in out and "--port" in out and "--no-auth" in out


def test_serve_prints_script_errors_to_stderr_by_default(script):
    # the script's first reply calls get_weather; a request binding no tools is a script
    # error: the client gets a 400 it may swallow, so the server says it too, unasked
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN, "serve", "openai", "--script", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = first_line(proc)
        body = {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "Hi"}]}
        response = httpx.post(
            url + "/v1/chat/completions", json=body, headers={"authorization": "Bearer k"}
        )
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(proc.stderr.readline()), daemon=True)
        reader.start()
        reader.join(20.0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith(
        "myna emulator script error: FakeChatModel reply #1 calls tool 'get_weather', but no "
        "tools are bound."
    )
    assert box == [f"POST /v1/chat/completions -> 400 {message}\n"]
