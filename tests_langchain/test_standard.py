"""LangChain's own standard tests (langchain-tests) against `to_langchain(...)` over myna fakes.

Every capability flag is on. The model is a myna `FunctionChatModel` that reads the prompt
the way the tests expect a real model to: it calls the bound tool the prompt names with
the arguments it states, fills structured output with valid values, and answers text
otherwise. `test_serdes` is skipped by the suite itself (only LangChain's own packages can
be serializable).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from myna.fakes import FakeChatModel, FunctionChatModel, FunctionInfo, example_value, tool_call
from myna.interop.langchain import MynaChatModel, from_langchain, to_langchain
from myna.messages import AIMessage as MynaAIMessage
from myna.messages import BaseMessage, ToolMessage, build_usage

pytestmark = pytest.mark.usefixtures("served_downloads")


def _arguments(spec: dict[str, Any], text: str) -> dict[str, Any]:
    """The arguments a careful model would read from `text` for the tool `spec`."""
    properties = spec.get("parameters", {}).get("properties", {})
    required = spec.get("parameters", {}).get("required", list(properties))
    called = re.search(rf"{re.escape(spec['name'])}\(([^)]*)\)", text)
    numbers = [int(n) for n in re.findall(r"-?\d+", called.group(1) if called else text)]
    quoted = re.findall(r"'([^']+)'", text)
    args: dict[str, Any] = {}
    for name in required:
        kind = properties.get(name, {}).get("type")
        if kind == "integer":
            args[name] = numbers.pop(0) if numbers else 0
        elif kind == "string":
            args[name] = quoted.pop(0) if quoted else text
        else:
            args[name] = example_value(properties.get(name, {}))
    return args


def reads_the_prompt(messages: list[BaseMessage], info: FunctionInfo) -> Any:
    """The standard tests' model: tools and structured output from the prompt, else text."""
    last = messages[-1]
    if info.structured:
        schema = info.structured["schema"]
        return example_value(schema) if schema else {"answer": "yes"}
    if info.tools and info.tool_choice != "none" and not isinstance(last, ToolMessage):
        text = last.text
        choice = info.tool_choice
        named = [t for t in info.tools if t.get("name") == choice]
        mentioned = [t for t in info.tools if t.get("name", "") in text]
        spec = (named or mentioned or info.tools)[0]
        return tool_call(spec["name"], **_arguments(spec, text))
    return f"Hello! You said: {last.text[:40] or 'nothing'}"


def _detail(model: BaseChatModel, stream: bool) -> AIMessage:
    """The standard usage-detail hooks' reply: invoked, or streamed and added up."""
    if not stream:
        return model.invoke("Hello")  # type: ignore[return-value]
    full = None
    for chunk in model.stream("Hello"):
        full = chunk if full is None else full + chunk
    return full  # type: ignore[return-value]


class _Capabilities:
    """Every capability flag on."""

    @staticmethod
    def wrap(model: Any) -> MynaChatModel:
        """The LangChain model under test, over a myna model."""
        return to_langchain(model)

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return MynaChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        model = self.wrap(FunctionChatModel(reads_the_prompt, model="fake-function"))
        return {"myna_model": model.myna_model, "model": "fake-function"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        # a myna provider model built from a model string reads its key as it would alone
        return (
            {"OPENAI_API_KEY": "sk-from-env"},
            {"model": "openai:gpt-4.1-mini"},
            {"api_key": "sk-from-env", "model": "openai:gpt-4.1-mini"},
        )

    def _usage(self, stream: bool, **details: int) -> AIMessage:
        reply = MynaAIMessage("Some words.", usage_metadata=build_usage(20, 10, **details))
        return _detail(self.wrap(FakeChatModel([reply])), stream)

    def invoke_with_audio_input(self, *, stream: bool = False) -> AIMessage:
        return self._usage(stream, input_audio=5)

    def invoke_with_audio_output(self, *, stream: bool = False) -> AIMessage:
        return self._usage(stream, output_audio=4)

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        return self._usage(stream, reasoning=3)

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        return self._usage(stream, cache_read=12)

    def invoke_with_cache_creation_input(self, *, stream: bool = False) -> AIMessage:
        return self._usage(stream, cache_creation=6)

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_pdf_inputs(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def supports_video_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_pdf_tool_message(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supported_usage_metadata_details(self) -> dict[str, list[str]]:
        details = [
            "audio_input",
            "audio_output",
            "reasoning_output",
            "cache_read_input",
            "cache_creation_input",
        ]
        return {"invoke": details, "stream": details}

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "fake-override"

    @property
    def enable_vcr_tests(self) -> bool:
        return True


class TestMynaChatModelUnit(_Capabilities, ChatModelUnitTests):
    pass


class TestMynaChatModelIntegration(_Capabilities, ChatModelIntegrationTests):
    pass


class _RoundTrip(_Capabilities):
    """The same suites over ``to_langchain(from_langchain(to_langchain(fake)))``: a LangChain
    model taken into myna and back must lose nothing the suites check."""

    @staticmethod
    def wrap(model: Any) -> MynaChatModel:
        return to_langchain(from_langchain(to_langchain(model)))


class TestRoundTripUnit(_RoundTrip, ChatModelUnitTests):
    pass


class TestRoundTripIntegration(_RoundTrip, ChatModelIntegrationTests):
    pass


class _LangChainFakeRoundTrip:
    """LangChain's own `GenericFakeChatModel` taken into myna and back: what it can do (text,
    streaming, conversations) survives; what it cannot (tools, usage) is switched off."""

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return MynaChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        lc_fake = GenericFakeChatModel(messages=itertools.cycle(["Hello there, friend."]))
        return {"myna_model": from_langchain(lc_fake, model="generic-fake")}

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False

    @property
    def returns_usage_metadata(self) -> bool:
        return False

    @property
    def supports_model_override(self) -> bool:
        return False

    # it answers whatever it is sent: multimodal inputs are conversions to check
    supports_image_inputs = supports_image_urls = supports_pdf_inputs = True
    supports_audio_inputs = supports_video_inputs = True
    enable_vcr_tests = True
    init_from_env_params = _Capabilities.init_from_env_params


class TestLangChainFakeRoundTripUnit(_LangChainFakeRoundTrip, ChatModelUnitTests):
    pass


class TestLangChainFakeRoundTripIntegration(_LangChainFakeRoundTrip, ChatModelIntegrationTests):
    pass
