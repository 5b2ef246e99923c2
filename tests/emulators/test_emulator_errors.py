"""The emulator's checks raise named errors, which are also `AssertionError`s (as respx's are)."""

from __future__ import annotations

import pytest

from myna.emulators import emulate
from myna.exceptions import (
    BadRequestError,
    EmulatorError,
    MynaError,
    ScriptExhaustedError,
    UnmatchedRequestError,
    UnusedRepliesError,
)
from myna.models import init_chat_model


@pytest.mark.parametrize("cls", [EmulatorError, UnmatchedRequestError, UnusedRepliesError])
def test_emulator_errors_are_myna_errors_and_assertion_errors(cls):
    assert issubclass(cls, MynaError) and issubclass(cls, AssertionError)


def test_unused_replies_raise_unused_replies_error():
    with pytest.raises(UnusedRepliesError, match="1 scripted reply was never requested"):
        with emulate("openai", script=["never asked"]):
            pass


def test_a_request_past_the_script_raises_unmatched_request_error_on_exit():
    model = init_chat_model("openai:gpt-4.1-mini", api_key="k", max_retries=0)
    with pytest.raises(UnmatchedRequestError, match="could not answer 1 request") as caught:
        with emulate("openai", script=[]):
            with pytest.raises(BadRequestError, match="myna emulator script error: FakeChat"):
                model.invoke("Hi")
    assert isinstance(caught.value.__cause__, ScriptExhaustedError)


def test_last_of_no_calls_is_an_emulator_error():
    with emulate("openai") as server:
        with pytest.raises(EmulatorError, match="received no requests"):
            _ = server.calls.last
