"""The Bedrock provider against the in-process emulator: the real code path, offline."""

from __future__ import annotations

import re

import httpx
import pytest

from myna import init_chat_model
from myna.codecs import bedrock_converse as codec
from myna.emulators import emulate
from myna.exceptions import (
    AuthenticationError,
    DecodeError,
    MissingAPIKeyError,
    OverloadedError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from myna.fakes import fault, tool_call
from myna.messages import AIMessage, HumanMessage, ToolMessage
from myna.providers import BedrockChatModel

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
HOST = "https://bedrock-runtime.us-east-1.amazonaws.com"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    """No AWS settings from the machine, and no instance-metadata lookups for credentials."""
    for name in (
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))


def model(**kwargs):
    kwargs.setdefault("api_key", "test-key")
    return init_chat_model(f"bedrock:{MODEL}", max_retries=0, **kwargs)


def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


# ------------------------------------------------------------------------------- invoke


def test_registered_and_built_from_a_model_string():
    m = model(region_name="eu-west-1")
    assert isinstance(m, BedrockChatModel)
    assert m.model == MODEL
    assert m.base_url == "https://bedrock-runtime.eu-west-1.amazonaws.com"
    assert repr(m) == f"BedrockChatModel(model={MODEL!r}, region_name='eu-west-1')"


def test_region_from_env(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert model().base_url == "https://bedrock-runtime.ap-south-1.amazonaws.com"
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert model().region_name == "us-west-2"


def test_invoke_sync_and_async_share_the_wire():
    import asyncio

    with emulate("bedrock", script=["Hello from Bedrock!", "Again"]) as server:
        reply = model(temperature=0.3, max_tokens=200).invoke(
            [("system", "Be kind."), ("human", "Hi")]
        )
        again = asyncio.run(model().ainvoke("Hi again"))
    assert reply.text == "Hello from Bedrock!"
    assert again.text == "Again"
    assert reply.response_metadata["model_provider"] == "bedrock"
    assert reply.response_metadata["model_name"] == MODEL
    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.usage_metadata["output_tokens"] > 0
    first = server.requests[0]
    assert first.path == "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    assert first.headers["authorization"] == "Bearer test-key"
    assert first.body["system"] == [{"text": "Be kind."}]
    assert first.body["inferenceConfig"] == {"maxTokens": 200, "temperature": 0.3}
    assert first.params["model"] == MODEL
    assert first.last_message.text == "Hi"
    assert server.requests[1].stream is False


def test_bearer_key_from_env(monkeypatch):
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "ABSKenv")
    with emulate("bedrock", script=["ok"]) as server:
        init_chat_model(f"bedrock:{MODEL}").invoke("x")
    assert server.requests[0].headers["authorization"] == "Bearer ABSKenv"


def test_another_region_and_base_url():
    eu = "https://bedrock-runtime.eu-central-1.amazonaws.com"
    with emulate("bedrock", script=["from eu"], base_url=eu) as server:
        assert model(region_name="eu-central-1").invoke("x").text == "from eu"
    assert server.requests[0].url.startswith(eu + "/model/")


# ------------------------------------------------------------------------------- stream


def test_stream_sync():
    with emulate("bedrock", script=["one two three"]) as server:
        chunks = list(model().stream("count"))
    assert [c.text for c in chunks if c.text] == ["one ", "two ", "three"]
    assert chunks[-1].chunk_position == "last"
    merged = sum(chunks[1:], chunks[0])
    assert merged.text == "one two three"
    assert merged.usage_metadata["total_tokens"] > 0
    assert merged.response_metadata["finish_reason"] == "stop"
    assert server.requests[0].path.endswith("/converse-stream")
    assert server.requests[0].stream is True


async def test_stream_async():
    async with emulate("bedrock", script=["alpha beta"]) as server:
        chunks = [c async for c in model().astream("go")]
    assert "".join(c.text for c in chunks) == "alpha beta"
    assert chunks[-1].chunk_position == "last"
    assert server.requests[0].path.endswith("/converse-stream")


def test_the_stream_on_the_wire_is_binary_event_frames():
    with emulate("bedrock", script=["Hi there"]):
        response = httpx.post(
            f"{HOST}/model/{MODEL}/converse-stream",
            json={"messages": [{"role": "user", "content": [{"text": "hi"}]}]},
            headers={"authorization": "Bearer k"},
        )
    assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
    frames = codec.EventStreamDecoder().feed(response.content)
    events = [codec.event_from_frame(h, p) for h, p in frames]
    assert [next(iter(e)) for e in events] == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert all(h[":message-type"] == "event" for h, _ in frames)


