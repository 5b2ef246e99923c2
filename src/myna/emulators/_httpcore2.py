"""A respx mocker for httpcore2, the transport under httpx2 (used by the official SDKs).

respx ships mockers for httpx and httpcore; httpx2 clients go through httpcore2, so
registering this mocker (``using="httpcore2"``) lets the same routes answer them.
"""

from __future__ import annotations

from typing import Any

import httpcore2
import httpx
from respx.mocks import AbstractRequestMocker, Mocker
from respx.patterns import parse_url

__all__ = ["HTTPCore2Mocker"]


class _HTTPCore2Mocker(AbstractRequestMocker):
    """Patch httpcore2's connection classes so respx routes answer httpx2 requests."""

    name = "httpcore2" if "httpcore2" not in Mocker.registry else ""
    targets = [
        "httpcore2._sync.connection.HTTPConnection",
        "httpcore2._sync.connection_pool.ConnectionPool",
        "httpcore2._sync.http_proxy.HTTPProxy",
        "httpcore2._async.connection.AsyncHTTPConnection",
        "httpcore2._async.connection_pool.AsyncConnectionPool",
        "httpcore2._async.http_proxy.AsyncHTTPProxy",
    ]
    target_methods = ["handle_request", "handle_async_request"]

    @classmethod
    def prepare_sync_request(cls, httpx_request: httpx.Request, **kwargs: Any) -> Any:
        httpx_request, kwargs = super().prepare_sync_request(httpx_request, **kwargs)
        kwargs["request"].stream = httpx_request.stream
        return httpx_request, kwargs

    @classmethod
    async def prepare_async_request(cls, httpx_request: httpx.Request, **kwargs: Any) -> Any:
        httpx_request, kwargs = await super().prepare_async_request(httpx_request, **kwargs)
        kwargs["request"].stream = httpx_request.stream
        return httpx_request, kwargs

    @classmethod
    def to_httpx_request(cls, **kwargs: Any) -> httpx.Request:
        request = kwargs["request"]
        method = (
            request.method.decode("ascii") if isinstance(request.method, bytes) else request.method
        )
        raw_url = (request.url.scheme, request.url.host, request.url.port, request.url.target)
        return httpx.Request(
            method,
            parse_url(raw_url),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )

    @classmethod
    def from_sync_httpx_response(
        cls, httpx_response: httpx.Response, target: Any, **kwargs: Any
    ) -> Any:
        return httpcore2.Response(
            status=httpx_response.status_code,
            headers=httpx_response.headers.raw,
            content=httpx_response.stream,
            extensions=httpx_response.extensions,
        )

    @classmethod
    async def from_async_httpx_response(
        cls, httpx_response: httpx.Response, target: Any, **kwargs: Any
    ) -> Any:
        return cls.from_sync_httpx_response(httpx_response, target, **kwargs)


# respx registers mockers by name, once per process; if this module is imported a second
# time (pytester's in-process runs restore sys.modules), reuse the class already registered
HTTPCore2Mocker = Mocker.registry["httpcore2"]
