"""`Interception`: one respx interception shared by many emulators (the plugin's per-session one)."""

from __future__ import annotations

import httpx
import pytest

from myna.emulators import Interception, emulate, serve
from myna.models import init_chat_model


def _openai(**params):
    return init_chat_model("openai:gpt-4.1-mini", api_key="k", max_retries=0, **params)


@pytest.fixture
def shared():
    interception = Interception()
    yield interception
    interception.uninstall()


def test_an_attached_emulator_answers_and_a_detached_one_no_longer_does(shared):
    server = emulate("openai", script=["Hello!"]).start(via=shared)
    assert shared.installed
    assert _openai().invoke("Hi").text == "Hello!"
    server.stop()
    assert server.requests[0].last_message.text == "Hi"
    second = emulate("openai", script=["Again"]).start(via=shared)
    assert _openai().invoke("Hi").text == "Again"
    second.stop()
    assert len(server.requests) == 1


async def test_async_clients_are_answered_too(shared):
    server = emulate("anthropic", script=["Hej"]).start(via=shared)
    model = init_chat_model("anthropic:claude-haiku-4-5", api_key="k", max_retries=0)
    assert (await model.ainvoke("Hi")).text == "Hej"
    server.stop()


def test_idle_it_lets_requests_through_to_the_real_transport(shared):
    emulate("openai", script=["x"]).start(via=shared).stop(check=False)
    with serve("openai", ["From the loopback server"]) as real:
        model = _openai(base_url=real.base_url + "/v1")
        assert model.invoke("Hi").text == "From the loopback server"


def test_idle_it_lets_a_later_router_answer(shared):
    emulate("openai", script=["x"]).start(via=shared).stop(check=False)
    with emulate("openai", script=["From the plain emulator"]):
        assert _openai().invoke("Hi").text == "From the plain emulator"


def test_while_attached_other_hosts_are_not_emulated(shared):
    server = emulate("openai", script=[]).start(via=shared)
    with pytest.raises(AssertionError, match=r"myna: POST https://example\.test/ was blocked"):
        httpx.post("https://example.test/", json={})
    server.stop()


def test_nested_emulators_answer_their_own_hosts(shared):
    first = emulate("openai", script=["OpenAI"]).start(via=shared)
    second = emulate("anthropic", script=["Anthropic"]).start(via=shared)
    claude = init_chat_model("anthropic:claude-haiku-4-5", api_key="k", max_retries=0)
    assert claude.invoke("Hi").text == "Anthropic"
    assert _openai().invoke("Hi").text == "OpenAI"
    second.stop()
    first.stop()
    assert repr(shared) == "Interception(installed, 0 emulators attached)"
