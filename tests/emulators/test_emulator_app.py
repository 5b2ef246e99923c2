"""`EmulatorApp.handle`: the pure request -> response core shared by emulate() and serve()."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from myna.codecs import get_codec
from myna.emulators import EmulatedResponse, EmulatorApp, protocol_for_path
from myna.exceptions import (
    BadRequestError,
    DecodeError,
    InvalidToolCallError,
    ScriptExhaustedError,
    StreamInterruptedError,
)
from myna.fakes import fault, tool_call
from myna.messages import AIMessage, merge_chunks

AUTH = {"authorization": "Bearer k", "x-api-key": "k", "x-goog-api-key": "k"}

# protocol -> (url, minimal valid body)
ENDPOINTS: dict[str, tuple[str, dict[str, Any]]] = {
    "openai-chat": (
        "https://api.openai.com/v1/chat/completions",
        {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hi"}]},
    ),
    "openai-responses": (
        "https://api.openai.com/v1/responses",
        {"model": "gpt-4.1", "input": "Hi"},
    ),
    "anthropic-messages": (
        "https://api.anthropic.com/v1/messages",
        {"model": "claude-x", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]},
    ),
    "gemini": (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
    ),
    "ollama": (
        "http://localhost:11434/api/chat",
        {"model": "llama3", "messages": [{"role": "user", "content": "Hi"}], "stream": False},
    ),
}


def streaming(protocol: str) -> tuple[str, dict[str, Any]]:
    url, body = ENDPOINTS[protocol]
    body = dict(body)
    if protocol == "gemini":
        return url.replace(":generateContent", ":streamGenerateContent?alt=sse"), body
    body["stream"] = True
    return url, body


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def post(
    app: EmulatorApp, url: str, body: Any, headers: dict[str, str] | None = None
) -> EmulatedResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return app.handle("POST", url, dict(AUTH if headers is None else headers), raw)


def payloads(protocol: str, events: list[bytes]) -> list[Any]:
    """The JSON payloads of SSE or NDJSON events, as a client parses them."""
    out: list[Any] = []
    for event in events:
        for line in event.decode().splitlines():
            if get_codec(protocol).STREAM_FORMAT == "ndjson":
                out.append(json.loads(line))
            elif line.startswith("data: "):
                data = line[len("data: ") :]
                out.append(data if data == "[DONE]" else json.loads(data))
    return out


@pytest.fixture(params=sorted(ENDPOINTS))
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


# -- routing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/chat/completions", "openai-chat"),
        ("/openai/deployments/gpt-4o/chat/completions", "openai-chat"),
        ("/v1/responses", "openai-responses"),
        ("/v1/messages", "anthropic-messages"),
        ("/v1beta/models/gemini-2.5-flash:generateContent", "gemini"),
        ("/v1beta/models/gemini-2.5-flash:streamGenerateContent", "gemini"),
        ("/api/chat", "ollama"),
        ("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse", "bedrock-converse"),
        ("/model/amazon.nova-lite-v1%3A0/converse-stream", "bedrock-converse"),
        ("/v1/embeddings", None),
    ],
)
def test_protocol_for_path(path, expected):
    assert protocol_for_path(path) == expected


def test_unknown_path_is_a_404_naming_it():
    app = EmulatorApp(["unused"])
    response = post(app, "https://api.openai.com/v1/embeddings", {"input": "x"})

    assert response.status == 404
    assert json.loads(response.body) == {
        "error": {"message": "myna emulator: no API at /v1/embeddings"}
    }
    assert app.requests[0].protocol is None and app.requests[0].status == 404


def test_wrong_method_is_rejected(protocol):
    url, _ = ENDPOINTS[protocol]
    response = EmulatorApp().handle("GET", url, AUTH, b"")

    assert response.status == 405
    assert "Invalid method for URL (GET " in response.body.decode()


# -- validation like the real APIs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "status", "message"),
    [
        ("openai-chat", 401, "You didn't provide an API key."),
        ("openai-responses", 401, "You didn't provide an API key."),
        ("anthropic-messages", 401, "x-api-key header is required"),
        ("gemini", 403, "Method doesn't allow unregistered callers"),
    ],
)
def test_requests_without_credentials_are_refused(protocol, status, message):
    url, body = ENDPOINTS[protocol]
    app = EmulatorApp(["unused"])
    response = post(app, url, body, headers={})

    assert response.status == status
    assert message in response.body.decode()
    assert app.engine.remaining == 1  # the script is untouched


def test_bedrock_without_credentials_is_refused_like_aws():
    url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-lite-v1%3A0/converse"
    body = {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}
    app = EmulatorApp(["ok"])
    response = post(app, url, body, headers={})
    assert response.status == 403
    assert "Missing Authentication Token" in response.body.decode()
    assert post(app, url, body).status == 200


def test_azure_paths_get_azures_message():
    url = "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=1"
    response = post(EmulatorApp(), url, ENDPOINTS["openai-chat"][1], headers={})
    assert response.status == 401
    assert "Access denied due to missing subscription key" in response.body.decode()


def test_gemini_accepts_a_key_in_the_query_and_ollama_needs_none():
    url, body = ENDPOINTS["gemini"]
    app = EmulatorApp(["a", "b"])
    assert post(app, url + "?key=k", body, headers={}).status == 200
    assert post(app, *ENDPOINTS["ollama"], headers={}).status == 200


def test_require_auth_false_accepts_keyless_requests(protocol):
    app = EmulatorApp(["ok"], require_auth=False)
    assert post(app, *ENDPOINTS[protocol], headers={}).status == 200


def test_body_that_is_not_json_is_a_400(protocol):
    url, _ = ENDPOINTS[protocol]
    response = post(EmulatorApp(), url, b"this is not json")
    assert response.status == 400
    assert "The request body is not a JSON object." in response.body.decode()


@pytest.mark.parametrize(
    ("protocol", "body", "message"),
    [
        ("openai-chat", {"model": "gpt-4.1", "messages": []}, "Invalid 'messages': empty array."),
        (
            "anthropic-messages",
            {"model": "claude-x", "messages": [{"role": "user", "content": "Hi"}]},
            "max_tokens: Field required",
        ),
        ("ollama", {"messages": [{"role": "user", "content": "Hi"}]}, "model is required"),
    ],
)
def test_invalid_requests_get_the_apis_400(protocol, body, message):
    app = EmulatorApp(["unused"])
    response = post(app, ENDPOINTS[protocol][0], body)

    assert response.status == 400
    assert message in response.body.decode()
    assert app.engine.remaining == 1


# -- replies ----------------------------------------------------------------------------------------


def test_a_reply_is_recorded_with_the_decoded_request(protocol):
    app = EmulatorApp(["Hello!"])
    response = post(app, *ENDPOINTS[protocol])

    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    message = get_codec(protocol).decode_response(json.loads(response.body))
    assert message.text == "Hello!"
    (record,) = app.requests
    assert record.status == 200
    assert record.protocol == protocol
    assert record.stream is False
    assert record.last_message.text == "Hi"
    assert record.reply.text == "Hello!"
    assert "-> 200 last='Hi'" in repr(record)


def test_a_stream_is_rendered_event_by_event(protocol):
    app = EmulatorApp(["one two three"])
    response = post(app, *streaming(protocol))

    assert response.status == 200
    kind = "application/x-ndjson" if protocol == "ollama" else "text/event-stream"
    assert response.headers["content-type"] == kind
    assert response.events and len(response.events) >= 3
    assert response.cut_after is None
    chunks = list(get_codec(protocol).decode_stream(payloads(protocol, response.events)))
    assert merge_chunks(chunks).text == "one two three"
    assert app.requests[0].stream is True


def test_named_sse_events_for_protocols_that_use_them():
    response = post(EmulatorApp(["hi"]), *streaming("anthropic-messages"))
    assert response.events[0].startswith(b"event: message_start\ndata: {")


@pytest.mark.parametrize(
    ("after", "partial"), [(1, "one "), (2, "one two "), (3, "one two three ")]
)
def test_disconnect_cuts_after_n_pieces_of_the_reply(protocol, after, partial):
    app = EmulatorApp([fault.disconnect(after_chunks=after), "one two three four"])
    response = post(app, *streaming(protocol))

    sent = response.events[: response.cut_after]
    chunks: list[Any] = []
    with pytest.raises(StreamInterruptedError):  # no closing event: the client sees a cut
        for chunk in get_codec(protocol).decode_stream(payloads(protocol, sent)):
            chunks.append(chunk)
    assert merge_chunks(chunks).text == partial


def test_disconnect_after_more_pieces_than_the_reply_has_keeps_the_whole_text(protocol):
    app = EmulatorApp([fault.disconnect(after_chunks=50), "one two"])
    response = post(app, *streaming(protocol))

    sent = payloads(protocol, response.events[: response.cut_after])
    chunks: list[Any] = []
    try:
        for chunk in get_codec(protocol).decode_stream(sent):
            chunks.append(chunk)
    except StreamInterruptedError:
        pass
    assert merge_chunks(chunks).text == "one two"
    if protocol == "gemini":
        # Gemini's last content event is also its closing one: every event goes out, and
        # the transport drops the connection instead of ending the body (test_intercept.py)
        assert response.cut_after == len(response.events)
    else:
        assert response.cut_after < len(response.events)


def test_disconnect_counts_tool_call_pieces():
    app = EmulatorApp(
        [fault.disconnect(after_chunks=1), [tool_call("f", x=1)]], validate_tool_calls=False
    )
    response = post(app, *streaming("openai-chat"))
    sent = payloads("openai-chat", response.events[: response.cut_after])
    assert any(
        p != "[DONE]" and p["choices"] and p["choices"][0]["delta"].get("tool_calls") for p in sent
    )


def test_disconnect_without_a_stream_drops_the_connection(protocol):
    response = post(EmulatorApp([fault.disconnect()]), *ENDPOINTS[protocol])
    assert response.events is None and response.cut_after == 0


def test_timeout_never_answers(protocol):
    response = post(EmulatorApp([fault.timeout()]), *ENDPOINTS[protocol])
    assert response.timeout is True


def test_rate_limit_sends_retry_after(protocol):
    app = EmulatorApp([fault.rate_limit(retry_after=3)])
    response = post(app, *ENDPOINTS[protocol])

    assert response.status == 429
    assert response.headers["retry-after"] == "3"
    error = get_codec(protocol).decode_error(429, json.loads(response.body), response.headers)
    assert error.retry_after == 3.0
    assert app.requests[0].status == 429


def test_malformed_bodies_and_streams(protocol):
    app = EmulatorApp([fault.malformed(), fault.malformed()])
    whole = post(app, *ENDPOINTS[protocol])
    stream = post(app, *streaming(protocol))

    assert whole.status == 200
    with pytest.raises(ValueError):
        json.loads(whole.body)
    with pytest.raises(DecodeError):
        list(get_codec(protocol).decode_stream(payloads_or_raw(protocol, stream.events)))


def payloads_or_raw(protocol: str, events: list[bytes]) -> list[Any]:
    """Parse what parses; keep the garbled text as a client's SSE parser would."""
    out: list[Any] = []
    for event in events:
        text = event.decode().strip()
        text = text[len("data: ") :] if text.startswith("data: ") else text
        try:
            out.append(json.loads(text))
        except ValueError:
            out.append(text)
    return out


