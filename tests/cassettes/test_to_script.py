"""`to_script` / ``myna cassettes to-script``: one recording drives every provider's emulator."""

from __future__ import annotations

from pathlib import Path

import anthropic
import openai
import pytest
import yaml
from google import genai
from google.genai import types

from myna.cassettes import CassetteError, cassette, to_script
from myna.cli import main
from myna.emulators import emulate
from myna.fakes import FakeChatModel, fault, load_script, tool_call
from myna.messages import AIMessage

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real"
REAL_FILES = sorted(p for p in REAL.rglob("*") if p.is_file() and p.suffix != ".md")
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
OPENAI_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": SCHEMA}}
ANTHROPIC_TOOL = {"name": "get_weather", "description": "Weather.", "input_schema": SCHEMA}
GEMINI_CONFIG = types.GenerateContentConfig(
    tools=[
        types.Tool(
            function_declarations=[
                types.FunctionDeclaration(name="get_weather", parameters_json_schema=SCHEMA)
            ]
        )
    ]
)
RECORDED = [
    tool_call("get_weather", city="Paris"),
    AIMessage(
        "Sunny in Paris.",
        usage_metadata={"input_tokens": 11, "output_tokens": 4, "total_tokens": 15},
    ),
    fault.rate_limit(retry_after=3),
]


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def record_openai(path: Path, mode: str) -> None:
    """Record a tool call, a streamed answer and a 429 through the OpenAI emulator."""
    with emulate("openai", script=RECORDED), cassette(path, mode="once"):
        if mode == "sync":
            client = openai.OpenAI(api_key="sk-test", max_retries=0)
            client.chat.completions.create(
                model="gpt-4.1-mini", messages=user("Weather?"), tools=[OPENAI_TOOL]
            )
            list(
                client.chat.completions.create(
                    model="gpt-4.1-mini",
                    messages=user("And now?"),
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )
            with pytest.raises(openai.RateLimitError):
                client.chat.completions.create(model="gpt-4.1-mini", messages=user("Again"))
        else:
            aclient = openai.AsyncOpenAI(api_key="sk-test", max_retries=0)
            await aclient.chat.completions.create(
                model="gpt-4.1-mini", messages=user("Weather?"), tools=[OPENAI_TOOL]
            )
            stream = await aclient.chat.completions.create(
                model="gpt-4.1-mini",
                messages=user("And now?"),
                stream=True,
                stream_options={"include_usage": True},
            )
            async for _ in stream:
                pass
            with pytest.raises(openai.RateLimitError):
                await aclient.chat.completions.create(model="gpt-4.1-mini", messages=user("Again"))


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_an_openai_recording_replays_through_anthropic_and_gemini(tmp_path, mode):
    recording, script_path = tmp_path / "openai.yaml", tmp_path / "script.yaml"
    await record_openai(recording, mode)
    entries = to_script(recording, script_path)

    assert entries[0]["message"]["tool_calls"] == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_0_0"}
    ]
    assert entries[1]["message"]["content"] == "Sunny in Paris."
    assert entries[1]["message"]["usage_metadata"]["output_tokens"] == 4
    assert entries[2]["fault"]["kind"] == "rate_limit"
    assert entries[2]["fault"]["retry_after"] == 3
    script = load_script(script_path)

    with emulate("anthropic", script=script):
        if mode == "sync":
            client = anthropic.Anthropic(api_key="sk-ant-test", max_retries=0)
            first = client.messages.create(
                model="claude-haiku-4-5", max_tokens=99, messages=user("W?"), tools=[ANTHROPIC_TOOL]
            )
            with client.messages.stream(
                model="claude-haiku-4-5", max_tokens=99, messages=user("Now?")
            ) as stream:
                second = stream.get_final_message()
            with pytest.raises(anthropic.RateLimitError) as caught:
                client.messages.create(model="claude-haiku-4-5", max_tokens=9, messages=user("A"))
        else:
            aclient = anthropic.AsyncAnthropic(api_key="sk-ant-test", max_retries=0)
            first = await aclient.messages.create(
                model="claude-haiku-4-5", max_tokens=99, messages=user("W?"), tools=[ANTHROPIC_TOOL]
            )
            async with aclient.messages.stream(
                model="claude-haiku-4-5", max_tokens=99, messages=user("Now?")
            ) as astream:
                second = await astream.get_final_message()
            with pytest.raises(anthropic.RateLimitError) as caught:
                await aclient.messages.create(
                    model="claude-haiku-4-5", max_tokens=9, messages=user("A")
                )
    (call,) = [block for block in first.content if block.type == "tool_use"]
    assert (call.name, call.input) == ("get_weather", {"city": "Paris"})
    assert first.stop_reason == "tool_use"
    assert second.content[0].text == "Sunny in Paris."
    assert (second.usage.input_tokens, second.usage.output_tokens) == (11, 4)
    assert caught.value.response.headers["retry-after"] == "3"

    # google-genai's async client goes through aiohttp when it is installed; the sync one
    # (httpx) is enough to show the same script drives Gemini
    with emulate("google_genai", script=script):
        client = genai.Client(
            api_key="g-test",
            http_options=types.HttpOptions(retry_options=types.HttpRetryOptions(attempts=1)),
        )
        first = client.models.generate_content(
            model="gemini-2.5-flash", contents="W?", config=GEMINI_CONFIG
        )
        chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="N"))
        with pytest.raises(genai.errors.APIError) as failed:
            client.models.generate_content(model="gemini-2.5-flash", contents="A")
    (call,) = first.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    assert "".join(c.text or "" for c in chunks) == "Sunny in Paris."
    usage = chunks[-1].usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count) == (11, 4)
    assert failed.value.code == 429


