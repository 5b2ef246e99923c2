"""A test's replay-only cassette (the `cassette` fixture in mode ``none``) lets nothing out and
fails the test with the real reason, also when the client swallowed it (issue 10)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_a_client_cassettes_cannot_see_fails_naming_the_cassette(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_urllib="""
        import urllib.request

        def test_calls(cassette):
            urllib.request.urlopen("https://api.example.test/v1/models", timeout=5)
        """
    )
    # the run's network block is on too: the cassette, innermost, names itself
    result = pytester.runpytest("--myna-record-mode=none", "--myna-block-network")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*NetworkBlockedError: myna: cassette *test_calls.yaml (mode 'none') only replays*"
            "api.example.test:443*"
        ]
    )


def test_a_miss_the_sdk_swallowed_fails_the_teardown(pytester: pytest.Pytester):
    pytest.importorskip("openai")
    pytester.makepyfile(
        test_swallow="""
        import openai

        def test_falls_back(cassette):
            client = openai.OpenAI(api_key="k")
            try:
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "hi"}]
                )
            except Exception:
                pass  # the app's fallback: the test itself passes
            assert len(cassette.misses) == 1  # one request: the SDK did not retry
        """
    )
    result = pytester.runpytest("--myna-record-mode=none", "--myna-block-network")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMismatch: myna: no recorded interaction matches "
            "POST https://api.openai.com/v1/chat/completions"
        ]
    )


def test_a_test_failing_of_a_swallowed_miss_is_told_the_miss(pytester: pytest.Pytester):
    pytest.importorskip("openai")
    pytester.makepyfile(
        test_consequence="""
        import openai
        from myna import init_chat_model

        def answer(client):
            try:
                completion = client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "hi"}]
                )
                return completion.choices[0].message.content
            except Exception:
                return "fallback"

        def test_consequence(cassette):
            assert answer(openai.OpenAI(api_key="k")) == "Hello"

        def test_the_miss_itself(cassette):
            init_chat_model("openai:gpt-4.1-mini", api_key="k").invoke("hi")
        """
    )
    result = pytester.runpytest("--myna-record-mode=none", "--myna-block-network")
    # the consequence fails the call, the miss its teardown; a failure that is the miss
    # itself (myna's providers get it raised) is not told twice
    result.assert_outcomes(failed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_consequence*",
            "*CassetteMismatch: myna: no recorded interaction matches POST "
            "https://api.openai.com/v1/chat/completions",
        ]
    )
    assert "ERROR at teardown of test_the_miss_itself" not in result.stdout.str()