def test_ndjson_garbage_is_not_sse():
    response = post(EmulatorApp([fault.malformed()]), *streaming("ollama"))
    assert response.headers["content-type"] == "application/x-ndjson"
    assert not response.events[0].startswith(b"data:")


def test_usage_and_tool_calls_render_for_the_client(protocol):
    reply = AIMessage(
        "",
        tool_calls=[{"name": "f", "args": {"x": 1}, "id": "call_1"}],
        usage_metadata={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
    )
    app = EmulatorApp([reply], validate_tool_calls=False)
    message = get_codec(protocol).decode_response(json.loads(post(app, *ENDPOINTS[protocol]).body))

    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("f", {"x": 1})]
    assert message.usage_metadata["total_tokens"] == 7


# -- the script -------------------------------------------------------------------------------------


def test_an_exhausted_script_is_a_400_naming_it_and_is_remembered():
    app = EmulatorApp(["only one"])
    post(app, *ENDPOINTS["openai-chat"])
    response = post(app, *ENDPOINTS["openai-chat"])

    assert response.status == 400
    assert response.headers["x-should-retry"] == "false"
    error = json.loads(response.body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"] == (
        "myna emulator script error: FakeChatModel script exhausted: 1 reply was scripted and "
        "this is call #2. Add replies to the script, or pass cycle=True to repeat it. (the "
        "scripted reply was not used: fix the script and run again)"
    )
    assert [type(e) for e in app.errors] == [ScriptExhaustedError]
    assert app.requests[-1].status == 400 and app.requests[-1].reply is None


