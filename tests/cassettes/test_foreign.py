import gzip
import json
import sys
import zlib
from pathlib import Path

import pytest
import yaml

from myna.cassettes._foreign import (
    Interaction,
    RecordedRequest,
    RecordedResponse,
    cassette_format,
    load_interactions,
)
from myna.exceptions import DecodeError

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real"
ALL_FILES = sorted(p for p in REAL.rglob("*") if p.is_file() and p.suffix != ".md")


def _vcr_file(tmp_path: Path, interactions: list, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))
    return path


def _vcr_record(body, headers=None, status=200):
    return {
        "request": {"method": "post", "uri": "https://x.test/v1", "body": None, "headers": {}},
        "response": {
            "status": {"code": status, "message": "OK"},
            "headers": headers or {},
            "body": {"string": body},
        },
    }


def test_corpus_is_complete():
    assert len(ALL_FILES) == 66
    assert (REAL / "SOURCES.md").is_file()
    assert "SOURCES.md" in (REAL / "README.md").read_text()


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_file_loads_and_decodes(path):
    interactions = load_interactions(path)
    assert interactions
    for it in interactions:
        assert isinstance(it, Interaction)
        assert it.request.method in {"GET", "POST", "DELETE"}
        assert it.request.url.startswith(("http://", "https://", "<OLLAMA_API_BASE>"))
        assert all(k == k.lower() for k in it.request.headers)
        assert all(k == k.lower() for k in it.response.headers)
        if it.request.body is not None:
            assert isinstance(it.request.json(), dict)
        assert "content-encoding" not in it.response.headers  # every gzip body was undone
        if it.response.is_stream:
            payloads = it.response.stream_payloads()
            assert payloads
            assert all(isinstance(p, (dict, str)) for p in payloads)
        else:
            assert isinstance(it.response.json(), dict)


@pytest.mark.parametrize(
    ("name", "fmt", "count"),
    [
        ("openai-chat/test_max_completion_tokens[gpt-4o-mini].yaml", "pai", 1),
        ("openai-chat/test_complex_agent_run_in_workflow.yaml", "pai", 3),
        ("openai-chat/test_tool_use_basic.yaml", "vcr", 2),
        ("gemini/test_tools.yaml", "vcr", 3),
        ("gemini/test_google_model_cached_content.yaml", "pai", 4),
        (
            "anthropic/chat_function_calling_anthropic_claude-haiku-4-5_can_use_tools_with_multi-turn_streaming_conversations.yml",
            "rvcr",
            4,
        ),
        ("openai-compatible/test_openrouter_errors_raised.yaml", "pai", 3),
        ("ollama/TestCloudStreaming.httprr", "httprr", 1),
        ("gemini/TestGoogleAIErrorHandling.httprr", "httprr", 1),
    ],
)
def test_interaction_counts_and_formats(name, fmt, count):
    assert cassette_format(REAL / name) == fmt
    assert len(load_interactions(REAL / name)) == count


def test_pai_parsed_body_becomes_json_bytes():
    [it] = load_interactions(REAL / "openai-chat/test_max_completion_tokens[gpt-4o-mini].yaml")
    assert it.request.json() == {
        "max_completion_tokens": 100,
        "messages": [{"content": "hello", "role": "user"}],
        "model": "gpt-4o-mini",
        "stream": False,
    }
    body = it.response.json()
    assert body["choices"][0]["message"]["content"] == "Hello! How can I assist you today?"
    assert it.response.status == 200
    assert not it.response.is_stream
    assert it.response.stream_format is None


def test_gzip_binary_body_is_decompressed():
    path = REAL / "anthropic/test_schema_prompt.yaml"
    assert "!!binary" in path.read_text()
    [it] = load_interactions(path)
    assert it.response.body.startswith(b"event: message_start")
    assert "content-encoding" not in it.response.headers
    events = it.response.sse_events()
    assert events[0][0] == "message_start"
    assert events[-1] == ("message_stop", {"type": "message_stop"})


def test_sse_with_crlf_separators():
    [it] = load_interactions(REAL / "gemini/test_google_model_stream.yaml")
    assert b"\r\n\r\n" in it.response.body
    assert it.response.stream_format == "sse"
    payloads = it.response.stream_payloads()
    assert len(payloads) == 3
    assert all("candidates" in p and "usageMetadata" in p for p in payloads)
    assert payloads[-1]["candidates"][0]["finishReason"] == "STOP"
    assert "finishReason" not in payloads[0]["candidates"][0]


