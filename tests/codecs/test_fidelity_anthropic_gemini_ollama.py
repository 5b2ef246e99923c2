"""The Anthropic, Gemini and Ollama emulators against every real recording (issue 13).

`myna.cassettes.verify` re-sends each recorded request to myna's emulator, scripted with the
recorded reply, and compares the answer's shape with what the API sent. What breaking drift
is left is exactly the deliberate differences listed under "Fidelity" in the README.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from myna.cassettes import averify, verify
from myna.codecs import gemini, protocol_for_path
from myna.emulators import EmulatorApp
from myna.messages import AIMessage

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real"
OURS = ("anthropic-messages", "gemini", "ollama")
CASSETTES = sorted(
    p for d in ("anthropic", "gemini", "ollama") for p in (REAL / d).iterdir() if p.suffix != ".md"
)

SIGNATURE = "signatures only the real API can make"
REDACTED = "the neutral script has no redacted thinking"
STOP_SEQUENCE = "the neutral script does not say which stop sequence ended the reply"
QUOTA_MODEL = "a rendered error is not told the request's model"
DELIBERATE = {
    ("test_anthropic_model_thinking_part_stream.yaml", "content_block_delta $.delta.signature"): (
        SIGNATURE
    ),
    ("test_anthropic_model_thinking_part_redacted_stream.yaml", "event order"): REDACTED,
    (
        "test_anthropic_model_thinking_part_redacted_stream.yaml",
        "content_block_start $.content_block.data",
    ): REDACTED,
    (
        "test_prompt_with_prefill_and_stop_sequences.yaml",
        "message_delta $.delta.stop_sequence",
    ): STOP_SEQUENCE,
    (
        "chat_function_calling_gemini_gemini-2_5-flash_can_use_parallel_tool_calls.yml",
        "$.candidates[*].content.parts[*].thoughtSignature",
    ): SIGNATURE,
    (
        "chat_real_error_scenarios_gemini_gemini-2_5-flash_handles_context_length_exceeded_errors"
        ".yml",
        "$.error.details[*].violations[*].quotaDimensions.model",
    ): QUOTA_MODEL,
    ("test_google_model_thinking_part.yaml", "$.candidates[*].content.parts[*].thoughtSignature"): (
        SIGNATURE
    ),
    (
        "test_google_streaming_tool_call_thought_signature.yaml",
        "data $.candidates[*].content.parts[*].thoughtSignature",
    ): SIGNATURE,
    (
        "test_prompt_with_pydantic_schema.yaml",
        "item $.candidates[*].content.parts[*].thoughtSignature",
    ): SIGNATURE,
    ("test_tools.yaml", "item $.candidates[*].content.parts[*].thoughtSignature"): SIGNATURE,
}
"""(cassette, drifted path) -> why the emulator leaves it out (README: Fidelity)."""


def _ours(path: Path, report) -> list:
    """The breaking drift of interactions served by the three codecs (a cassette of Ollama's
    OpenAI-compatible /v1 API is the openai-chat codec's, checked with it)."""
    from myna.cassettes._to_script import read_interactions

    urls = [i["request"]["url"] for i in read_interactions(path)]
    return [
        d
        for d in report.drift
        if d.breaking and protocol_for_path(urlsplit(urls[d.interaction]).path) in OURS
    ]


def test_only_the_deliberate_differences_remain():
    remaining = {(path.name, d.path) for path in CASSETTES for d in _ours(path, verify(path))}
    assert remaining == set(DELIBERATE)


def test_most_real_cassettes_now_match_the_emulator_shape():
    breaking = [p.name for p in CASSETTES if _ours(p, verify(p))]
    # before issue 13's fixes: 25 of these 34 cassettes (9 Anthropic, 12 Gemini, 4 Ollama)
    assert len(CASSETTES) == 34
    assert len(breaking) == 9
    assert not [p for p in breaking if p.endswith(".httprr")]  # every Ollama /api/chat one


async def test_averify_gives_the_same_report():
    path = REAL / "anthropic" / "test_prompt_with_prefill_and_stop_sequences.yaml"
    report = await averify(path)
    assert [(d.path, d.breaking) for d in report.drift if d.breaking] == [
        ("message_delta $.delta.stop_sequence", True)
    ]


# ------------------------------------------------------------ what the fixes render


def _gemini_request() -> bytes:
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}).encode()