@pytest.mark.parametrize("protocol", sorted(ENDPOINTS))
def test_a_script_error_is_answered_in_the_protocols_own_error_format(protocol):
    app = EmulatorApp([])
    response = post(app, *ENDPOINTS[protocol])

    assert response.status == 400
    error = get_codec(protocol).decode_error(response.status, json.loads(response.body))
    assert isinstance(error, BadRequestError) and not error.retryable
    assert error.message.startswith("myna emulator script error: FakeChatModel script exhausted")


def test_a_scripted_tool_call_the_request_did_not_offer_is_an_error_that_uses_no_reply():
    app = EmulatorApp([tool_call("get_weather", city="Paris"), "Plain text answer."])
    response = post(app, *ENDPOINTS["openai-chat"])

    assert response.status == 400
    assert "calls tool 'get_weather', but no tools are bound" in response.body.decode()
    assert [type(e) for e in app.errors] == [InvalidToolCallError]
    # the tool call was not sent, so it is still the next reply: a retry cannot skip it
    assert app.engine.remaining == 2
    again = json.loads(post(app, *ENDPOINTS["openai-chat"]).body)
    assert "calls tool 'get_weather'" in again["error"]["message"]
    url, body = ENDPOINTS["openai-chat"]
    with_tool = {**body, "tools": [WEATHER]}
    first = get_codec("openai-chat").decode_response(json.loads(post(app, url, with_tool).body))
    second = get_codec("openai-chat").decode_response(json.loads(post(app, url, with_tool).body))
    assert first.tool_calls[0]["args"] == {"city": "Paris"}
    assert second.text == "Plain text answer."