# --------------------------------------------------------------------------- tool calls


def test_tool_calls_and_the_follow_up_turn():
    script = [
        [tool_call("get_weather", city="Paris"), tool_call("get_weather", city="Oslo")],
        "Sunny in both.",
    ]
    with emulate("bedrock", script=script) as server:
        bound = model().bind_tools([get_weather])
        first = bound.invoke("Weather in Paris and Oslo?")
        assert [c["args"] for c in first.tool_calls] == [{"city": "Paris"}, {"city": "Oslo"}]
        history = [
            HumanMessage("Weather in Paris and Oslo?"),
            first,
            *[ToolMessage("sunny", tool_call_id=c["id"]) for c in first.tool_calls],
        ]
        final = bound.invoke(history)
    assert final.text == "Sunny in both."
    assert first.response_metadata["finish_reason"] == "tool_calls"
    tools = server.requests[0].body["toolConfig"]["tools"]
    assert tools[0]["toolSpec"]["name"] == "get_weather"
    second = server.requests[1]
    assert (
        second.body["messages"][2]["content"][0]["toolResult"]["toolUseId"]
        == first.tool_calls[0]["id"]
    )
    assert (
        isinstance(second.messages[-1], ToolMessage) and second.messages[-1].name == "get_weather"
    )


async def test_streamed_tool_call_async():
    async with emulate("bedrock", script=[tool_call("get_weather", city="Lima")]):
        chunks = [c async for c in model().bind_tools([get_weather]).astream("Lima?")]
    merged = sum(chunks[1:], chunks[0])
    assert merged.tool_calls[0]["name"] == "get_weather"
    assert merged.tool_calls[0]["args"] == {"city": "Lima"}
    assert len([c for c in chunks if c.tool_call_chunks]) >= 2  # start + argument fragments


def test_structured_output_request():
    from pydantic import BaseModel

    class City(BaseModel):
        name: str

    with emulate("bedrock", script=[{"name": "Paris"}]) as server:
        result = (
            model().with_structured_output(City, method="json_schema").invoke("capital of France?")
        )
    assert result == City(name="Paris")
    assert "outputConfig" in server.requests[0].body


# ------------------------------------------------------------------------------- errors


def test_rate_limit_error_with_retry_after():
    with (
        emulate("bedrock", script=[fault.rate_limit(retry_after=7)]),
        pytest.raises(RateLimitError) as info,
    ):
        model().invoke("x")
    assert info.value.status_code == 429
    assert info.value.retry_after == 7.0
    assert info.value.headers["x-amzn-errortype"].startswith("ThrottlingException")


async def test_overloaded_and_server_errors_async():
    async with emulate("bedrock", script=[fault.overloaded(), fault.server_error()]):
        with pytest.raises(OverloadedError) as overloaded:
            await model().ainvoke("x")
        with pytest.raises(ServerError) as server_error:
            await model().ainvoke("x")
    assert overloaded.value.status_code == 503
    assert server_error.value.status_code == 500


def test_validation_error_from_the_emulator():
    with emulate("bedrock", script=[]) as server, pytest.raises(Exception) as info:
        model().invoke([AIMessage("I speak first")])
    assert "A conversation must start with a user message" in str(info.value)
    assert server.requests[0].status == 400


def test_missing_credentials_names_both_options():
    with pytest.raises(MissingAPIKeyError) as info:
        init_chat_model(f"bedrock:{MODEL}").invoke("x")
    text = str(info.value)
    assert "AWS_BEARER_TOKEN_BEDROCK" in text
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in text
    assert "SigV4" in text


def test_custom_endpoint_without_credentials_sends_no_auth():
    endpoint = "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com"
    with emulate("bedrock", script=[], base_url=endpoint) as server:
        bare = BedrockChatModel(model=MODEL, base_url=endpoint, max_retries=0)
        with pytest.raises(AuthenticationError) as info:
            bare.invoke("x")
    assert "authorization" not in server.requests[0].headers
    assert info.value.status_code == 403
    assert info.value.headers["x-amzn-errortype"].startswith("AccessDeniedException")


def test_disconnect_mid_stream_keeps_the_partial_reply():
    with emulate("bedrock", script=[fault.disconnect(after_chunks=2), "one two three four"]):
        with pytest.raises(StreamInterruptedError) as info:
            list(model().stream("talk"))
    assert info.value.partial is not None
    assert info.value.partial.text == "one two "


