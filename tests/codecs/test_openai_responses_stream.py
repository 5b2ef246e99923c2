"""Streaming in the OpenAI Responses codec: decode_stream and render_stream."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from myna.codecs import openai_responses as codec
from myna.exceptions import (
    BadRequestError,
    DecodeError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from myna.messages import AIMessage, AIMessageChunk, merge_chunks

RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "status": "in_progress",
    "model": "gpt-5-mini",
    "output": [],
    "usage": None,
}
USAGE = {
    "input_tokens": 20,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 9,
    "output_tokens_details": {"reasoning_tokens": 4},
    "total_tokens": 29,
}


def _completed(**extra: Any) -> dict:
    return {
        "type": "response.completed",
        "response": {**RESPONSE, "status": "completed", "usage": USAGE, **extra},
    }


def _stream(*middle: dict, end: dict | None = None) -> list[dict]:
    events = [{"type": "response.created", "response": RESPONSE}, *middle]
    events.append(end or _completed())
    return [{**e, "sequence_number": i} for i, e in enumerate(events)]


def _merged(events: list) -> AIMessage:
    return merge_chunks(list(codec.decode_stream(events))).to_message()


def _text_events(oi: int, item_id: str, *deltas: str, phase: str | None = None) -> list[dict]:
    item: dict[str, Any] = {
        "id": item_id,
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    if phase:
        item["phase"] = phase
    ids = {"item_id": item_id, "output_index": oi, "content_index": 0}
    return [
        {"type": "response.output_item.added", "output_index": oi, "item": item},
        {
            "type": "response.content_part.added",
            **ids,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
        *(
            {"type": "response.output_text.delta", **ids, "delta": d, "logprobs": []}
            for d in deltas
        ),
        {"type": "response.output_text.done", **ids, "text": "".join(deltas)},
        {
            "type": "response.output_item.done",
            "output_index": oi,
            "item": {**item, "status": "completed"},
        },
    ]


def test_reasoning_text_and_function_call() -> None:
    events = _stream(
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"id": "rs_1", "type": "reasoning", "summary": []},
        },
        {
            "type": "response.reasoning_summary_part.added",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "part": {"type": "summary_text", "text": ""},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": "Need ",
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": "weather.",
        },
        {
            "type": "response.reasoning_summary_part.added",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 1,
            "part": {"type": "summary_text", "text": ""},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 1,
            "delta": "Call it.",
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {"id": "rs_1", "type": "reasoning", "summary": [], "encrypted_content": "ENC"},
        },
        *_text_events(1, "msg_1", "Let me ", "check.", phase="commentary"),
        {
            "type": "response.output_item.added",
            "output_index": 2,
            "item": {
                "id": "fc_1",
                "type": "function_call",
                "call_id": "call_1",
                "name": "weather",
                "arguments": "",
                "status": "in_progress",
            },
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 2,
            "delta": '{"city":',
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 2,
            "delta": '"Paris"}',
        },
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_1",
            "output_index": 2,
            "arguments": '{"city":"Paris"}',
        },
        {"type": "response.web_search_call.searching", "output_index": 3, "item_id": "ws_1"},
    )
    chunks = list(codec.decode_stream(events))
    assert all(isinstance(c, AIMessageChunk) and c.id == "resp_1" for c in chunks)
    assert chunks[-1].chunk_position == "last"
    message = merge_chunks(chunks).to_message()
    assert message.content == [
        {
            "type": "reasoning",
            "id": "rs_1",
            "reasoning": "Need weather.",
            "extras": {"encrypted_content": "ENC"},
        },
        {"type": "reasoning", "id": "rs_1", "reasoning": "Call it."},
        {"type": "text", "text": "Let me check.", "id": "msg_1", "extras": {"phase": "commentary"}},
    ]
    assert message.tool_calls == [
        {"name": "weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ]
    assert message.additional_kwargs == {"openai_function_call_ids": {"call_1": "fc_1"}}
    assert message.response_metadata == {
        "model_provider": "openai",
        "id": "resp_1",
        "model_name": "gpt-5-mini",
        "finish_reason": "tool_calls",
        "status": "completed",
    }
    assert message.usage_metadata == {
        "input_tokens": 20,
        "output_tokens": 9,
        "total_tokens": 29,
        "output_token_details": {"reasoning": 4},
    }


def test_streamed_argument_fragments_arrive_as_tool_call_chunks() -> None:
    events = _stream(
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {
                "id": "fc_1",
                "type": "function_call",
                "call_id": "call_1",
                "name": "f",
                "arguments": "",
            },
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 0,
            "delta": '{"a"',
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 0,
            "delta": ": 1}",
        },
    )
    chunks = list(codec.decode_stream(events))
    pieces = [
        (c.tool_call_chunks[0]["name"], c.tool_call_chunks[0]["args"])
        for c in chunks
        if c.tool_call_chunks
    ]
    assert pieces == [("f", ""), (None, '{"a"'), (None, ": 1}")]
    assert all(c.tool_call_chunks[0]["index"] == 0 for c in chunks if c.tool_call_chunks)


def test_annotations_logprobs_and_refusal() -> None:
    ids = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    logprob = {"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": []}
    events = _stream(
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"id": "msg_1", "type": "message", "role": "assistant", "content": []},
        },
        {"type": "response.content_part.added", **ids, "part": {"type": "output_text", "text": ""}},
        {"type": "response.output_text.delta", **ids, "delta": "Hi", "logprobs": [logprob]},
        {
            "type": "response.output_text.annotation.added",
            **ids,
            "annotation_index": 0,
            "annotation": {
                "type": "url_citation",
                "url": "https://a",
                "title": "A",
                "start_index": 0,
                "end_index": 2,
            },
        },
        {
            "type": "response.content_part.added",
            **{**ids, "content_index": 1},
            "part": {"type": "refusal", "refusal": ""},
        },
        {"type": "response.refusal.delta", **{**ids, "content_index": 1}, "delta": "No."},
        {"type": "response.refusal.done", **{**ids, "content_index": 1}, "refusal": "No."},
    )
    message = _merged(events)
    assert message.content == [
        {
            "type": "text",
            "text": "Hi",
            "id": "msg_1",
            "annotations": [
                {
                    "type": "citation",
                    "url": "https://a",
                    "title": "A",
                    "start_index": 0,
                    "end_index": 2,
                }
            ],
        },
        {"type": "non_standard", "value": {"type": "refusal", "refusal": "No."}, "id": "msg_1"},
    ]
    assert message.additional_kwargs == {"refusal": "No."}
    assert message.response_metadata["logprobs"] == [logprob]
    assert message.response_metadata["finish_reason"] == "refusal"


def test_items_that_arrive_whole() -> None:
    web = {
        "id": "ws_1",
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "query": "q"},
    }
    image = {"id": "ig_1", "type": "image_generation_call", "status": "completed", "result": "iVBO"}
    events = _stream(
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**web, "status": "in_progress"},
        },
        {"type": "response.output_item.done", "output_index": 0, "item": web},
        {
            "type": "response.image_generation_call.partial_image",
            "output_index": 1,
            "partial_image_b64": "xx",
        },
        {"type": "response.output_item.done", "output_index": 1, "item": image},
        # a server that skips the part events: the done item carries the whole message
        {
            "type": "response.output_item.done",
            "output_index": 2,
            "item": {
                "id": "msg_2",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Done."}],
            },
        },
        # and a function call announced only when done
        {
            "type": "response.output_item.done",
            "output_index": 3,
            "item": {
                "id": "fc_9",
                "type": "function_call",
                "call_id": "call_9",
                "name": "g",
                "arguments": '{"x": true}',
            },
        },
    )
    message = _merged(events)
    assert message.content == [
        {
            "type": "server_tool_call",
            "id": "ws_1",
            "name": "web_search",
            "args": {"action": {"type": "search", "query": "q"}},
            "extras": {"status": "completed"},
        },
        {"type": "server_tool_result", "tool_call_id": "ws_1", "status": "success"},
        {
            "type": "image",
            "id": "ig_1",
            "base64": "iVBO",
            "mime_type": "image/png",
            "extras": {"status": "completed"},
        },
        {"type": "text", "text": "Done.", "id": "msg_2"},
    ]
    assert message.tool_calls == [
        {"name": "g", "args": {"x": True}, "id": "call_9", "type": "tool_call"}
    ]


def test_arguments_sent_only_in_the_done_event() -> None:
    events = _stream(
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {
                "id": "fc_1",
                "type": "function_call",
                "call_id": "c",
                "name": "f",
                "arguments": "",
            },
        },
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_1",
            "output_index": 0,
            "arguments": '{"n": 2}',
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {
                "id": "fc_1",
                "type": "function_call",
                "call_id": "c",
                "name": "f",
                "arguments": '{"n": 2}',
            },
        },
    )
    assert _merged(events).tool_calls[0]["args"] == {"n": 2}


def test_a_server_that_only_sends_the_final_response() -> None:
    output = [
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "All at once."}],
        }
    ]
    message = _merged(_stream(end=_completed(output=output)))
    assert message.content == [{"type": "text", "text": "All at once.", "id": "msg_1"}]


def test_reasoning_without_summary_keeps_its_encrypted_content() -> None:
    item = {"id": "rs_1", "type": "reasoning", "summary": []}
    events = _stream(
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "encrypted_content": "partial"},
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {**item, "encrypted_content": "WHOLE"},
        },
    )
    assert _merged(events).content == [
        {"type": "reasoning", "id": "rs_1", "extras": {"encrypted_content": "WHOLE"}}
    ]


def test_raw_reasoning_text_deltas() -> None:
    events = _stream(
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"id": "rs_1", "type": "reasoning", "summary": []},
        },
        {
            "type": "response.reasoning_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "hmm ",
        },
        {
            "type": "response.reasoning_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "ok",
        },
    )
    assert _merged(events).content == [
        {"type": "reasoning", "id": "rs_1"},
        {
            "type": "reasoning",
            "reasoning": "hmm ok",
            "id": "rs_1",
            "extras": {"kind": "reasoning_text"},
        },
    ]


def test_incomplete_is_terminal_with_finish_reason_length() -> None:
    end = {
        "type": "response.incomplete",
        "response": {
            **RESPONSE,
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
            "usage": USAGE,
        },
    }
    message = _merged(_stream(*_text_events(0, "msg_1", "Once upon"), end=end))
    assert message.text == "Once upon"
    assert message.response_metadata["finish_reason"] == "length"
    assert message.response_metadata["incomplete_details"] == {"reason": "max_output_tokens"}


def test_nothing_after_the_terminal_event_is_read() -> None:
    def events():
        yield from _stream(*_text_events(0, "msg_1", "hi"))
        raise AssertionError("read past response.completed")

    assert _merged(events()).text == "hi"  # type: ignore[arg-type]


def test_response_failed_raises_the_matching_error() -> None:
    failed = {
        "type": "response.failed",
        "response": {
            **RESPONSE,
            "status": "failed",
            "error": {
                "code": "rate_limit_exceeded",
                "message": "Rate limit reached. Please try again in 2s.",
            },
        },
    }
    chunks = []
    with pytest.raises(RateLimitError) as caught:
        for chunk in codec.decode_stream(_stream(*_text_events(0, "msg_1", "par"), end=failed)):
            chunks.append(chunk)
    assert merge_chunks(chunks).text == "par"  # what came before the failure was yielded
    assert caught.value.message == "Rate limit reached. Please try again in 2s."
    assert caught.value.retry_after == 2.0
    assert caught.value.status_code is None and caught.value.provider == "openai"


@pytest.mark.parametrize(
    ("event", "cls", "message"),
    [
        (
            {
                "type": "error",
                "code": "server_error",
                "message": "The server had an error.",
                "param": None,
            },
            ServerError,
            "The server had an error.",
        ),
        (
            {"type": "error", "code": "invalid_prompt", "message": "Bad prompt.", "param": None},
            BadRequestError,
            "Bad prompt.",
        ),
        (
            {"type": "error", "error": {"code": "rate_limit_exceeded", "message": "Slow."}},
            RateLimitError,
            "Slow.",
        ),
        (
            {"type": "response.failed", "response": {"status": "failed", "error": None}},
            ServerError,
            "The response failed (no error code).",
        ),
    ],
    ids=["server", "invalid", "nested", "no-detail"],
)
def test_error_events(event: dict, cls: type, message: str) -> None:
    with pytest.raises(cls) as caught:
        list(codec.decode_stream(_stream(event)))
    assert caught.value.message == message


def test_a_stream_cut_before_the_terminal_event() -> None:
    events = _stream(*_text_events(0, "msg_1", "Hello ", "wor"))[:-1]
    with pytest.raises(StreamInterruptedError) as caught:
        list(codec.decode_stream(events))
    assert str(caught.value).startswith("The Responses API stream ended before response.completed")
    assert caught.value.partial.text == "Hello wor"


@pytest.mark.parametrize(
    "events",
    [[], ["[DONE]"], [{"type": "response.created", "response": RESPONSE}, "[DONE]"]],
    ids=["empty", "done", "created-done"],
)
def test_streams_with_nothing_in_them(events: list) -> None:
    with pytest.raises(StreamInterruptedError) as caught:
        list(codec.decode_stream(events))
    assert caught.value.partial is None


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            "data: {",
            "stream event 1 is not a Responses API event (a JSON object with a 'type'): \"data: {\"",
        ),
        (
            {"delta": "x"},
            'stream event 1 is not a Responses API event (a JSON object with a \'type\'): {"delta": "x"}',
        ),
        (
            {"type": "response.output_text.delta", "delta": "x"},
            "stream event 1.output_index should be int, got null.",
        ),
        (
            {
                "type": "response.output_text.delta",
                "output_index": 0,
                "content_index": 0,
                "delta": 5,
            },
            "stream event 1.delta should be str, got 5.",
        ),
        (
            {"type": "response.output_item.added", "output_index": 0, "item": "x"},
            'stream event 1.item should be dict, got "x".',
        ),
        (
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {"type": "function_call", "name": None},
            },
            "stream event 1.item.name should be str, got null.",
        ),
        (
            {"type": "response.function_call_arguments.delta", "output_index": 7, "delta": "{"},
            "stream event 1 streams arguments for output_index 7, which no response.output_item.added announced as a function call",
        ),
        (
            {"type": "response.completed", "response": None},
            "stream event 1.response should be dict, got null.",
        ),
        (
            {"type": "response.completed", "response": {"usage": {"input_tokens": []}}},
            "stream event 1.response.usage.input_tokens should be int, got [].",
        ),
    ],
    ids=[
        "text",
        "no-type",
        "no-index",
        "delta-type",
        "item",
        "name",
        "unknown-call",
        "response",
        "usage",
    ],
)
def test_malformed_events_raise_decode_error(event: Any, message: str) -> None:
    events = [{"type": "response.created", "response": RESPONSE}, event, _completed()]
    with pytest.raises(DecodeError) as caught:
        list(codec.decode_stream(events))
    assert str(caught.value).startswith(message)


# -- render_stream ------------------------------------------------------------------------------

_EVENT = TypeAdapter(ResponseStreamEvent)


def test_render_a_plain_reply_event_by_event() -> None:
    message = AIMessage(
        "Hi there",
        id="resp_x",
        usage_metadata={"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
    )
    events = list(codec.render_stream(message, {"model": "gpt-5-mini"}))
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["delta"] for e in events if e["type"] == "response.output_text.delta"] == [
        "Hi ",
        "there",
    ]
    assert (
        events[0]["response"]["status"] == "in_progress" and events[0]["response"]["usage"] is None
    )
    done = events[-1]["response"]
    assert (
        done["id"] == "resp_x"
        and done["status"] == "completed"
        and done["usage"]["total_tokens"] == 5
    )
    item_id = events[2]["item"]["id"]
    assert all(e.get("item_id", item_id) == item_id for e in events)
    for event in events:
        _EVENT.validate_python(event)  # the official SDK parses every event


def test_render_stream_of_a_rich_reply_decodes_to_the_rendered_response() -> None:
    message = AIMessage(
        [
            {
                "type": "reasoning",
                "reasoning": "Step one. Step two.",
                "id": "rs_1",
                "extras": {"encrypted_content": "E"},
            },
            {"type": "reasoning", "reasoning": "Then", "id": "rs_1"},
            {
                "type": "server_tool_call",
                "id": "ws_1",
                "name": "web_search",
                "args": {"action": {"type": "search", "query": "q"}},
            },
            {"type": "server_tool_result", "tool_call_id": "ws_1", "status": "success"},
            {
                "type": "text",
                "text": "Found it [1].",
                "annotations": [
                    {
                        "type": "citation",
                        "url": "https://a",
                        "title": "A",
                        "start_index": 0,
                        "end_index": 5,
                    }
                ],
            },
            {"type": "non_standard", "value": {"type": "refusal", "refusal": "But not that."}},
            {"type": "image", "base64": "iVBO", "mime_type": "image/png"},
        ],
        tool_calls=[
            {"name": "f", "args": {"a": [1, 2]}, "id": "call_1"},
            {"name": "g", "args": {}, "id": "call_2"},
        ],
        usage_metadata={"input_tokens": 9, "output_tokens": 9, "total_tokens": 18},
        response_metadata={
            "logprobs": [{"token": "Found", "logprob": -0.2, "bytes": [70], "top_logprobs": []}]
        },
    )
    for chunking in ("words", "chars", 3):
        events = list(codec.render_stream(message, chunking=chunking))
        for event in events:
            _EVENT.validate_python(event)
        streamed = _merged(events)
        whole = codec.decode_response(events[-1]["response"])
        assert streamed.content == whole.content
        assert streamed.tool_calls == whole.tool_calls == message.tool_calls
        assert streamed.usage_metadata == whole.usage_metadata == message.usage_metadata
        assert streamed.response_metadata == whole.response_metadata
        assert streamed.additional_kwargs == whole.additional_kwargs
    types = [e["type"] for e in events]
    assert types.count("response.output_text.annotation.added") == 1
    assert types.count("response.reasoning_summary_part.added") == 2
    assert types.count("response.function_call_arguments.done") == 2


def test_render_stream_of_a_cut_off_reply_ends_incomplete() -> None:
    events = list(
        codec.render_stream(AIMessage("Once", response_metadata={"finish_reason": "length"}))
    )
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert _merged(events).response_metadata["finish_reason"] == "length"
