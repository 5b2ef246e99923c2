"""fake_model, schema_model, emulator, model_calls, override_models (myna_script marker too)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_fake_model_from_marker_sync_and_async(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from myna.fakes import tool_call

        @pytest.mark.myna_script(["Sunny."])
        def test_sync(fake_model):
            assert fake_model.invoke("Weather?").text == "Sunny."

        @pytest.mark.myna_script([tool_call("get_weather", city="Oslo"), "Cold."], validate_tool_calls=False)
        async def test_async(fake_model):
            first = await fake_model.ainvoke("Oslo?")
            assert first.tool_calls[0]["args"] == {"city": "Oslo"}
            assert (await fake_model.ainvoke("and?")).text == "Cold."

        @pytest.mark.anyio
        @pytest.mark.myna_script(["via anyio"])
        async def test_anyio(fake_model, anyio_backend):
            assert (await fake_model.ainvoke("x")).text == "via anyio"

        @pytest.fixture
        def anyio_backend():
            return "asyncio"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_fake_model_factory_and_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_factory(fake_model):
            model = fake_model(["one two"], chunking="chars")
            assert [c.content for c in model.stream("x")][:3] == ["o", "n", "e"]
            other = fake_model(["unused"], assert_all_replies_used=False)
            assert other is not model
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_fake_model_without_script_explains_the_fix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_no_script(fake_model):
            fake_model.invoke("hi")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    assert (
        "ScriptExhaustedError: myna: FakeChatModel script exhausted: 0 replies were scripted and "
        "this is call #1. Add replies to the script, or pass cycle=True to repeat it. The "
        "fake_model fixture has no script: mark the test with "
        "@pytest.mark.myna_script(['reply', ...]) or build a model with fake_model(['reply', ...])."
    ) in result.stdout.str()


def test_unused_replies_fail_a_passing_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.myna_script(["used", "never requested"])
        def test_marker(fake_model):
            fake_model.invoke("x")

        def test_factory(fake_model):
            fake_model(["a", "b"]).invoke("x")

        @pytest.mark.myna_script(["used", "spare"], assert_all_replies_used=False)
        def test_relaxed(fake_model):
            fake_model.invoke("x")

        @pytest.mark.myna_script(["used", "spare"])
        def test_failing_anyway(fake_model):
            assert False, "the test's own failure"
        """
    )
    result = pytester.runpytest()
    # a call that passes and a teardown that fails count as one pass and one error
    result.assert_outcomes(passed=3, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*myna: fake_model: 1 of 2 scripted replies was never requested (1 call made); next "
            "unused: 'never requested'. Remove the extra replies, or pass "
            "assert_all_replies_used=False (to the myna_script marker or the fake_model(...) call).",
            "*myna: fake_model(...) #1: 1 of 2 scripted replies was never requested*next unused: 'b'*",
        ]
    )
    assert "the test's own failure" in result.stdout.str()
    # errors=2 above: the failing test is not blamed for its unused reply as well


def test_myna_script_from_yaml_and_bad_args(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("scripts").mkdir()
    pytester.path.joinpath("scripts", "weather.yaml").write_text(
        "replies:\n  - tool_call: {name: get_weather, args: {city: Paris}}\n  - It is sunny.\n"
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.myna_script("scripts/weather.yaml", validate_tool_calls=False)
        def test_yaml(fake_model):
            assert fake_model.invoke("x").tool_calls[0]["name"] == "get_weather"
            assert fake_model.invoke("y").text == "It is sunny."

        @pytest.mark.myna_script("Hello")
        def test_bare_string(fake_model):
            pass

        @pytest.mark.myna_script(["a"], ["b"])
        def test_two_args(fake_model):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=2)
    out = result.stdout.str()
    assert (
        "@pytest.mark.myna_script('Hello'): a string must be the path of a YAML script; "
        "wrap a single reply in a list: myna_script(['Hello!'])."
    ) in out
    assert "@pytest.mark.myna_script takes one argument, the list of replies" in out
    assert "got 2 arguments." in out


def test_schema_model(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from myna.tools import tool

        @tool
        def get_weather(city: str) -> str:
            '''Weather.

            Args:
                city: the city
            '''
            return "sunny"

        def test_schema(schema_model):
            reply = schema_model.bind_tools([get_weather]).invoke("weather?")
            assert reply.tool_calls[0]["name"] == "get_weather"
            assert isinstance(reply.tool_calls[0]["args"]["city"], str)
            assert schema_model(seed=3).seed == 3 and schema_model.seed == 0

        def test_bad_option(schema_model):
            schema_model(temprature=0)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UserError: SchemaChatModel got an unknown parameter temprature=. Did you mean 'temperature'?*"
        ]
    )


