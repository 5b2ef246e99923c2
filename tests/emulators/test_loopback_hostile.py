"""`myna serve` under load and odd requests (issue 11): every client gets an HTTP answer."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from myna.emulators import LoopbackServer, serve

BODY = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
PATH = "/v1/chat/completions"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serve(script=["Hello there, friend"], cycle=True) as server:
        yield server


def _raw(server: LoopbackServer, data: bytes) -> bytes:
    """Send raw bytes, read until the server closes (each test asks for ``connection: close``)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


def _request(body: bytes, *headers: str) -> bytes:
    lines = [f"POST {PATH} HTTP/1.1", "host: x", "authorization: Bearer k", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_fifty_clients_connecting_at_once_are_all_accepted():
    """The listen backlog holds 50 connections made before the server accepts any."""
    server = serve(script=["Hi"], cycle=True, print_script_errors=False)
    socks, refused = [], 0
    try:
        for _ in range(50):  # the server is listening but not accepting yet
            sock = socket.socket()
            sock.settimeout(0.3)
            try:
                sock.connect(("127.0.0.1", server.port))
            except OSError:
                refused += 1
            socks.append(sock)
        assert refused == 0
    finally:
        for sock in socks:
            sock.close()
        server._server.server_close()


def test_fifty_concurrent_streaming_clients_get_no_errors(server):
    errors: list[BaseException] = []
    texts: list[str] = []
    start = threading.Barrier(50)

    def client() -> None:
        try:
            start.wait(timeout=10)
            with httpx.stream(
                "POST", server.base_url + PATH, json=BODY, headers={"authorization": "Bearer k"}
            ) as response:
                response.raise_for_status()
                texts.append(response.read().decode())
        except Exception as exc:  # counted, then asserted empty
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(texts) == 50 and all("[DONE]" in text for text in texts)


def test_the_request_log_keeps_the_newest_thousand_by_default():
    with serve() as default:
        assert default.app.keep_requests == 1000
    with serve(script=["a", "b", "c", "d", "e"], keep_requests=3) as small:
        with httpx.Client() as client:
            for word in "12345":
                body = {**BODY, "messages": [{"role": "user", "content": word}]}
                client.post(small.base_url + PATH, json=body, headers={"authorization": "Bearer k"})
        assert [r.last_message.text for r in small.requests] == ["3", "4", "5"]
        # the fake behind the server keeps no more calls than the log (memory stays flat)
        assert [c.messages[-1].text for c in small.app.engine.calls] == ["3", "4", "5"]
    with serve(script=["a"] * 3, keep_requests=None) as everything:
        with httpx.Client() as client:
            for _ in range(3):
                client.post(everything.base_url + PATH, json=BODY, headers={"authorization": "k"})
        assert len(everything.requests) == 3


def test_keep_requests_below_one_is_refused():
    with pytest.raises(ValueError, match=r"keep_requests=0 must be >= 1, or None to keep all"):
        serve(keep_requests=0)


def test_a_chunked_request_body_is_read_and_the_next_request_is_not_its_leftovers(server):
    body = json.dumps({**BODY, "stream": False}).encode()
    chunked = b"".join(
        f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for piece in (body[:10], body[10:])
    )
    first = _request(chunked + b"0\r\n\r\n", "transfer-encoding: chunked")
    second = _request(body, f"content-length: {len(body)}", "connection: close")
    out = _raw(server, first + second)
    assert out.count(b"HTTP/1.1 200 OK") == 2, out
    assert b"400" not in out.split(b"\r\n", 1)[0]
    assert [r.status for r in server.requests] == [200, 200]
    assert server.requests[0].body == {**BODY, "stream": False}


@pytest.mark.parametrize("value", ["abc", "-5", "+5"])
def test_a_bad_content_length_gets_a_400_not_a_closed_connection(server, value):
    out = _raw(server, _request(b"{}", f"content-length: {value}"))
    assert out.startswith(b"HTTP/1.1 400 ")
    assert out.endswith(f"myna emulator: bad request: invalid Content-Length {value!r}".encode())
    assert server.requests == []


def test_a_malformed_chunked_body_gets_a_400(server):
    out = _raw(server, _request(b"zz\r\n{}\r\n0\r\n\r\n", "transfer-encoding: chunked"))
    assert out.startswith(b"HTTP/1.1 400 ")
    assert b"invalid chunk size b'zz'" in out


@pytest.mark.parametrize(
    ("path", "error"),
    [
        (
            PATH,
            {
                "message": "The request body is not a JSON object.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            },
        ),
        ("/v1/messages", None),
    ],
    ids=["openai", "anthropic"],
)
def test_a_json_body_nested_100k_deep_gets_a_400_in_the_provider_format(server, path, error):
    body = b'{"model": "m", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    headers = {"authorization": "Bearer k", "x-api-key": "k", "content-type": "application/json"}
    response = httpx.post(server.base_url + path, content=body, headers=headers)
    assert response.status_code == 400
    payload = response.json()
    if error is not None:
        assert payload == {"error": error}
    else:
        assert payload["type"] == "error" and payload["error"]["type"] == "invalid_request_error"
