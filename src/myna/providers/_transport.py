"""Shared httpx clients and the one place httpx errors become myna errors."""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from typing import Any

import httpx

from ..exceptions import ConnectionError, TimeoutError, TransportError

__all__ = ["async_client", "map_transport_errors", "sync_client"]

_lock = threading.RLock()
_ssl_contexts: dict[Any, Any] = {}
_sync_clients: dict[tuple, httpx.Client] = {}
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, httpx.AsyncClient]]
_async_clients = weakref.WeakKeyDictionary()

DEFAULT_TIMEOUT = 60.0


def _key(proxy: str | None, verify: Any) -> tuple:
    return (proxy, verify if isinstance(verify, (bool, str)) else id(verify))


def _ssl_context(verify: Any) -> Any:
    """One SSL context per TLS setting, shared by every client built for it.

    Building a context loads the CA bundle (tens of milliseconds); async clients are built
    once per event loop (a test suite runs many loops), so they reuse the context instead.
    """
    if not isinstance(verify, (bool, str)):
        return verify  # the caller's own ssl.SSLContext
    with _lock:
        context = _ssl_contexts.get(verify)
        if context is None:
            if isinstance(verify, str):
                import ssl

                if os.path.isdir(verify):
                    context = ssl.create_default_context(capath=verify)
                else:
                    context = ssl.create_default_context(cafile=verify)
            else:
                context = httpx.create_ssl_context(verify=verify)
            _ssl_contexts[verify] = context
    return context


def sync_client(*, proxy: str | None = None, verify: Any = True) -> httpx.Client:
    """The process-wide client for this configuration, built on first use.

    Building an httpx client builds an SSL context (tens of milliseconds), so every model
    with the same proxy and TLS settings shares one; timeouts are passed per request.
    """
    key = _key(proxy, verify)
    client = _sync_clients.get(key)
    if client is None or client.is_closed:
        with _lock:
            client = _sync_clients.get(key)
            if client is None or client.is_closed:
                client = httpx.Client(
                    proxy=proxy, verify=_ssl_context(verify), timeout=DEFAULT_TIMEOUT
                )
                _sync_clients[key] = client
    return client


def async_client(*, proxy: str | None = None, verify: Any = True) -> httpx.AsyncClient:
    """Like `sync_client`, one per event loop (async connections belong to their loop)."""
    loop = asyncio.get_running_loop()
    key = _key(proxy, verify)
    per_loop = _async_clients.get(loop)
    if per_loop is not None:  # the common case, without taking the lock
        client = per_loop.get(key)
        if client is not None and not client.is_closed:
            return client
    with _lock:
        per_loop = _async_clients.setdefault(loop, {})
        client = per_loop.get(key)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(
                proxy=proxy, verify=_ssl_context(verify), timeout=DEFAULT_TIMEOUT
            )
            per_loop[key] = client
    return client


class map_transport_errors:
    """Re-raise httpx transport failures as the most specific myna error.

    ```python
    with map_transport_errors("openai", url):
        response = client.post(url, ...)
    ```
    A plain class rather than `contextlib.contextmanager`: it wraps every request, and the
    generator machinery costs several times more.
    """

    __slots__ = ("provider", "url")

    def __init__(self, provider: str, url: str) -> None:
        self.provider = provider
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc is None or not isinstance(exc, httpx.TransportError):
            return False
        provider, url = self.provider, self.url
        if isinstance(exc, httpx.TimeoutException):
            raise TimeoutError(
                f"{provider}: request to {url} timed out ({type(exc).__name__})."
            ) from exc
        if isinstance(
            exc, (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
        ):
            raise ConnectionError(
                f"{provider}: connection to {url} failed: {_describe(exc)}."
            ) from exc
        raise TransportError(
            f"{provider}: transport error talking to {url}: {_describe(exc)}."
        ) from exc


def _describe(exc: BaseException) -> str:
    # some httpx errors carry no message; their class name still says what happened
    return str(exc) or type(exc).__name__
