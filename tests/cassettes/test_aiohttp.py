"""Cassettes with aiohttp clients: record through real sockets (a loopback emulator) and
through `emulate()`, with the stream tee'd chunk by chunk and secrets scrubbed on write; replay
in ``none`` mode offline, one chunk per recorded event; a miss opens no socket."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from myna.cassettes import CassetteMismatch, cassette, load_cassette
from myna.emulators import emulate
from myna.fakes import fault

aiohttp = pytest.importorskip("aiohttp")

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2


def chat(text: str, *, stream: bool = False) -> dict[str, Any]:
    return {"model": "gpt-4.1", "messages": [{"role": "user", "content": text}], "stream": stream}


async def run(base: str) -> list[Any]:
    """A plain call, a stream (each read kept) and a 429, with one aiohttp session."""
    url = base.rstrip("/") + "/v1/chat/completions"
    headers = {"Authorization": f"Bearer {KEY}"}
    out: list[Any] = []
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=chat("Hi"), headers=headers) as response:
            out.append((response.status, (await response.json())["choices"][0]["message"]))
        async with session.post(url, json=chat("Stream", stream=True), headers=headers) as r:
            out.append((r.status, [chunk async for chunk in r.content.iter_any()]))
        async with session.post(url, json=chat("Limited"), headers=headers) as response:
            out.append((response.status, await response.json()))
    return out


SCRIPT = ["Hello over aiohttp", "one two three", fault.rate_limit()]


async def test_record_over_sockets_then_replay_offline(tmp_path: Path, loopback, request):
    server = loopback(SCRIPT)
    path = tmp_path / "aiohttp.yaml"
    with cassette(path, mode="all"):
        live = await run(server.base_url)
    recorded = path.read_text()
    assert KEY not in recorded  # scrubbed on write, as for httpx

    interactions = load_cassette(path)["interactions"]
    assert [i["response"]["status"] for i in interactions] == [200, 200, 429]
    events = interactions[1]["response"]["body"]["sse"]
    assert len(live[1][1]) >= len(events)  # the tee passed the stream on as it arrived

    offline = request.getfixturevalue("offline")  # from here on, no socket may open
    with cassette(path, mode="none") as replaying:
        replayed = await run(server.base_url)
    assert replayed[0] == live[0] and replayed[2] == live[2]
    assert b"".join(replayed[1][1]) == b"".join(live[1][1])
    assert len(replayed[1][1]) == len(events)  # one read per recorded event
    assert replaying.play_counts and offline == []


async def test_record_through_the_emulator_then_replay_without_it(tmp_path: Path, offline):
    path = tmp_path / "emulated.yaml"
    with emulate("openai", SCRIPT) as server, cassette(path, mode="all"):
        live = await run("https://api.openai.com")
    assert len(server.requests) == 3

    with cassette(path, mode="none"):
        replayed = await run("https://api.openai.com")
    assert replayed == live
    assert offline == []


async def test_a_recorded_stream_cut_replays_as_a_cut(tmp_path: Path, offline):
    path = tmp_path / "cut.yaml"
    url = "https://api.openai.com/v1/chat/completions"
    headers = {"Authorization": "Bearer k"}

    async def read_until_cut() -> bytes:
        reads: list[bytes] = []
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=chat("Cut", stream=True), headers=headers) as r:
                with pytest.raises(aiohttp.ClientError):
                    async for chunk in r.content.iter_any():
                        reads.append(chunk)
        return b"".join(reads)

    with emulate("openai", [fault.disconnect(after_chunks=1), "one two three"]):
        with cassette(path, mode="all"):
            live = await read_until_cut()
    assert load_cassette(path)["interactions"][0]["response"]["error"]

    with cassette(path, mode="none"):
        replayed = await read_until_cut()
    assert replayed == live and b'"one "' in replayed and b"three" not in replayed
    assert offline == []


async def test_a_miss_in_none_mode_opens_no_socket(tmp_path: Path, offline):
    path = tmp_path / "miss.yaml"
    with emulate("openai", ["only this"]), cassette(path, mode="all"):
        await run_one("https://api.openai.com", "recorded")

    with pytest.raises(CassetteMismatch, match="no recorded interaction matches"):
        with cassette(path, mode="none"):
            with contextlib.suppress(Exception):  # the cassette reports the miss on exit
                await run_one("https://api.openai.com", "never recorded")
    assert offline == []


async def run_one(base: str, text: str) -> int:
    async with aiohttp.ClientSession() as session:
        url = base + "/v1/chat/completions"
        async with session.post(url, json=chat(text), headers={"Authorization": "Bearer k"}) as r:
            await r.read()
            return r.status


async def test_timing_is_recorded_and_paces_the_replay(tmp_path: Path):
    path = tmp_path / "timed.yaml"
    with emulate("openai", ["a b c"], event_delay=0.02), cassette(path, mode="all", timing=True):
        await run_one_stream()
    timing = load_cassette(path)["interactions"][0]["response"]["timing"]
    assert timing == sorted(timing) and timing[-1] >= 0.04

    loop = asyncio.get_running_loop()
    with cassette(path, mode="none", timing=True):
        started = loop.time()
        await run_one_stream()
        assert loop.time() - started >= timing[-1] * 0.8


async def run_one_stream() -> list[bytes]:
    url = "https://api.openai.com/v1/chat/completions"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, json=chat("S", stream=True), headers={"Authorization": "Bearer k"}
        ) as r:
            return [chunk async for chunk in r.content.iter_any()]


async def test_replayed_headers_non_ascii_and_hostile(tmp_path: Path):
    """A recorded non-ASCII value replays as recorded; a CR/LF put in by hand cannot add a
    header of its own."""
    from myna.cassettes import dump_cassette, new_cassette

    url = "https://api.openai.com/v1/chat/completions"
    interaction = {
        "request": {"method": "POST", "url": url, "headers": {}, "body": {"json": chat("Hi")}},
        "response": {
            "status": 200,
            "headers": {
                "content-type": "application/json",
                "x-note": "café",
                "x-evil": "a\r\nx-injected: b",
            },
            "body": {"json": {"ok": True}},
        },
    }
    path = tmp_path / "headers.yaml"
    path.write_text(dump_cassette(new_cassette([interaction])))
    with cassette(path, mode="none"):
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=chat("Hi")) as response:
                headers, body = response.headers, await response.json()
    assert body == {"ok": True}
    assert headers["x-note"] == "café"
    assert "x-injected" not in headers and headers["x-evil"].startswith("a")


def _tls_context(tmp_path: Path) -> Any:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    import datetime
    import ipaddress
    import ssl

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


async def test_record_over_tls_with_gzip_then_replay_per_event(tmp_path: Path):
    """Recording reads the answer off a TLS connection (the relay takes over its transport);
    the gzip body is stored decoded and replays one event per read."""
    from aiohttp import web

    async def events(request: Any) -> Any:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        response.enable_compression()
        await response.prepare(request)
        for index in range(3):
            await response.write(f"data: {index}\n\n".encode())
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=_tls_context(tmp_path))
    await site.start()
    port = runner.addresses[0][1]
    url = f"https://127.0.0.1:{port}/events"
    path = tmp_path / "tls.yaml"
    try:
        with cassette(path, mode="all"):
            async with aiohttp.ClientSession() as session:
                async with session.post(url, json={"a": 1}, ssl=False) as response:
                    live = b"".join([chunk async for chunk in response.content.iter_any()])
    finally:
        await runner.cleanup()
    recorded = load_cassette(path)["interactions"][0]["response"]
    assert "content-encoding" not in recorded["headers"]
    assert recorded["body"]["sse"] == [{"data": "0"}, {"data": "1"}, {"data": "2"}]

    with cassette(path, mode="none"):
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json={"a": 1}, ssl=False) as response:
                replayed = [chunk async for chunk in response.content.iter_any()]
    assert replayed == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n"]
    assert b"".join(replayed) == live