async def test_malformed_stream_is_a_decode_error_async():
    async with emulate("bedrock", script=[fault.malformed()]):
        with pytest.raises(DecodeError, match="message CRC mismatch"):
            [c async for c in model().astream("x")]


def test_in_stream_exception_frame_raises():
    frames = codec.encode_event("messageStart", {"role": "assistant"}) + codec.encode_exception(
        "throttlingException", {"message": "Too many tokens, please wait before trying again."}
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": codec.CONTENT_TYPE}, content=frames)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    bedrock = BedrockChatModel(model=MODEL, api_key="k", http_client=client, max_retries=0)
    with pytest.raises(RateLimitError, match="Too many tokens, please wait"):
        list(bedrock.stream("x"))


# -------------------------------------------------------------------------------- SigV4


def _check_signature(request, secret: str) -> None:
    """Recompute the SigV4 signature of a received request with botocore and compare."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    auth = request.headers["authorization"]
    signed = re.search(r"SignedHeaders=([^,]+)", auth).group(1).split(";")
    assert signed == ["content-type", "host", "x-amz-date", "x-amz-security-token"]
    aws = AWSRequest(
        method="POST",
        url=str(request.url),
        data=request.content,
        headers={k: request.headers[k] for k in signed},
    )
    aws.context["timestamp"] = request.headers["x-amz-date"]
    signer = SigV4Auth(Credentials("AKIDTEST", secret, "session-token"), "bedrock", "us-east-1")
    canonical = signer.canonical_request(aws)
    expected = signer.signature(signer.string_to_sign(aws, canonical), aws)
    assert auth.endswith(f"Signature={expected}")


def _aws_env(monkeypatch, secret: str) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")


def _answer(seen: list[httpx.Request]):
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=codec.render_response(AIMessage("signed reply")))

    return handler


def test_sigv4_signing_with_env_credentials(monkeypatch):
    _aws_env(monkeypatch, "wJalrXUtnFEMI")
    with emulate("bedrock", script=["signed reply", "signed stream"]) as server:
        bedrock = init_chat_model(f"bedrock:{MODEL}", max_retries=0)
        assert bedrock.invoke("Hi").text == "signed reply"
        assert "".join(c.text for c in bedrock.stream("Hi")) == "signed stream"
    for record in server.requests:
        auth = record.headers["authorization"]
        assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
        assert "/us-east-1/bedrock/aws4_request" in auth
        assert record.headers["x-amz-security-token"] == "session-token"


def test_sigv4_signature_is_valid_for_the_bytes_sent(monkeypatch):
    _aws_env(monkeypatch, "wJalrXUtnFEMI")
    seen: list[httpx.Request] = []
    client = httpx.Client(transport=httpx.MockTransport(_answer(seen)))
    bedrock = BedrockChatModel(model=MODEL, http_client=client, max_retries=0)
    assert bedrock.invoke("Héllo").text == "signed reply"
    [request] = seen
    assert request.url.raw_path == b"/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    _check_signature(request, "wJalrXUtnFEMI")


async def test_sigv4_signing_async(monkeypatch):
    _aws_env(monkeypatch, "secret2")
    seen: list[httpx.Request] = []
    client = httpx.AsyncClient(transport=httpx.MockTransport(_answer(seen)))
    bedrock = BedrockChatModel(model=MODEL, http_async_client=client, max_retries=0)
    reply = await bedrock.ainvoke("Hi")
    assert reply.text == "signed reply"
    _check_signature(seen[0], "secret2")


def test_a_bearer_key_wins_over_aws_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    with emulate("bedrock", script=["ok"]) as server:
        model(api_key="ABSKkey").invoke("x")
    assert server.requests[0].headers["authorization"] == "Bearer ABSKkey"
    assert "x-amz-date" not in server.requests[0].headers


# ----------------------------------------------------------------------------- loopback


def test_loopback_server_streams_real_binary_frames_over_http():
    from myna.emulators import serve

    with serve("bedrock", script=["over real http", "streamed over http"]) as server:
        bedrock = BedrockChatModel(
            model=MODEL, base_url=server.base_url, api_key="k", max_retries=0
        )
        assert bedrock.invoke("hi").text == "over real http"
        chunks = list(bedrock.stream("hi"))
    assert "".join(c.text for c in chunks) == "streamed over http"
    assert chunks[-1].chunk_position == "last"
    assert [r.path.rsplit("/", 1)[-1] for r in server.requests] == ["converse", "converse-stream"]
