"""AWS Bedrock through the Converse API (``bedrock-runtime``)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar

import httpx

from ..exceptions import MissingAPIKeyError
from ..models import ChatRequest
from ._http import HTTPChatModel, _replayed
from ._transport import async_client, sync_client

__all__ = ["BedrockChatModel"]

_SIGNING_NAME = "bedrock"  # the SigV4 service name of bedrock-runtime
_UNSET = object()


def _find_credentials() -> Any:
    """AWS credentials from botocore's usual chain (env, profile, SSO...), or None.

    None too when botocore is not installed: SigV4 signing is optional.
    """
    try:
        import botocore.session
    except ImportError:
        return None
    try:
        return botocore.session.get_session().get_credentials()
    except Exception:  # a broken profile or config file: no usable credentials
        return None


class _SigV4(httpx.Auth):
    """Signs a request with AWS SigV4 unless it already carries an Authorization header.

    Credentials are looked up once, on the first request that needs them; botocore's
    credential objects refresh themselves when they expire.
    """

    requires_request_body = True

    def __init__(self, region: str, finder: Callable[[], Any] = _find_credentials) -> None:
        self.region = region
        self.finder = finder
        self._credentials: Any = _UNSET

    def credentials(self) -> Any:
        """The credentials, or None when there are none (looked up once per model)."""
        if self._credentials is _UNSET:
            self._credentials = self.finder()
        return self._credentials

    def sign(self, request: httpx.Request) -> None:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = self.credentials().get_frozen_credentials()
        # sign only what no proxy or client rewrites: the host and the content type
        headers = {"content-type": request.headers.get("content-type", "application/json")}
        aws = AWSRequest(
            method=request.method, url=str(request.url), data=request.content, headers=headers
        )
        SigV4Auth(credentials, _SIGNING_NAME, self.region).add_auth(aws)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in aws.headers:
                request.headers[name] = aws.headers[name]

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        if "authorization" not in request.headers and self.credentials() is not None:
            self.sign(request)
        yield request


class _SigningClient:
    """Stands in for the httpx client: forwards `post` / `stream` with SigV4 `auth`.

    The client itself (yours, or the shared one) is looked up on each call, so async calls
    get the client of the running event loop.
    """

    def __init__(self, get_client: Callable[[], Any], auth: _SigV4) -> None:
        self._get_client = get_client
        self._auth = auth

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._get_client().post(url, auth=self._auth, **kwargs)

    def stream(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._get_client().stream(method, url, auth=self._auth, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get_client(), name)


def _region_from_env() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class BedrockChatModel(HTTPChatModel):
    """Models on AWS Bedrock through the Converse API.

    ```python
    model = BedrockChatModel(
        model="anthropic.claude-3-5-haiku-20241022-v1:0", region_name="eu-west-1"
    )  # a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK, or AWS credentials
    ```

    Auth: a Bedrock API key, sent as ``Authorization: Bearer``, from ``api_key=`` or
    ``AWS_BEARER_TOKEN_BEDROCK``; without one, if botocore is installed and finds AWS
    credentials (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, a profile, SSO...), each
    request is signed with SigV4. The region comes from ``region_name=``, ``AWS_REGION`` or
    ``AWS_DEFAULT_REGION`` (default ``us-east-1``); ``base_url=`` (or
    ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``) points at another endpoint, such as a VPC endpoint.
    Streams are AWS binary event streams.
    """

    provider: ClassVar[str] = "bedrock"
    protocol: ClassVar[str] = "bedrock-converse"
    api_key_env: ClassVar[str | None] = "AWS_BEARER_TOKEN_BEDROCK"
    base_url_env: ClassVar[str | None] = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
    extra_params = HTTPChatModel.extra_params | frozenset({"region_name"})
    default_profile: ClassVar[dict[str, Any]] = {
        "tool_calling": True,
        "tool_choice": True,
        "tool_call_streaming": True,
        "structured_output": True,
        "text_inputs": True,
        "image_inputs": True,
        "image_url_inputs": False,
        "pdf_inputs": True,
        "audio_inputs": False,
        "video_inputs": True,
        "reasoning_output": True,
    }

    def __init__(self, **kwargs: Any) -> None:
        self.region_name: str = kwargs.pop("region_name", None) or _region_from_env()
        self._aws_url = f"https://bedrock-runtime.{self.region_name}.amazonaws.com"
        if kwargs.get("base_url") is None and not os.environ.get(self.base_url_env or ""):
            kwargs["base_url"] = self._aws_url
        super().__init__(**kwargs)
        self._signer = _SigV4(self.region_name)
        own_sync, own_async = self.http_client, self.http_async_client

        def sync() -> Any:
            return own_sync or sync_client(proxy=self.proxy, verify=self.verify)

        def asynchronous() -> Any:
            return own_async or async_client(proxy=self.proxy, verify=self.verify)

        self.http_client = _SigningClient(sync, self._signer)  # type: ignore[assignment]
        self.http_async_client = _SigningClient(asynchronous, self._signer)  # type: ignore[assignment]

    @classmethod
    def _example_model(cls) -> str:
        return "anthropic.claude-3-5-haiku-20241022-v1:0"

    def __repr__(self) -> str:
        return f"BedrockChatModel(model={self.model!r}, region_name={self.region_name!r})"

    def _api_key(self) -> str | None:
        key = self.api_key or os.environ.get("AWS_BEARER_TOKEN_BEDROCK")
        if key:
            return key
        if _replayed():
            # botocore's credential chain may ask the EC2 metadata service over the network
            # (blocked in tests, slow elsewhere); a replay is never signed, so never ask
            raise self._missing_key(self.api_key_env)
        if self._signer.credentials() is not None:
            return None  # the request is signed with SigV4 on its way out
        if self.base_url == self._aws_url:
            raise MissingAPIKeyError(
                "No credentials for 'bedrock'. Set AWS_BEARER_TOKEN_BEDROCK (a Bedrock API key) "
                "or pass api_key=...; or install botocore and configure AWS credentials "
                "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile) for SigV4 signing. "
                "In tests use a fake model (init_chat_model('fake:scripted', script=[...])) or "
                "an emulator (myna.emulators.emulate('bedrock', ...)) with api_key='test'."
            )
        return None

    def _url(self, request: ChatRequest, stream: bool) -> str:
        model = request.model or self.model
        return f"{self.base_url}{self.codec.request_path(model, stream=stream)}"

    # -- streams are binary event-stream frames, not SSE -----------------------------------

    def _payloads(self, response: httpx.Response) -> Iterator[Any]:
        codec = self.codec
        decoder = codec.EventStreamDecoder()
        for data in response.iter_bytes():
            for headers, payload in decoder.feed(data):
                yield codec.event_from_frame(headers, payload)

    async def _apayloads(self, response: httpx.Response) -> AsyncIterator[Any]:
        codec = self.codec
        decoder = codec.EventStreamDecoder()
        async for data in response.aiter_bytes():
            for headers, payload in decoder.feed(data):
                yield codec.event_from_frame(headers, payload)
