"""The public script engine: `answer` / `aanswer` and `upcoming`, which the emulators use."""

from __future__ import annotations

import pytest

from myna.exceptions import RateLimitError, UserError
from myna.fakes import FakeChatModel, fault
from myna.messages import HumanMessage
from myna.models import ChatRequest


def test_answer_logs_the_call_and_returns_the_reply():
    fake = FakeChatModel(["Hello!", fault.disconnect(after_chunks=1), "Cut short"])
    assert fake.upcoming == "Hello!"
    message, cut = fake.answer(ChatRequest([HumanMessage("Hi")], {}))
    assert (message.text, cut) == ("Hello!", None)
    assert fake.calls[0].reply is message and not fake.calls[0].streamed
    message, cut = fake.answer(ChatRequest([HumanMessage("Again")], {}), streamed=True)
    assert message.text == "Cut short" and cut is not None and cut.after_chunks == 1
    assert fake.calls[1].streamed and fake.remaining == 0


async def test_aanswer_raises_the_scripted_error_and_logs_it():
    fake = FakeChatModel([fault.rate_limit()])
    with pytest.raises(RateLimitError) as caught:
        await fake.aanswer(ChatRequest([HumanMessage("Hi")], {}))
    assert fake.calls[0].error is caught.value
    assert fake.upcoming is not None and fake.remaining == 0


def test_upcoming_of_an_empty_script_is_none():
    assert FakeChatModel([]).upcoming is None


def test_rewind_to_gives_back_a_reply():
    fake = FakeChatModel(["one", "two"])
    assert fake.invoke("a").text == "one"
    assert fake.position == 1
    fake.rewind_to(0)
    assert fake.invoke("b").text == "one" and fake.invoke("c").text == "two"
    with pytest.raises(UserError, match="position >= 0"):
        fake.rewind_to(-1)