def test_ndjson_under_a_json_content_type():
    [it] = load_interactions(REAL / "ollama/TestCloudStreaming.httprr")
    assert it.request.url == "https://ollama.com/api/chat"
    assert it.request.headers["user-agent"] == "langchaingo-httprr"  # the LF-only header line
    assert it.request.json()["model"] == "gpt-oss:120b"
    assert it.response.headers["content-type"] == "application/json"
    assert it.response.stream_format == "ndjson"
    payloads = it.response.stream_payloads()
    assert len(payloads) == 48
    assert payloads[0]["message"]["thinking"] == "User"
    assert payloads[-1]["done"] is True
    assert [name for name, _ in it.response.sse_events()] == [None] * 48


def test_httprr_chunked_body_is_dechunked():
    [it] = load_interactions(REAL / "ollama/TestClient_GenerateChatStream.httprr")
    assert it.response.headers["transfer-encoding"] == "chunked"
    payloads = it.response.stream_payloads()
    assert len(payloads) == 22
    assert payloads[-1]["done_reason"] == "stop"
    # No hex chunk-size lines survive between the JSON lines.
    assert all(line.startswith(b"{") for line in it.response.body.splitlines() if line)


def test_json_array_stream_from_gemini_without_alt_sse():
    interactions = load_interactions(REAL / "gemini/test_tools.yaml")
    assert ":streamGenerateContent" in interactions[0].request.url
    assert "alt=sse" not in interactions[0].request.url
    first = interactions[0].response
    assert first.stream_format == "json-array"
    payloads = first.stream_payloads()
    assert len(payloads) == 2
    parts = [part for p in payloads for part in p["candidates"][0]["content"]["parts"]]
    assert any(part.get("thought") is True for part in parts)
    assert any("functionCall" in part for part in parts)


def test_done_marker_and_comments():
    its = load_interactions(REAL / "openai-chat/test_run_stream_sync_streams_real_model.yaml")
    payloads = its[0].response.stream_payloads()
    assert payloads[-1] == "[DONE]"
    assert payloads[-2]["choices"] == []
    assert "usage" in payloads[-2]
    [it] = load_interactions(REAL / "openai-compatible/test_openrouter_stream_error.yaml")
    assert b": OPENROUTER PROCESSING" in it.response.body
    payloads = it.response.stream_payloads()
    assert all(isinstance(p, dict) for p in payloads[:-1])  # the comment lines are not events
    assert payloads[-1] == "[DONE]"


def test_named_sse_error_event():
    its = load_interactions(REAL / "openai-compatible/test_tool_use_failed_error_streaming.yaml")
    name, data = its[0].response.sse_events()[-1]
    assert name == "error"
    assert data["error"]["code"] == "tool_use_failed"
    assert its[0].response.sse_events()[0][0] is None


def test_rvcr_binary_body_and_header_case():
    path = (
        REAL
        / "anthropic/chat_function_calling_anthropic_claude-haiku-4-5_can_use_tools_with_multi-turn_streaming_conversations.yml"
    )
    assert "!binary |-" in path.read_text()
    its = load_interactions(path)
    assert its[0].request.method == "POST"
    assert its[0].request.headers["anthropic-version"] == "2023-06-01"
    for it in its:
        kinds = [p["type"] for p in it.response.stream_payloads()]
        assert kinds[0] == "message_start"
        assert kinds[-1] == "message_stop"


def test_headers_are_lowercased_and_joined(tmp_path):
    rec = _vcr_record('{"a": 1}', headers={"Set-Thing": ["a", "b"], "X-N": [3]})
    [it] = load_interactions(_vcr_file(tmp_path, [rec]))
    assert it.response.headers == {"set-thing": "a, b", "x-n": "3"}
    assert it.request.body is None
    assert it.response.json() == {"a": 1}


def test_deflate_body(tmp_path):
    rec = _vcr_record(zlib.compress(b'{"ok": true}'), headers={"Content-Encoding": ["deflate"]})
    [it] = load_interactions(_vcr_file(tmp_path, [rec]))
    assert it.response.json() == {"ok": True}
    assert "content-encoding" not in it.response.headers


def test_gzip_detected_by_magic_without_header(tmp_path):
    rec = _vcr_record(gzip.compress(b"data: [DONE]\n\n"))
    [it] = load_interactions(_vcr_file(tmp_path, [rec]))
    assert it.response.stream_payloads() == ["[DONE]"]