def test_instructors_partial_tool_name_gets_a_hint():
    # instructor's create_partial binds the tool `User` as `PartialUser`
    app = EmulatorApp([tool_call("User", name="Ada")])
    url, body = ENDPOINTS["openai-chat"]
    tool = {"type": "function", "function": {**WEATHER["function"], "name": "PartialUser"}}
    response = post(app, url, {**body, "tools": [tool]})

    message = json.loads(response.body)["error"]["message"]
    assert "calls tool 'User', which is not bound." in message
    assert "Bound tools: ['PartialUser']" in message
    assert (
        "instructor's create_partial binds 'User' as 'PartialUser': script "
        "tool_call('PartialUser', ...) for it."
    ) in message


def test_cycle_repeats_the_script_across_threads():
    app = EmulatorApp(["same"], cycle=True)
    statuses: list[int] = []

    def worker() -> None:
        for _ in range(10):
            statuses.append(post(app, *ENDPOINTS["anthropic-messages"]).status)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 40
    assert len(app.requests) == 40


def test_chunking_follows_the_option():
    response = post(EmulatorApp(["abc"], chunking="chars"), *streaming("openai-chat"))
    chunks = list(get_codec("openai-chat").decode_stream(payloads("openai-chat", response.events)))
    assert [c.text for c in chunks if c.text] == ["a", "b", "c"]
