"""`HTTPChatModel`: a provider is a `ChatModel`, a codec and an httpx transport."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any, ClassVar

import httpx

from ..codecs import get_codec, payload_of
from ..exceptions import (
    DecodeError,
    MissingAPIKeyError,
    MynaError,
    StreamInterruptedError,
    TransportError,
    UserError,
)
from ..messages import AIMessage, AIMessageChunk, merge_chunks
from ..models import ChatModel, ChatRequest
from ._transport import async_client, map_transport_errors, sync_client

__all__ = ["HTTPChatModel"]


_REPLAY_KEY = "myna-replay-no-key"
"""Sent when no key is set and a cassette replays: it never reaches a provider."""


def _replayed() -> bool:
    """Whether an active cassette replays every request made here (so no key is needed).

    Cassettes sit above providers, so this asks `myna.cassettes` only once it is loaded; an
    active cassette has loaded it.
    """
    cassettes = sys.modules.get("myna.cassettes")
    return cassettes is not None and bool(cassettes.replaying())


class HTTPChatModel(ChatModel):
    """Base of the HTTP providers. Subclasses set the class attributes and may override
    `_url` / `_headers` / `_body`.

    Args (besides `ChatModel`'s):
        default_headers: headers sent with every request.
        http_client / http_async_client: your own httpx clients (proxies, custom
            transports); by default clients are shared per proxy/TLS configuration.
        proxy: a proxy URL for the shared client.
        verify: TLS verification (httpx's `verify`).
    """

    protocol: ClassVar[str] = "openai-chat"
    default_base_url: ClassVar[str | None] = None
    api_key_env: ClassVar[str | None] = None
    base_url_env: ClassVar[str | None] = None
    api_key_required: ClassVar[bool] = True
    path: ClassVar[str] = "/chat/completions"
    extra_params = frozenset(
        {"default_headers", "http_client", "http_async_client", "proxy", "verify"}
    )

    def __init__(self, **kwargs: Any) -> None:
        self.default_headers: dict[str, str] = dict(kwargs.pop("default_headers", None) or {})
        self.http_client: httpx.Client | None = kwargs.pop("http_client", None)
        self.http_async_client: httpx.AsyncClient | None = kwargs.pop("http_async_client", None)
        self.proxy: str | None = kwargs.pop("proxy", None)
        self.verify: Any = kwargs.pop("verify", True)
        super().__init__(**kwargs)
        if self.model is None:
            raise UserError(
                f"{type(self).__name__} needs model=, e.g. model='{self._example_model()}'."
            )
        if self.base_url is None and self.base_url_env:
            self.base_url = os.environ.get(self.base_url_env) or None
        if self.base_url is None:
            self.base_url = self.default_base_url
        if self.base_url is None:
            raise UserError(f"{type(self).__name__} needs base_url= (the server's API root).")
        self.base_url = self.base_url.rstrip("/")
        self._codec: ModuleType | None = None

    @classmethod
    def _example_model(cls) -> str:
        return "model-name"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"

    # -- pieces subclasses adjust ---------------------------------------------------------

    @property
    def codec(self) -> ModuleType:
        """The wire-protocol codec module this provider speaks."""
        if self._codec is None:
            self._codec = get_codec(self.protocol)
        return self._codec

    def _api_key(self) -> str | None:
        key = self.api_key or (os.environ.get(self.api_key_env) if self.api_key_env else None)
        if not key and self.api_key_required and self.base_url == self.default_base_url:
            raise self._missing_key(self.api_key_env)
        return key or None

    def _missing_key(self, env: str | None) -> MissingAPIKeyError:
        """The error for a call without a key; `env` names where the key is read from."""
        where = f"Set {env} or pass" if env else "Pass"
        return MissingAPIKeyError(
            f"No API key for {self.provider!r}. {where} api_key=...; in tests use a fake "
            "model (init_chat_model('fake:scripted', script=[...])) or an emulator "
            "(myna.emulators.emulate(...)) so no real key is needed, or replay a cassette "
            "(mode 'none', or 'once' with its file present), which needs no key."
        )

    def _auth_headers(self, key: str | None) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"} if key else {}

    def _request_key(self) -> str | None:
        """The key to send; a placeholder when there is none but a cassette replays."""
        try:
            return self._api_key()
        except MissingAPIKeyError:
            if _replayed():
                return _REPLAY_KEY
            raise

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "user-agent": "myna"}
        headers.update(self._auth_headers(self._request_key()))
        headers.update(self.default_headers)
        return headers

    def _url(self, request: ChatRequest, stream: bool) -> str:
        return f"{self.base_url}{self.path}"

    def _body(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        params = dict(request.params)
        params["stream"] = stream
        if stream:
            params.setdefault("stream_usage", True)
        return self.codec.encode_request(request.messages, params)

    def _timeout(self) -> Any:
        return self.timeout if self.timeout is not None else httpx.USE_CLIENT_DEFAULT

    # -- responses --------------------------------------------------------------------------

    def _error(
        self, response: httpx.Response, body_bytes: bytes, request: ChatRequest
    ) -> MynaError:
        try:
            body: Any = json.loads(body_bytes) if body_bytes else None
        except ValueError:
            body = body_bytes.decode("utf-8", "replace")
        error = self.codec.decode_error(response.status_code, body, dict(response.headers))
        if hasattr(error, "provider"):
            error.provider = self.provider  # the service, not the protocol it speaks
        if getattr(error, "model", None) is None:
            error.model = request.model  # type: ignore[attr-defined]
        return error

    def _decode(self, response: httpx.Response) -> AIMessage:
        try:
            body = response.json()
        except ValueError as exc:
            raise DecodeError(
                f"{self.provider}: response body is not JSON: {response.text[:200]!r}"
            ) from exc
        return self._stamp_provider(self.codec.decode_response(body))

    def _stamp_provider(self, message: Any) -> Any:
        # codecs name their protocol ("openai"); Azure, Groq and the other services speaking
        # it report their own name, as `ChatModel` does for every other model
        meta = message.response_metadata
        if meta and meta.get("model_provider", self.provider) != self.provider:
            meta["model_provider"] = self.provider
        return message

    def _payloads(self, response: httpx.Response) -> Iterator[Any]:
        if self.codec.STREAM_FORMAT == "ndjson":
            for line in response.iter_lines():
                if line.strip():
                    yield payload_of(line)
            return
        from httpx_sse import EventSource

        for event in EventSource(response).iter_sse():
            if event.data:
                yield payload_of(event.data)

    async def _apayloads(self, response: httpx.Response) -> AsyncIterator[Any]:
        if self.codec.STREAM_FORMAT == "ndjson":
            async for line in response.aiter_lines():
                if line.strip():
                    yield payload_of(line)
            return
        from httpx_sse import EventSource

        async for event in EventSource(response).aiter_sse():
            if event.data:
                yield payload_of(event.data)

    def _interrupted(
        self, exc: BaseException, chunks: list[AIMessageChunk]
    ) -> StreamInterruptedError:
        partial = merge_chunks(chunks) if chunks else None
        return StreamInterruptedError(
            f"{self.provider}: the stream was cut off after {len(chunks)} chunk(s): "
            f"{str(exc) or type(exc).__name__}",
            partial=partial,
        )

    # -- ChatModel contract -----------------------------------------------------------------

    def _generate(self, request: ChatRequest) -> AIMessage:
        url = self._url(request, stream=False)
        client = self.http_client or sync_client(proxy=self.proxy, verify=self.verify)
        with map_transport_errors(self.provider, url):
            headers = self._headers()
            response = client.post(
                url, json=self._body(request, False), headers=headers, timeout=self._timeout()
            )
        if response.status_code >= 400:
            raise self._error(response, response.content, request)
        return self._decode(response)

    async def _agenerate(self, request: ChatRequest) -> AIMessage:
        url = self._url(request, stream=False)
        client = self.http_async_client or async_client(proxy=self.proxy, verify=self.verify)
        with map_transport_errors(self.provider, url):
            headers = self._headers()
            response = await client.post(
                url, json=self._body(request, False), headers=headers, timeout=self._timeout()
            )
        if response.status_code >= 400:
            raise self._error(response, response.content, request)
        return self._decode(response)

    def _stream(self, request: ChatRequest) -> Iterator[AIMessageChunk]:
        url = self._url(request, stream=True)
        client = self.http_client or sync_client(proxy=self.proxy, verify=self.verify)
        headers = self._headers()
        body = self._body(request, True)
        chunks: list[AIMessageChunk] = []
        with map_transport_errors(self.provider, url):
            context = client.stream(
                "POST", url, json=body, headers=headers, timeout=self._timeout()
            )
            response = context.__enter__()
        try:
            if response.status_code >= 400:
                with map_transport_errors(self.provider, url):
                    content = response.read()
                raise self._error(response, content, request)
            try:
                for chunk in self.codec.decode_stream(self._payloads(response)):
                    self._stamp_provider(chunk)
                    chunks.append(chunk)
                    yield chunk
            except (httpx.TransportError, TransportError) as exc:
                if isinstance(exc, StreamInterruptedError):
                    raise
                raise self._interrupted(exc, chunks) from exc
        finally:
            context.__exit__(None, None, None)

    async def _astream(self, request: ChatRequest) -> AsyncIterator[AIMessageChunk]:
        url = self._url(request, stream=True)
        client = self.http_async_client or async_client(proxy=self.proxy, verify=self.verify)
        headers = self._headers()
        body = self._body(request, True)
        chunks: list[AIMessageChunk] = []
        payloads: Any = None
        with map_transport_errors(self.provider, url):
            context = client.stream(
                "POST", url, json=body, headers=headers, timeout=self._timeout()
            )
            response = await context.__aenter__()
        try:
            if response.status_code >= 400:
                with map_transport_errors(self.provider, url):
                    content = await response.aread()
                raise self._error(response, content, request)
            # the codec's push decoder runs on the event loop: no thread, no queue
            payloads = self._apayloads(response)
            try:
                async for chunk in self.codec.adecode_stream(payloads):
                    self._stamp_provider(chunk)
                    chunks.append(chunk)
                    yield chunk
            except (httpx.TransportError, TransportError) as exc:
                if isinstance(exc, StreamInterruptedError):
                    raise
                raise self._interrupted(exc, chunks) from exc
        finally:
            if payloads is not None:
                await payloads.aclose()
            await context.__aexit__(None, None, None)