def test_emulator_factory_verifies_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from myna import init_chat_model

        def test_ok(emulator):
            server = emulator("anthropic", script=["Hello from the emulator!"])
            model = init_chat_model("anthropic:claude-haiku-4-5", api_key="test-key")
            assert model.invoke("Hi").text == "Hello from the emulator!"
            assert server.requests[0].last_message.text == "Hi"

        async def test_async(emulator):
            emulator("openai", script=["async hi"])
            model = init_chat_model("openai:gpt-4.1-mini", api_key="test-key")
            assert (await model.ainvoke("Hi")).text == "async hi"

        def test_unused_reply(emulator):
            emulator("openai", script=["one", "two"])
            init_chat_model("openai:gpt-4.1-mini", api_key="k").invoke("Hi")

        def test_relaxed(emulator):
            emulator("openai", script=["one", "two"], assert_all_replies_used=False)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*myna: 1 scripted reply was never requested (1 request received). Remove them, "
            "or pass assert_all_replies_used=False. (emulator 'openai')",
        ]
    )


def test_emulator_is_stopped_after_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest

        def test_first(emulator):
            emulator("openai", script=["x"], assert_all_replies_used=False)

        def test_after():
            # no emulator left: the request reaches the (blocked) network
            with pytest.raises(BaseException, match="network access is blocked"):
                httpx.post("https://api.openai.com/v1/chat/completions", json={})
        """
    )
    pytester.runpytest("--myna-block-network", "-p", "no:randomly").assert_outcomes(passed=2)


def test_the_session_interception_leaves_other_tests_respx_alone(pytester: pytest.Pytester) -> None:
    # the emulator fixture keeps one interception for the session; a later test's own respx
    # router still answers, and an emulator test after it is answered by the fixture again
    pytester.makepyfile(
        """
        import httpx, respx
        from myna import init_chat_model

        def _ask():
            model = init_chat_model("openai:gpt-4.1-mini", api_key="k", max_retries=0)
            return model.invoke("Hi").text

        def test_first(emulator):
            emulator("openai", script=["emulated"])
            assert _ask() == "emulated"

        def test_own_respx():
            with respx.mock() as router:
                router.get("https://example.test/").respond(json={"ok": True})
                assert httpx.get("https://example.test/").json() == {"ok": True}

        def test_again(emulator):
            emulator("openai", script=["again"])
            assert _ask() == "again"
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_model_calls_sees_every_model_in_order(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from myna import init_chat_model
        from myna.testing import assert_tool_call

        @pytest.mark.myna_script(["first"])
        def test_calls(fake_model, emulator, model_calls):
            emulator("openai", script=["second"])
            fake_model.invoke("a", temperature=0.2)
            list(init_chat_model("openai:gpt-4.1-mini", api_key="k").stream("b"))
            assert [r.provider for r in model_calls] == ["fake", "openai"]
            assert model_calls[0].params["temperature"] == 0.2
            assert model_calls.last.streamed and model_calls.last.output.text == "second"
            assert model_calls.last.messages[-1].text == "b"
            assert model_calls.usage["total_tokens"] > 0

        def test_fresh_per_test(model_calls, fake_model):
            assert model_calls == []
            fake_model(["x"]).invoke("y")
            assert model_calls.count == 1

        async def test_async(model_calls, fake_model):
            await fake_model(["x"]).ainvoke("y")
            assert model_calls.last.output.text == "x"

        def test_failure_message(model_calls):
            model_calls.last
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: myna: no model call was made."])


def test_override_models(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        app="""
        from myna import init_chat_model

        def answer(question):
            return init_chat_model("openai:gpt-4.1-mini").invoke(question).text

        async def aanswer(question):
            return (await init_chat_model("anthropic:claude-haiku-4-5").ainvoke(question)).text
        """,
        test_app="""
        import pytest
        import app
        from myna.fakes import FakeChatModel

        @pytest.mark.myna_script(["Sunny."])
        def test_marker_script(override_models, model_calls):
            fake = override_models()
            assert app.answer("Weather?") == "Sunny."
            assert model_calls.last.messages[-1].text == "Weather?"
            assert fake.calls[0].messages[-1].text == "Weather?"

        async def test_given_model(override_models):
            override_models(FakeChatModel(["Hi."]))
            assert await app.aanswer("hello") == "Hi."

        def test_mapping(override_models):
            override_models({"openai:gpt-4.1-mini": FakeChatModel(["mini"])})
            assert app.answer("q") == "mini"
            with pytest.raises(ValueError, match="override_models has no model for 'anthropic:claude-haiku-4-5'"):
                import asyncio
                asyncio.run(app.aanswer("q"))

        def test_restored_after(override_models):
            from myna.models import _registry
            assert _registry._OVERRIDES == []

        @pytest.mark.myna_script(["Sunny.", "unused"])
        def test_unused_reply_of_the_override(override_models):
            override_models()
            app.answer("q")
        """,
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=5, errors=1)
    result.stdout.fnmatch_lines(["*myna: fake_model: 1 of 2 scripted replies was never requested*"])
