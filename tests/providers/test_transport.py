"""Shared httpx clients (built lazily, once per configuration) and transport error mapping."""

from __future__ import annotations

import asyncio
import ssl
import weakref
from typing import Any

import certifi
import httpx
import pytest

from myna import exceptions, init_chat_model
from myna.emulators import emulate, serve
from myna.providers import _transport
from myna.providers._transport import async_client, map_transport_errors, sync_client


@pytest.fixture
def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """Empty client caches, and a record of every httpx client and SSL context built."""
    built: dict[str, list[dict[str, Any]]] = {"sync": [], "async": [], "ssl": []}
    real_sync, real_async, real_ssl = httpx.Client, httpx.AsyncClient, httpx.create_ssl_context

    class CountingClient(real_sync):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built["sync"].append(kwargs)
            super().__init__(*args, **kwargs)

    class CountingAsyncClient(real_async):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built["async"].append(kwargs)
            super().__init__(*args, **kwargs)

    def counting_ssl(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built["ssl"].append(kwargs)
        return real_ssl(*args, **kwargs)

    monkeypatch.setattr(httpx, "Client", CountingClient)
    monkeypatch.setattr(httpx, "AsyncClient", CountingAsyncClient)
    monkeypatch.setattr(httpx, "create_ssl_context", counting_ssl)
    monkeypatch.setattr(_transport, "_sync_clients", {})
    monkeypatch.setattr(_transport, "_async_clients", weakref.WeakKeyDictionary())
    monkeypatch.setattr(_transport, "_ssl_contexts", {})
    return built


# -- shared clients ---------------------------------------------------------------------------------


def test_a_hundred_models_share_one_client(fresh_clients):
    models = [init_chat_model("openai:gpt-4.1-mini", api_key="k") for _ in range(100)]
    models += [init_chat_model("anthropic:claude-haiku-4-5", api_key="k") for _ in range(100)]
    assert fresh_clients["sync"] == []  # building a model builds no client

    with emulate("openai", ["ok"], cycle=True), emulate("anthropic", ["ok"], cycle=True):
        assert all(model.invoke("Hi").text == "ok" for model in models)

    assert len(fresh_clients["sync"]) == 1
    assert len(fresh_clients["ssl"]) == 1


async def test_a_hundred_async_models_share_one_client_per_loop(fresh_clients):
    models = [init_chat_model("openai:gpt-4.1-mini", api_key="k") for _ in range(100)]
    assert fresh_clients["async"] == []

    with emulate("openai", ["ok"], cycle=True):
        replies = await asyncio.gather(*(model.ainvoke("Hi") for model in models))

    assert {r.text for r in replies} == {"ok"}
    assert len(fresh_clients["async"]) == 1
    assert fresh_clients["sync"] == []


def test_event_loops_get_their_own_client_but_share_the_ssl_context(fresh_clients):
    async def grab() -> httpx.AsyncClient:
        return async_client()

    first, second = asyncio.run(grab()), asyncio.run(grab())
    shared = sync_client()

    assert first is not second
    assert len(fresh_clients["async"]) == 2
    assert len(fresh_clients["ssl"]) == 1  # the expensive part is built once
    context = fresh_clients["async"][0]["verify"]
    assert isinstance(context, ssl.SSLContext)
    assert fresh_clients["async"][1]["verify"] is context
    assert fresh_clients["sync"][0]["verify"] is context
    assert shared is sync_client()


def test_one_client_per_proxy_and_tls_setting(fresh_clients):
    plain = sync_client()
    proxied = sync_client(proxy="http://proxy.example.test:3128")
    unverified = sync_client(verify=False)

    assert len({id(plain), id(proxied), id(unverified)}) == 3
    assert sync_client(proxy="http://proxy.example.test:3128") is proxied
    assert fresh_clients["sync"][1]["proxy"] == "http://proxy.example.test:3128"
    assert unverified._transport._pool._ssl_context.verify_mode == ssl.CERT_NONE


def test_a_closed_shared_client_is_rebuilt(fresh_clients):
    client = sync_client()
    client.close()
    assert sync_client() is not client
    assert not sync_client().is_closed


def test_own_ssl_context_and_ca_file(fresh_clients):
    own = ssl.create_default_context()
    assert fresh_clients["sync"] == []
    sync_client(verify=own)
    assert fresh_clients["sync"][0]["verify"] is own

    sync_client(verify=certifi.where())
    from_file = fresh_clients["sync"][1]["verify"]
    assert isinstance(from_file, ssl.SSLContext) and from_file.verify_mode == ssl.CERT_REQUIRED


def test_model_proxy_selects_a_proxied_client(fresh_clients):
    with emulate("openai", ["ok"]):  # respx answers proxied requests too: no network
        model = init_chat_model("openai:gpt-4.1-mini", api_key="k", proxy="http://proxy.test:3128")
        assert model.invoke("Hi").text == "ok"

    assert [kw["proxy"] for kw in fresh_clients["sync"]] == ["http://proxy.test:3128"]


async def test_proxy_is_used_on_the_wire(drive):
    # the loopback emulator doubles as an HTTP proxy: requests reach it in absolute form
    with serve("openai", ["through the proxy", "through the proxy"]) as proxy:
        model = init_chat_model(
            "openai:gpt-4.1-mini",
            api_key="k",
            base_url="http://llm.internal.test/v1",
            proxy=proxy.base_url,
        )
        reply = await drive.invoke(model, "Hi")
        streamed = await drive.merged(model, "Hi")

    assert reply.text == streamed.text == "through the proxy"
    assert [r.url for r in proxy.requests] == ["http://llm.internal.test/v1/chat/completions"] * 2


# -- error mapping ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "expected", "text"),
    [
        (httpx.ReadTimeout("slow"), exceptions.TimeoutError, "timed out (ReadTimeout)"),
        (httpx.ConnectTimeout("slow"), exceptions.TimeoutError, "timed out (ConnectTimeout)"),
        (httpx.ConnectError("refused"), exceptions.ConnectionError, "failed: refused"),
        (httpx.RemoteProtocolError("cut"), exceptions.ConnectionError, "failed: cut"),
        (httpx.ReadError(""), exceptions.ConnectionError, "failed: ReadError"),
        (httpx.UnsupportedProtocol("ftp"), exceptions.TransportError, "transport error"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else None,
)
def test_transport_errors_become_myna_errors(raised, expected, text):
    with pytest.raises(expected) as caught:
        with map_transport_errors("openai", "https://api.openai.com/v1/chat/completions"):
            raise raised

    assert type(caught.value) is expected
    assert caught.value.__cause__ is raised
    message = str(caught.value)
    assert message.startswith("openai: ")
    assert "https://api.openai.com/v1/chat/completions" in message
    assert text in message


def test_other_errors_pass_through():
    with pytest.raises(KeyError):
        with map_transport_errors("openai", "u"):
            raise KeyError("not a transport problem")


def test_connection_refused_is_a_retryable_connection_error(unused_tcp_port):
    model = init_chat_model(
        "openai:m", base_url=f"http://127.0.0.1:{unused_tcp_port}/v1", max_retries=0
    )
    with pytest.raises(exceptions.ConnectionError) as caught:
        model.invoke("Hi")
    assert caught.value.retryable
    assert f"connection to http://127.0.0.1:{unused_tcp_port}/v1/chat/completions failed" in str(
        caught.value
    )