def test_the_script_loads_into_a_fake_model(tmp_path):
    recording = tmp_path / "openai.yaml"
    with emulate("openai", script=RECORDED[:2]), cassette(recording, mode="once"):
        client = openai.OpenAI(api_key="sk-test", max_retries=0)
        client.chat.completions.create(
            model="gpt-4.1-mini", messages=user("W?"), tools=[OPENAI_TOOL]
        )
        client.chat.completions.create(model="gpt-4.1-mini", messages=user("N?"))
    to_script(recording, tmp_path / "script.yaml")

    model = FakeChatModel(tmp_path / "script.yaml", validate_tool_calls=False)
    assert model.invoke("W?").tool_calls[0]["args"] == {"city": "Paris"}
    reply = model.invoke("N?")
    assert reply.text == "Sunny in Paris."
    assert reply.usage_metadata["total_tokens"] == 15


async def test_reasoning_and_structured_output_survive(tmp_path):
    thinking = REAL / "anthropic" / "test_anthropic_model_thinking_part_stream.yaml"
    (entry,) = to_script(thinking)
    kinds = [block["type"] for block in entry["message"]["content"]]
    assert kinds == ["reasoning", "text"]
    assert "signature" not in str(entry)  # provider-specific: not carried over

    (structured,) = to_script(
        REAL / "ollama" / "test_ollama_local_native_output_uses_json_schema.yaml"
    )
    assert isinstance(structured["json"], dict) and structured["json"]

    to_script(thinking, tmp_path / "thinking.yaml")
    with emulate("openai", script=load_script(tmp_path / "thinking.yaml")):
        reply = await openai.AsyncOpenAI(api_key="sk", max_retries=0).responses.create(
            model="gpt-5", input="How do I cross the street?"
        )
    assert reply.output_text.startswith("Here are the basic steps")
    assert any(item.type == "reasoning" for item in reply.output)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_cassette_converts_to_a_loadable_script(tmp_path, path):
    out = tmp_path / "script.yaml"
    entries = to_script(path, out)
    replies = load_script(out)
    assert len(replies) == len(entries) > 0
    FakeChatModel(out)  # loads


def test_the_command_writes_or_prints_the_script(tmp_path, capsys):
    source = REAL / "openai-chat" / "test_tool_use_basic.yaml"
    assert main(["cassettes", "to-script", str(source), "-o", str(tmp_path / "x.yaml")]) == 0
    assert "2 script entries" in capsys.readouterr().out
    assert len(load_script(tmp_path / "x.yaml")) == 2

    assert main(["cassettes", "to-script", str(source)]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["replies"][0]["message"]["tool_calls"][0]["name"]


def test_a_recording_without_a_chat_call_is_refused(tmp_path, capsys):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# myna cassette\nversion: 1\nrecorded_with: myna 0\ninteractions: []\n")
    with pytest.raises(CassetteError, match="records no chat API call"):
        to_script(empty)
    assert main(["cassettes", "to-script", str(empty)]) == 2
    assert "nothing to script" in capsys.readouterr().err