@pytest.mark.parametrize(
    ("query", "content_type"),
    [("", "application/json"), ("?alt=sse", "text/event-stream")],
    ids=["json-array", "sse"],
)
def test_gemini_stream_without_alt_sse_is_one_json_array(query, content_type):
    app = EmulatorApp(["Paris is the capital."], require_auth=False)
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash"
    answer = app.handle("POST", f"{url}:streamGenerateContent{query}", {}, _gemini_request())
    assert answer.headers["content-type"] == content_type
    body = b"".join(answer.events or [])
    if query:
        assert body.startswith(b"data: {")
        return
    items = json.loads(body)  # the whole stream parses as one JSON array
    assert isinstance(items, list) and len(items) > 1
    assert items[-1]["candidates"][0]["finishReason"] == "STOP"
    text = "".join(c.text for c in gemini.decode_stream(items))
    assert text == "Paris is the capital."


def test_gemini_vertex_path_gets_vertex_fields_and_plain_path_does_not():
    reply = AIMessage(
        "4", usage_metadata={"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}
    )
    vertex = (
        "https://aiplatform.googleapis.com/v1beta1/projects/p/locations/global/publishers/google/"
        "models/gemini-2.5-flash:generateContent"
    )
    plain = (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    app = EmulatorApp([reply, reply], require_auth=False)
    bodies = [
        json.loads(app.handle("POST", url, {}, _gemini_request()).body) for url in (vertex, plain)
    ]
    assert bodies[0]["createTime"] == "2025-01-01T00:00:00.000000Z"  # fixed: stable runs
    assert bodies[0]["usageMetadata"]["trafficType"] == "ON_DEMAND"
    assert bodies[0]["candidates"][0]["avgLogprobs"] == 0.0
    assert not {"createTime"} & set(bodies[1])
    assert "trafficType" not in bodies[1]["usageMetadata"]
    assert "avgLogprobs" not in bodies[1]["candidates"][0]
    assert bodies[1]["usageMetadata"]["serviceTier"] == "standard"


def test_anthropic_stream_carries_the_scripted_cache_counts():
    usage = {
        "input_tokens": 100,
        "output_tokens": 5,
        "total_tokens": 105,
        "input_token_details": {"cache_read": 80, "cache_creation": 10},
    }
    app = EmulatorApp([AIMessage("Cached.", usage_metadata=usage)], require_auth=False)
    request = {"model": "claude-haiku-4-5", "max_tokens": 64, "stream": True}
    request["messages"] = [{"role": "user", "content": "Hi"}]
    answer = app.handle(
        "POST", "https://api.anthropic.com/v1/messages", {}, json.dumps(request).encode()
    )
    events = [
        json.loads(line[6:])
        for line in b"".join(answer.events or []).decode().splitlines()
        if line.startswith("data: ")
    ]
    start = events[0]["message"]["usage"]
    assert (start["cache_read_input_tokens"], start["cache_creation_input_tokens"]) == (80, 10)
    assert start["cache_creation"] == {
        "ephemeral_5m_input_tokens": 10,
        "ephemeral_1h_input_tokens": 0,
    }
    assert (start["service_tier"], start["inference_geo"]) == ("standard", "not_available")
    delta = events[-2]
    assert delta["delta"]["stop_details"] is None
    assert (delta["usage"]["cache_read_input_tokens"], delta["usage"]["output_tokens"]) == (80, 5)
