"""`verify` / ``myna cassettes verify``: the recorded answers' shape against a new answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from myna import init_chat_model
from myna.cassettes import averify, cassette, load_cassette, verify
from myna.cli import main
from myna.emulators import EmulatorApp, emulate
from myna.exceptions import RateLimitError
from myna.fakes import fault, tool_call
from myna.messages import AIMessage

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real"
MODELS = {
    "openai": ("openai:gpt-4.1-mini", {}),
    "openai_responses": ("openai:gpt-4.1-mini", {"use_responses_api": True}),
    "anthropic": ("anthropic:claude-haiku-4-5", {}),
    "google_genai": ("google_genai:gemini-2.5-flash", {}),
    "ollama": ("ollama:llama3.1", {}),
}
SCRIPT = [
    AIMessage(
        "Hello there.", usage_metadata={"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    ),
    "Streaming words here",
    tool_call("get_weather", city="Paris"),
    fault.rate_limit(retry_after=1),
]


def get_weather(city: str) -> str:
    """Weather in a city."""
    return "sunny"


def record(path: Path, name: str) -> None:
    model, options = MODELS[name]
    provider = model.split(":", 1)[0]
    with emulate(provider, script=SCRIPT), cassette(path, mode="once"):
        llm = init_chat_model(model, api_key="sk-recording-key-123456", max_retries=0, **options)
        llm.invoke("Hi")
        list(llm.stream("Stream"))
        llm.bind_tools([get_weather]).invoke("Weather?")
        with pytest.raises(RateLimitError):
            llm.invoke("Again")


@pytest.mark.parametrize("name", list(MODELS))
def test_a_recording_of_the_emulator_has_the_emulators_shape(tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    record(path, name)
    report = verify(path)
    assert report.checked == 4
    assert report.drift == [], "\n".join(report.lines())
    assert not report.breaking
    assert "same shape" in report.lines()[0]


# -- a server that drifts --------------------------------------------------------------------


def drifting(rewrite: Any) -> httpx.MockTransport:
    """A server answering like the emulator, then rewriting its answer with `rewrite`."""
    app = EmulatorApp(
        cycle=True, script=["Hello there.", "Streaming words here"], require_auth=False
    )

    def handle(request: httpx.Request) -> httpx.Response:
        app.engine.rewind_to(0)
        body = json.loads(request.content)
        app.engine.rewind_to(1 if body.get("stream") else 0)
        answer = app.handle(
            request.method, str(request.url), dict(request.headers), request.content
        )
        content = b"".join(answer.events) if answer.events is not None else answer.body
        return httpx.Response(answer.status, headers=answer.headers, content=rewrite(content))

    return httpx.MockTransport(handle)


def rename_usage(content: bytes) -> bytes:
    return content.replace(b'"usage"', b'"token_usage"')


def drop_usage_chunk(content: bytes) -> bytes:
    events = content.split(b"\n\n")
    return b"\n\n".join(e for e in events if b'"usage": {' not in e)


def add_event_type(content: bytes) -> bytes:
    if not content.startswith(b"data:"):
        return content
    return b'event: keepalive\ndata: {"type": "keepalive"}\n\n' + content


@pytest.fixture
def chat(tmp_path) -> Path:
    path = tmp_path / "openai.yaml"
    with emulate("openai", script=SCRIPT[:2]), cassette(path, mode="once"):
        llm = init_chat_model("openai:gpt-4.1-mini", api_key="sk-recording-key-123456")
        llm.invoke("Hi")
        list(llm.stream("Stream"))
    return path


def test_a_renamed_field_is_breaking(chat):
    client = httpx.Client(transport=drifting(rename_usage))
    report = verify(chat, base_url="http://drift.test", client=client)
    found = {(d.interaction, d.kind, d.path) for d in report.drift}
    assert (0, "removed", "$.usage") in found
    assert (0, "added", "$.token_usage") in found
    assert (0, "removed", "usage.input_tokens") in found  # the decoded usage is gone too
    assert not any(d.path.startswith("$.usage.") for d in report.drift)  # collapsed under $.usage
    assert report.breaking
    assert any("BREAKING" in line for line in report.lines())


def test_a_missing_usage_chunk_is_breaking(chat):
    report = verify(
        chat,
        base_url="http://drift.test",
        client=httpx.Client(transport=drifting(drop_usage_chunk)),
    )
    removed = {d.path for d in report.drift if d.kind == "removed" and d.interaction == 1}
    assert "data $.usage.total_tokens" in removed  # the other chunks send "usage": null
    assert "usage.total_tokens" in removed
    assert report.breaking


def test_a_new_event_type_is_added_not_breaking(chat):
    report = verify(
        chat, base_url="http://drift.test", client=httpx.Client(transport=drifting(add_event_type))
    )
    assert [(d.kind, d.path) for d in report.drift if d.path.startswith("event")] == [
        ("added", "event keepalive")
    ]
    assert not report.breaking


def test_a_changed_type_is_breaking_and_a_renamed_event_too():
    from myna.cassettes._verify import Shape, compare_shapes

    old = Shape(
        200, {"$": {"object"}, "$.n": {"number"}}, ["start", "delta", "stop"], "stop", set()
    )
    new = Shape(
        200, {"$": {"object"}, "$.n": {"string"}}, ["begin", "delta", "stop"], "length", set()
    )
    drift = {(d.kind, d.path): d for d in compare_shapes(old, new)}
    assert drift["changed", "$.n"].breaking
    assert drift["removed", "event start"].breaking
    assert not drift["added", "event begin"].breaking
    assert not drift["changed", "finish_reason"].breaking
    narrower = Shape(200, {"$": {"object"}, "$.n": {"number"}}, None, None, set())
    wider = Shape(200, {"$": {"object"}, "$.n": {"number", "null"}}, None, None, set())
    assert compare_shapes(wider, narrower)[0].breaking is False  # fewer types: still readable
    assert compare_shapes(narrower, wider)[0].breaking is True


async def test_async_verify_reports_the_same(chat):
    async def handle(request: httpx.Request) -> httpx.Response:
        return sync.handle_request(request)

    sync = drifting(rename_usage)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        report = await averify(chat, base_url="http://drift.test", client=client)
    assert ("removed", "$.usage") in {(d.kind, d.path) for d in report.drift}
    clean = await averify(chat)
    assert clean.drift == [] and clean.checked == 2


# -- secrets and targets ---------------------------------------------------------------------


def test_the_key_comes_from_the_environment_never_the_file(chat, loopback, monkeypatch, capsys):
    server = loopback(script=["Hello there.", "Streaming words here"])
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-abcdef123456")
    assert "sk-recording-key" not in chat.read_text()  # scrubbed when recorded
    assert main(["cassettes", "verify", "--base-url", server.base_url, str(chat)]) == 0
    out = capsys.readouterr().out
    assert "same shape" in out and "sk-from-env" not in out
    sent = [r.headers["authorization"] for r in server.requests]
    assert sent == ["Bearer sk-from-env-abcdef123456"] * 2
    assert "sk-from-env" not in chat.read_text()


async def test_a_server_that_does_not_answer_is_breaking(chat, capsys):
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    report = verify(chat, base_url=dead)
    assert [(d.path, d.now, d.breaking) for d in report.drift] == [
        ("status", "no answer", True)
    ] * 2
    assert "no answer from" in report.notes[0]
    assert (await averify(chat, base_url=dead)).breaking
    assert main(["cassettes", "verify", "--base-url", dead, str(chat)]) == 1
    assert "changed status: 200 -> no answer  BREAKING" in capsys.readouterr().out


def test_live_needs_the_providers_key(chat, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["cassettes", "verify", "--live", str(chat)]) == 2
    assert "Set OPENAI_API_KEY" in capsys.readouterr().err


def test_the_command_exits_1_on_breaking_drift(chat, tmp_path, capsys):
    data = load_cassette(chat)
    data["interactions"][0]["response"]["body"]["json"]["usage"]["brand_new"] = {"x": 1}
    data["interactions"][0]["response"]["body"]["json"].pop("object")
    from myna.cassettes import dump_cassette

    edited = tmp_path / "edited.yaml"
    edited.write_text(dump_cassette(data))
    assert main(["cassettes", "verify", str(chat)]) == 0
    capsys.readouterr()
    assert main(["cassettes", "verify", str(chat), str(edited)]) == 1
    out = capsys.readouterr().out
    assert "#0 removed $.usage.brand_new: object  BREAKING" in out  # the emulator lacks it
    assert "#0 added $.object: string" in out
    assert "1 of 2 cassette(s) drifted in a breaking way" in out


@pytest.mark.parametrize(
    "path",
    [
        # a thinking stream: the emulator sends no signature_delta (a deliberate difference)
        REAL / "anthropic" / "test_anthropic_model_thinking_part_stream.yaml",
        REAL / "openai-chat" / "test_run_stream_sync_streams_real_model.yaml",
        # a thinking reply: the emulator sends no thoughtSignature (a deliberate difference)
        REAL / "gemini" / "test_google_model_thinking_part.yaml",
    ],
    ids=lambda p: p.parent.name,
)
def test_real_cassettes_show_the_emulators_gaps(path):
    report = verify(path)
    assert report.checked >= 1
    # these recordings carry fields the emulator does not send (see the closing note of issue 13)
    assert any(d.kind == "removed" for d in report.drift)
