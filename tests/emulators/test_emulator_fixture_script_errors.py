"""The ``emulator`` fixture fails the owning test with `UnmatchedRequestError` quoting the
script error, even when the client swallowed the 400 and even when the test failed too."""

from __future__ import annotations

pytest_plugins = ["pytester"]

INI = (
    "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    "addopts = -p no:benchmark -p no:randomly\n"
)


def test_a_swallowed_script_error_fails_the_test_with_the_named_error(pytester, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import httpx
        from myna.fakes import tool_call

        CHAT = "https://api.openai.com/v1/chat/completions"
        BODY = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hi"}]}

        def ask():
            response = httpx.post(CHAT, json=BODY, headers={"authorization": "Bearer k"})
            # an app that falls back on any error: the 400 goes unseen
            return response.json()["choices"][0]["message"]["content"] if response.is_success else "fallback"

        def test_swallowed(emulator):
            emulator("openai", script=[tool_call("lookup", email="a@b"), "Plain text answer."])
            assert ask() == "fallback"

        def test_failed_too(emulator):
            emulator("openai", script=[])
            assert ask() == "the answer"  # fails, but only because of the script error
        """
    )
    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=1, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*UnmatchedRequestError: myna: the emulator could not answer 1 request; first: "
            "FakeChatModel reply #1 calls tool 'lookup', but no tools are bound.*"
            "(emulator 'openai')",
            "*UnmatchedRequestError: myna: the emulator could not answer 1 request; first: "
            "FakeChatModel script exhausted*(emulator 'openai')",
        ],
        consecutive=False,
    )
