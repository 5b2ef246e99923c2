"""Hostile or unusual cassettes (issue 11): refused with a clear error, never a crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from myna.cassettes import CassetteError, dump_cassette, load_cassette, new_cassette

LOL = ", ".join(['"lol"'] * 9)
ALIAS_BOMB = "\n".join(
    [
        "version: 1",
        "recorded_with: myna 0.1.0",
        "interactions:",
        "- request:",
        "    method: POST",
        "    url: https://api.openai.com/v1/chat/completions",
        "    headers: {}",
        "    body:",
        "      json:",
        f"        a0: &a0 [{LOL}]",
        *(f"        a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)),
        "  response:",
        "    status: 200",
        "    headers: {}",
        "    body:",
        "      json: {ok: true}",
        "",
    ]
)
"""Ten lines of anchors: 9**10 (3.5 billion) strings once every alias is followed."""

# Run in a child with 1 GiB of address space and a timeout, so that if the cap regresses the
# test fails instead of taking the machine's memory with it.
_CHILD = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    import httpx
    from myna.cassettes import CassetteError, cassette, load_cassette
    from myna.cli import main

    path = sys.argv[1]
    try:
        load_cassette(path)
    except CassetteError as exc:
        print("load:", exc)
    try:
        with cassette(path, mode="none"):
            httpx.post("https://api.openai.com/v1/chat/completions", json={})
    except CassetteError as exc:
        print("replay:", exc)
    print("scan:", main(["cassettes", "scan", path]))
    """
)


def test_an_alias_bomb_is_refused_naming_the_file_and_memory_stays_bounded(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    message = (
        f"{path}: cassette uses 81 YAML aliases copying 4,412,961,486 nodes (the limit "
        "is 10,000); myna "
        "cassettes are written without aliases: this file was edited or is hostile. Restore "
        "it from version control or re-record it."
    )
    lines = done.stdout.splitlines()
    assert f"load: {message}" in lines
    assert f"replay: {message}" in lines
    assert "scan: 1" in lines  # a file that does not load cannot be vouched for
    assert f"{path}: not checked, it does not load as a cassette: {message}" in lines


def test_a_few_aliases_in_a_hand_edited_cassette_still_load(tmp_path: Path):
    text = dump_cassette(new_cassette()).replace("interactions: []", "") + textwrap.dedent(
        """\
        interactions:
        - request:
            method: POST
            url: https://x.test/v1/chat/completions
            headers: &h {content-type: application/json}
            body: {json: {model: m}}
          response:
            status: 200
            headers: *h
            body: {json: {ok: true}}
        """
    )
    path = tmp_path / "edited.yaml"
    path.write_text(text)
    loaded = load_cassette(path)
    assert loaded["interactions"][0]["response"]["headers"] == {"content-type": "application/json"}


def test_the_alias_cap_is_a_cassette_error(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    with pytest.raises(CassetteError, match="81 YAML aliases"):
        load_cassette(path)


@pytest.fixture
def raw_server():
    """A server answering every request with `raw` header lines (bytes, sent as they are)."""
    import socketserver
    import threading

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            body = b'{"ok": true}'
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                + b"".join(line + b"\r\n" for line in self.server.raw)  # type: ignore[attr-defined]
                + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                + body
            )

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "raw", [b"x-note: caf\xc3\xa9", b"x-note: caf\xe9"], ids=["utf-8", "latin-1"]
)
async def test_a_non_ascii_response_header_records_and_replays(raw_server, raw, tmp_path, request):
    import httpx

    from myna.cassettes import cassette

    raw_server.raw = [raw]
    url = f"http://127.0.0.1:{raw_server.server_address[1]}/v1/chat/completions"
    path = tmp_path / "note.yaml"
    with cassette(path, mode="once"):
        recorded = httpx.post(url, json={"q": 1})
    assert recorded.headers["x-note"] == "café"
    assert load_cassette(path)["interactions"][0]["response"]["headers"]["x-note"] == "café"

    request.getfixturevalue("offline")
    with cassette(path, mode="none"):
        replayed = httpx.post(url, json={"q": 1})
    async with cassette(path, mode="none"):
        async with httpx.AsyncClient() as client:
            areplayed = await client.post(url, json={"q": 1})
    for response in (replayed, areplayed):
        assert response.headers["x-note"] == "café"
        assert response.json() == {"ok": True}
