"""The official `google-genai` SDK (on httpx2) against the Gemini emulator: generate_content,
generate_content_stream, function calls and errors, sync (``client.models``) and async
(``client.aio.models``). The SDK reaches the emulator at its default host through `emulate`,
or at any URL through ``http_options=HttpOptions(base_url=...)`` (the loopback server)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from google import genai
from google.genai import errors, types

from myna.emulators import emulate, serve
from myna.fakes import fault, tool_call

MODEL = "gemini-2.5-flash"
WEATHER = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="Current weather in a city.",
            parameters_json_schema={
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        )
    ]
)


@functools.cache
def client() -> genai.Client:
    """One client for the module (each builds SSL contexts); ``.aio`` is its async face.
    One attempt per call, whatever the SDK's default retries: each test scripts every reply."""
    return genai.Client(
        api_key="g-test",
        http_options=types.HttpOptions(retry_options=types.HttpRetryOptions(attempts=1)),
    )


def models(mode: str) -> Any:
    return client().models if mode == "sync" else client().aio.models


async def stream(mode: str, **kwargs: Any) -> list[Any]:
    if mode == "sync":
        return list(client().models.generate_content_stream(**kwargs))
    return [chunk async for chunk in await client().aio.models.generate_content_stream(**kwargs)]


async def test_generate_content(mode, call):
    with emulate("google_genai", ["Hello from the emulator."]) as server:
        response = await call(
            models(mode).generate_content(
                model=MODEL,
                contents="Hi",
                config=types.GenerateContentConfig(system_instruction="Be brief.", temperature=0.2),
            )
        )

    assert response.text == "Hello from the emulator."
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    (request,) = server.requests
    assert request.headers["x-goog-api-key"] == "g-test"
    assert request.path.endswith(f"/models/{MODEL}:generateContent")
    assert [m.type for m in request.messages] == ["system", "human"]
    assert request.params["temperature"] == 0.2


async def test_generate_content_stream(mode):
    with emulate("google_genai", ["one two three"]) as server:
        chunks = await stream(mode, model=MODEL, contents="Count")

    assert [c.text for c in chunks] == ["one ", "two ", "three"]
    assert chunks[-1].usage_metadata.candidates_token_count > 0
    assert server.requests[0].url.endswith(f"/models/{MODEL}:streamGenerateContent?alt=sse")
    assert server.requests[0].stream is True


async def test_function_calls_round_trip(mode, call):
    with emulate("google_genai", [tool_call("get_weather", city="Paris"), "Sunny."]) as server:
        config = types.GenerateContentConfig(tools=[WEATHER])
        first = await call(
            models(mode).generate_content(model=MODEL, contents="Weather?", config=config)
        )
        (fn,) = first.function_calls
        assert (fn.name, fn.args) == ("get_weather", {"city": "Paris"})
        history = [
            types.Content(role="user", parts=[types.Part.from_text(text="Weather?")]),
            first.candidates[0].content,
            types.Content(
                role="user",
                parts=[
                    types.Part.from_function_response(
                        name="get_weather", response={"result": "sunny"}
                    )
                ],
            ),
        ]
        final = await call(
            models(mode).generate_content(model=MODEL, contents=history, config=config)
        )

    assert final.text == "Sunny."
    assert server.requests[0].params["tools"][0]["name"] == "get_weather"
    echoed = server.requests[1].messages
    assert echoed[1].tool_calls[0]["args"] == {"city": "Paris"}
    assert echoed[2].type == "tool" and "sunny" in echoed[2].text


async def test_streamed_function_call(mode):
    with emulate("google_genai", [tool_call("get_weather", city="Oslo")]):
        chunks = await stream(
            mode,
            model=MODEL,
            contents="Weather?",
            config=types.GenerateContentConfig(tools=[WEATHER]),
        )
    calls = [fc for c in chunks for fc in (c.function_calls or [])]
    assert [(fc.name, fc.args) for fc in calls] == [("get_weather", {"city": "Oslo"})]


async def test_structured_output(mode, call):
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    with emulate("google_genai", [{"name": "Paris"}]) as server:
        response = await call(
            models(mode).generate_content(
                model=MODEL,
                contents="Capital of France?",
                config=types.GenerateContentConfig(
                    response_mime_type="application/json", response_json_schema=schema
                ),
            )
        )
    assert response.parsed == {"name": "Paris"}
    assert response.text == '{"name": "Paris"}'
    assert server.requests[0].params["response_format"]["type"] == "json_schema"


@pytest.mark.parametrize(
    ("scripted", "code", "status"),
    [
        (fault.rate_limit(retry_after=4), 429, "RESOURCE_EXHAUSTED"),
        (fault.server_error(), 500, "INTERNAL"),
    ],
    ids=["rate_limit", "server_error"],
)
async def test_status_errors(mode, call, scripted, code, status):
    # myna controls the status and the error body on the wire; which APIError subclass the
    # SDK maps a status to is the SDK's choice
    with emulate("google_genai", [scripted]) as server:
        with pytest.raises(errors.APIError) as caught:
            await call(models(mode).generate_content(model=MODEL, contents="Hi"))

    assert [r.status for r in server.requests] == [code]
    assert caught.value.code == code
    assert caught.value.status == status
    if code == 429:
        # as the API does, the RetryInfo follows the quota's Help and QuotaFailure details
        details = caught.value.details["error"]["details"]
        retry = [d for d in details if d["@type"].endswith("google.rpc.RetryInfo")]
        assert retry[0]["retryDelay"] == "4s"


@pytest.mark.parametrize(
    "scripted", [fault.timeout(), fault.disconnect()], ids=["timeout", "disconnect"]
)
async def test_transport_errors(mode, call, sdk_error, scripted):
    # the emulator answers nothing (a read timeout, a dropped connection); this SDK passes
    # the transport's error through today, but how it reports that is its own choice
    with emulate("google_genai", [scripted]) as server:
        with sdk_error():
            await call(models(mode).generate_content(model=MODEL, contents="Hi"))

    (request,) = server.requests
    assert request.reply is None


async def test_a_keyless_request_is_refused_like_the_api(mode, call):
    with emulate("google_genai", []):
        keyless = genai.Client(
            api_key="unused", http_options=types.HttpOptions(headers={"x-goog-api-key": ""})
        )
        target = keyless.models if mode == "sync" else keyless.aio.models
        with pytest.raises(errors.APIError) as caught:
            await call(target.generate_content(model=MODEL, contents="Hi"))
    assert caught.value.code == 403
    assert caught.value.status == "PERMISSION_DENIED"


async def test_base_url_through_http_options_reaches_the_loopback_server(mode, call):
    with serve("google_genai", ["via loopback", "a b"]) as server:
        local = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=server.base_url))
        target = local.models if mode == "sync" else local.aio.models
        response = await call(target.generate_content(model=MODEL, contents="Hi"))
        if mode == "sync":
            texts = [
                c.text for c in local.models.generate_content_stream(model=MODEL, contents="Hi")
            ]
        else:
            texts = [
                c.text
                async for c in await local.aio.models.generate_content_stream(
                    model=MODEL, contents="Hi"
                )
            ]

    assert response.text == "via loopback"
    assert texts == ["a ", "b"]
    assert [r.url.startswith(server.base_url) for r in server.requests] == [True, True]