def test_brotli_missing_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "brotli", None)  # import brotli -> ImportError
    rec = _vcr_record(b"\x8b\x02\x80", headers={"Content-Encoding": ["br"]})
    with pytest.raises(DecodeError, match=r"c\.yaml interaction 0: .*install the 'brotli'"):
        load_interactions(_vcr_file(tmp_path, [rec]))


def test_broken_gzip_names_file_and_record(tmp_path):
    good = _vcr_record('{"a": 1}')
    bad = _vcr_record(b"not gzip", headers={"Content-Encoding": ["gzip"]})
    with pytest.raises(DecodeError, match=r"c\.yaml interaction 1: cannot undo content-encoding"):
        load_interactions(_vcr_file(tmp_path, [good, bad]))


def test_file_in_no_format(tmp_path):
    path = tmp_path / "notes.yaml"
    path.write_text("hello: world\n")
    with pytest.raises(DecodeError, match=r"notes\.yaml is not a cassette in a known format"):
        load_interactions(path)
    with pytest.raises(DecodeError, match=r"notes\.yaml is not a cassette"):
        cassette_format(path)


def test_invalid_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("interactions: [\n  - {")
    with pytest.raises(DecodeError, match=r"broken\.yaml is not a cassette: it is not valid YAML"):
        load_interactions(path)


def test_missing_file(tmp_path):
    with pytest.raises(DecodeError, match=r"Cannot read cassette .*nope\.yaml"):
        load_interactions(tmp_path / "nope.yaml")


def test_record_without_response(tmp_path):
    rec = {"request": {"method": "GET", "uri": "https://x.test"}}
    with pytest.raises(DecodeError, match=r"c\.yaml interaction 0: record has no 'response'"):
        load_interactions(_vcr_file(tmp_path, [rec]))


def test_bad_status(tmp_path):
    rec = _vcr_record("{}", status="teapot")
    with pytest.raises(DecodeError, match=r"interaction 0: response status must be an integer"):
        load_interactions(_vcr_file(tmp_path, [rec]))


def test_truncated_httprr(tmp_path):
    raw = (REAL / "ollama/TestToolCall.httprr").read_bytes()
    path = tmp_path / "cut.httprr"
    path.write_bytes(raw[:-10])
    with pytest.raises(DecodeError, match=r"cut\.httprr interaction 0: the file ends before"):
        load_interactions(path)


def test_httprr_garbage_record_header(tmp_path):
    path = tmp_path / "g.httprr"
    path.write_bytes(b"httprr trace v1\nnot counts\n")
    with pytest.raises(DecodeError, match=r"g\.httprr interaction 0: expected a '<request bytes>"):
        load_interactions(path)


def test_httprr_relative_target_uses_host(tmp_path):
    req = b"GET /api/tags HTTP/1.1\r\nHost: localhost:11434\r\n\r\n"
    resp = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"models": []}'
    path = tmp_path / "r.httprr"
    path.write_bytes(b"httprr trace v1\n%d %d\n" % (len(req), len(resp)) + req + resp)
    [it] = load_interactions(path)
    assert it.request.url == "https://localhost:11434/api/tags"
    assert it.request.body is None
    assert it.response.json() == {"models": []}


def test_not_a_stream_and_not_json_errors():
    resp = RecordedResponse(200, {"content-type": "text/plain"}, b"hello", source="f.yaml #0")
    assert not resp.is_stream
    with pytest.raises(DecodeError, match=r"f\.yaml #0 is not a stream .*'text/plain'.*\.json\(\)"):
        resp.stream_payloads()
    with pytest.raises(DecodeError, match=r"Response body of f\.yaml #0 is not JSON"):
        resp.json()
    req = RecordedRequest("GET", "https://x.test", {}, None)
    with pytest.raises(DecodeError, match=r"Request body of https://x\.test has no body"):
        req.json()


def test_sse_event_that_is_not_json():
    resp = RecordedResponse(200, {"content-type": "text/event-stream"}, b"data: {oops\n\n")
    with pytest.raises(DecodeError, match=r"Stream event 0 of a recording is not JSON"):
        resp.stream_payloads()


def test_sse_sniffed_without_content_type_and_multiline_data():
    body = b'event: a\ndata: {"x":\ndata: 1}\n\n: keepalive\n\ndata: [DONE]\n\n'
    resp = RecordedResponse(200, {}, body)
    assert resp.stream_format == "sse"
    assert resp.sse_events() == [("a", {"x": 1}), (None, "[DONE]")]
    assert json.dumps(resp.stream_payloads()) == '[{"x": 1}, "[DONE]"]'
