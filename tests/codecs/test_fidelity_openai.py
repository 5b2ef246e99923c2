"""The OpenAI emulators answer in the shape the real APIs sent (issue 13's fidelity bar).

`myna.cassettes.verify` re-sends every real recorded OpenAI-protocol request in
``cassettes/real/`` to myna's own emulator, scripted with the recorded reply, and compares the
shapes. What still breaks is listed here exactly, each with its reason (README "Fidelity"), so
a regression, or a gap that a change closes without updating this list, fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from myna.cassettes import averify, verify

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real"
DIRS = ("openai-chat", "openai-compatible", "openai-responses")
CASSETTES = sorted(p for d in DIRS for p in (REAL / d).iterdir() if p.suffix in (".yaml", ".yml"))

# Stream padding (``obfuscation``): random filler OpenAI adds to stream events against a
# length side channel; it carries nothing, so the emulator leaves it out.
OBFUSCATION = {"data $.obfuscation"}
# A reasoning model's reasoning item with no summary text: the script made from the recording
# has no reasoning to render, so the emulator sends no reasoning item (and no
# ``encrypted_content`` / ``summary`` / ``content`` keys).
HIDDEN_REASONING = {"$.output[*].encrypted_content", "$.output[*].summary"}
# ``instructions`` become the leading system message; the reply is rendered without the request
# body, so the Responses emulator echoes ``instructions: null``.
INSTRUCTIONS = {"$.instructions"}
# Other vendors' dialects on the Chat Completions wire (Azure content filters, DeepSeek cache
# counts, OpenRouter / Groq / Azure error bodies and usage extras, Groq's ``reasoning``
# field): the emulator speaks OpenAI's own dialect.
# A fault inside a 200 stream (OpenRouter, Groq) becomes a script fault, which the emulator
# answers with an HTTP error status.

DELIBERATE: dict[str, set[str]] = {
    "openai-chat/test_azure_provider_call.yaml": {
        "$.choices[*].content_filter_results",
        "$.prompt_filter_results",
    },
    "openai-chat/test_complex_agent_run_in_workflow.yaml": OBFUSCATION,
    "openai-chat/test_run_stream_sync_streams_real_model.yaml": OBFUSCATION,
    "openai-compatible/chat_real_error_scenarios_azure_grok-4-1-fast-non-reasoning_"
    "handles_context_length_exceeded_errors.yml": {"$.error.details"},
    "openai-compatible/test_deepseek_model_thinking_stream.yaml": {
        "data $.usage.prompt_cache_hit_tokens",
        "data $.usage.prompt_cache_miss_tokens",
    },
    "openai-compatible/test_openrouter_errors_raised.yaml": {
        "$.error.code",
        "$.error.metadata",
        "$.user_id",
    },
    "openai-compatible/test_openrouter_stream_error.yaml": {"status"},
    "openai-compatible/test_tool_use_failed_error.yaml": {
        "$.choices[*].message.reasoning",
        "$.error.failed_generation",
        "$.usage.completion_time",
        "$.usage.prompt_time",
        "$.usage.queue_time",
        "$.usage.total_time",
        "$.usage_breakdown",
        "$.x_groq",
    },
    "openai-compatible/test_tool_use_failed_error_streaming.yaml": {
        "data $.choices[*].delta.channel",
        "data $.choices[*].delta.reasoning",
        "data $.usage",
        "data $.x_groq",
        "status",
        "usage.input_tokens",
        "usage.output_token_details",
        "usage.output_tokens",
        "usage.total_tokens",
    },
    "openai-responses/chat_function_calling_openai_gpt-5-nano_can_use_parallel_tool_calls.yml": {
        *HIDDEN_REASONING,
        "$.output[*].content",
    },
    "openai-responses/chat_vision_models_openai_gpt-5-nano_can_understand_local_images.yml": (
        HIDDEN_REASONING
    ),
    "openai-responses/chat_with_schema_with_openai_gpt-5-nano_accepts_a_json_schema_and_"
    "returns_structured_output.yml": HIDDEN_REASONING,
    "openai-responses/test_openai_instructions_with_responses_logprobs_streaming.yaml": {
        "response.created $.response.instructions",
        "response.in_progress $.response.instructions",
        "response.completed $.response.instructions",
        # token logprobs: the script keeps none, so the emulator sends empty lists
        "response.completed $.response.output[*].content[*].logprobs[*]",
        "response.output_item.done $.item.content[*].logprobs[*]",
        "response.output_text.delta $.logprobs[*]",
        "response.output_text.done $.logprobs[*]",
        "response.output_text.delta $.obfuscation",
    },
    "openai-responses/test_openai_responses_reasoning_generate_summary.yaml": INSTRUCTIONS,
    "openai-responses/test_responses_basic_streaming.yaml": {
        "response.output_text.delta $.obfuscation"
    },
    "openai-responses/test_responses_round_trips_encrypted_reasoning.yaml": HIDDEN_REASONING,
    "openai-responses/test_responses_tool_use_streaming.yaml": {
        "response.function_call_arguments.delta $.obfuscation",
        "response.output_text.delta $.obfuscation",
    },
}
"""Every breaking difference left, per cassette: each one a documented deliberate difference."""


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _breaking(report) -> set[str]:
    return {d.path for d in report.drift if d.breaking}


def test_every_openai_real_cassette_is_checked():
    assert len(CASSETTES) == 32
    assert set(DELIBERATE) <= {_name(p) for p in CASSETTES}


@pytest.mark.parametrize("path", CASSETTES, ids=_name)
def test_only_the_deliberate_differences_remain(path):
    report = verify(path)
    assert report.checked >= 1
    assert _breaking(report) == DELIBERATE.get(_name(path), set()), "\n".join(report.lines())


def test_the_gaps_closed_stay_closed():
    """The fields the emulators once lacked are sent now, in the recorded types."""
    chat = verify(REAL / "openai-chat" / "test_tool_use_basic.yaml")
    assert not chat.breaking
    responses = verify(REAL / "openai-responses" / "test_responses_basic_non_streaming.yaml")
    assert not responses.breaking
    paths = {d.path for d in responses.drift}
    for gone in ("$.billing", "$.text.verbosity", "$.output[*].phase", "$.max_tool_calls"):
        assert gone not in paths


async def test_async_verify_reports_the_same():
    path = REAL / "openai-chat" / "test_complex_agent_run_in_workflow.yaml"
    report = await averify(path)
    assert _breaking(report) == OBFUSCATION
    assert report.checked == 3


def test_breaking_count_over_the_openai_cassettes():
    broken = [p for p in CASSETTES if verify(p).breaking]
    assert len(broken) == len(DELIBERATE) == 17
