"""The pytest plugin's `lc_fake_model` fixture, and `override_models` over LangChain's
`init_chat_model`."""

from __future__ import annotations

import subprocess
import sys

import pytest
from langchain.chat_models import init_chat_model
from langchain_core.prompts import ChatPromptTemplate

from myna.fakes import FakeChatModel
from myna.interop.langchain import MynaChatModel
from myna.testing import override_models


@pytest.mark.myna_script(["Bonjour !"])
def test_lc_fake_model_is_the_fake_model_fixture_as_a_langchain_model(
    lc_fake_model, fake_model
) -> None:
    prompt = ChatPromptTemplate.from_messages([("user", "Say hello in {language}.")])
    reply = (prompt | lc_fake_model).invoke({"language": "French"})
    assert reply.content == "Bonjour !"
    assert fake_model.calls[0].messages[-1].text == "Say hello in French."
    assert lc_fake_model.calls is fake_model.calls


async def test_lc_fake_model_builds_others(lc_fake_model) -> None:
    llm = lc_fake_model(["One.", "Two."])
    assert isinstance(llm, MynaChatModel)
    assert [(await llm.ainvoke("x")).content, llm.invoke("y").content] == ["One.", "Two."]


def test_unused_replies_of_lc_fake_model_fail_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.myna_script(["used", "never used"])
        def test_one(lc_fake_model):
            assert lc_fake_model.invoke("x").content == "used"
        """
    )
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest("-p", "no:langsmith_plugin", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*never used*"])


PROBE = (
    "import sys, myna.pytest_plugin, myna.pytest_plugin._langchain\n"
    "from myna.fakes import FakeChatModel\n"
    "from myna.testing import override_models\n"
    "{code}\n"
    "print('langchain_core' in sys.modules)"
)


@pytest.mark.parametrize(
    ("code", "loaded"),
    [
        ("FakeChatModel(['x']).invoke('y')", False),
        # installed langchain is patched even when the app imports it later, lazily
        ("with override_models(FakeChatModel(['x'])) as fake: fake.invoke('y')", True),
    ],
    ids=["plugin-and-fakes", "override_models"],
)
def test_langchain_loads_only_when_asked_for(code: str, loaded: bool) -> None:
    probe = PROBE.format(code=code)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(loaded)


def test_override_models_covers_langchain_init_chat_model() -> None:
    fake = FakeChatModel(["From the fake."])
    with override_models(fake):
        llm = init_chat_model("openai:gpt-4.1-mini", temperature=0)
        assert isinstance(llm, MynaChatModel) and llm.myna_model is fake
        assert llm.invoke("Hi").content == "From the fake."
    with pytest.raises(ImportError, match="langchain-openai"):
        init_chat_model("openai:gpt-4.1-mini")  # restored: the real one needs its package


def test_override_models_table_serves_configurable_langchain_models() -> None:
    cheap, smart = FakeChatModel(["cheap"]), FakeChatModel(["smart"])
    table = {"openai:gpt-4.1-mini": cheap, "anthropic:claude-sonnet-4-5": smart}
    with override_models(table):
        llm = init_chat_model(configurable_fields=("model", "model_provider"))
        config = {"configurable": {"model": "claude-sonnet-4-5", "model_provider": "anthropic"}}
        assert llm.invoke("Hi", config=config).content == "smart"
        assert (
            llm.invoke("Hi", config={"configurable": {"model": "openai:gpt-4.1-mini"}}).content
            == "cheap"
        )
        with pytest.raises(Exception, match="no model for 'openai:gpt-5'"):
            init_chat_model("gpt-5", model_provider="openai")
