"""The cassette and chat_model fixtures, the myna_cassette / myna_model markers, the
record-mode and cassette-dir options, and what the report says about cassettes."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

PLAIN = """
import pytest
from myna import init_chat_model

def test_plain(cassette, emulator):
    if not cassette.interactions:  # recording: the emulator plays the provider
        emulator("anthropic", script=["Hello!"])
    model = init_chat_model("anthropic:claude-haiku-4-5", api_key="k")
    assert model.invoke("Hi").text == "Hello!"
"""


def test_cassette_records_then_replays(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rec=PLAIN)
    first = pytester.runpytest("--myna-record-mode=once")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(
        ["cassettes: 0 replayed, 1 recorded, 0 missing, 0 with unplayed interactions"]
    )
    path = pytester.path / "cassettes" / "test_rec" / "test_plain.yaml"
    assert "api.anthropic.com/v1/messages" in path.read_text()
    assert "k\n" not in path.read_text()  # the key is never written
    second = pytester.runpytest("--myna-record-mode=none", "--myna-block-network")
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(
        ["cassettes: 1 replayed, 0 recorded, 0 missing, 0 with unplayed interactions"]
    )


def test_cassette_async(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from myna import init_chat_model

        async def test_async(cassette, emulator):
            if not cassette.interactions:
                emulator("openai", script=["async hello"])
            model = init_chat_model("openai:gpt-4.1-mini", api_key="k")
            assert (await model.ainvoke("Hi")).text == "async hello"
        """
    )
    pytester.runpytest("--myna-record-mode=once").assert_outcomes(passed=1)
    pytester.runpytest("--myna-record-mode=none").assert_outcomes(passed=1)


def test_missing_cassette_fails_and_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rec=PLAIN.replace("if not cassette.interactions:", "if False:"))
    result = pytester.runpytest("--myna-record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMismatch: myna: no recorded interaction matches POST https://api.anthropic.com/v1/messages",
            "*the cassette file does not exist yet.",
            "*to record it: run pytest with --myna-record-mode=once*",
            "cassettes: 0 replayed, 0 recorded, 1 missing, 0 with unplayed interactions",
            "  missing: cassettes/test_rec/test_plain.yaml (test_rec.py::test_plain)",
        ]
    )


def test_unplayed_interactions_error_and_are_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rec=PLAIN)
    pytester.runpytest("--myna-record-mode=once").assert_outcomes(passed=1)
    pytester.makepyfile(test_rec="def test_plain(cassette):\n    pass\n")
    result = pytester.runpytest("--myna-record-mode=none")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*UnplayedInteractions: myna: 1 of 1 recorded interaction(s) in *test_plain.yaml were never requested (mode 'none'):",
            "cassettes: 0 replayed, 0 recorded, 0 missing, 1 with unplayed interactions",
            "  1 unplayed interaction(s): cassettes/test_rec/test_plain.yaml (test_rec.py::test_plain)",
        ]
    )


def test_marker_name_mode_ignore_and_cassette_dir(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_rec="""
        import pytest
        from myna import init_chat_model

        def ask(cassette, emulator, temperature):
            if not cassette.interactions:
                emulator("openai", script=["shared"])
            model = init_chat_model("openai:gpt-4.1-mini", api_key="k", temperature=temperature)
            return model.invoke("Hi").text

        @pytest.mark.myna_cassette("shared.yaml", mode="once", ignore=["temperature"])
        def test_record(cassette, emulator):
            assert cassette.path.name == "shared.yaml" and cassette.mode == "once"
            assert ask(cassette, emulator, 0.1) == "shared"

        @pytest.mark.myna_cassette(name="shared.yaml", mode="none", ignore=["temperature"])
        def test_replay_ignoring_temperature(cassette, emulator):
            assert ask(cassette, emulator, 0.9) == "shared"

        @pytest.mark.myna_cassette(name="shared.yaml", mode="none")
        def test_replay_strict(cassette, emulator):
            ask(cassette, emulator, 0.9)
        """
    )
    result = pytester.runpytest("--myna-cassette-dir=recorded", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=1)
    assert (pytester.path / "recorded" / "test_rec" / "shared.yaml").exists()
    result.stdout.fnmatch_lines(["*CassetteMismatch*", "*temperature*"])


def test_bad_marker_arguments(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.myna_cassette(mode="sometimes")
        def test_mode(cassette):
            pass

        @pytest.mark.myna_cassette("a.yaml", "b.yaml")
        def test_two_names(cassette):
            pass

        @pytest.mark.myna_cassette(speed="fast")
        def test_unknown_option(cassette):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.myna_cassette(mode='sometimes') is not a record mode; use one of none, once, new_episodes, all.",
            "*@pytest.mark.myna_cassette takes at most one positional argument, the name*got 2.",
            "*@pytest.mark.myna_cassette got an option Cassette does not take*speed*",
        ]
    )


CHAT = """
import pytest
from myna.fakes import tool_call
from myna.testing import assert_tool_call

SCRIPT = [tool_call("get_weather", city="Paris"), "Sunny."]

@pytest.mark.myna_cassette
@pytest.mark.myna_model("openai:gpt-4.1-mini", temperature=0)
@pytest.mark.myna_script(SCRIPT, validate_tool_calls=False)
def test_same_body(chat_model, model_calls, request):
    first = chat_model.invoke("Weather in Paris?")
    assert_tool_call(first, "get_weather", {"city": "Paris"})
    assert chat_model.invoke("and then?").text == "Sunny."
    assert model_calls.count == 2
    print("KIND", dict(request.node.user_properties)["myna_chat_model"], type(chat_model).__name__)
"""


def test_chat_model_records_against_the_emulator_then_replays(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_chat=CHAT)
    first = pytester.runpytest("--myna-record-mode=once", "-s")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(
        ["*KIND record OpenAIChatModel*", "cassettes: 0 replayed, 1 recorded*"]
    )
    text = (pytester.path / "cassettes" / "test_chat" / "test_same_body.yaml").read_text()
    assert "get_weather" in text and "myna-test-key" not in text
    second = pytester.runpytest("--myna-record-mode=none", "--myna-block-network", "-s")
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(
        ["*KIND replay OpenAIChatModel*", "cassettes: 1 replayed, 0 recorded*"]
    )


def test_chat_model_fakes_without_a_cassette(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_chat=CHAT.replace("@pytest.mark.myna_cassette\n", ""))
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*KIND fake FixtureFakeChatModel*"])


def test_chat_model_schema_model_without_script(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_schema(chat_model, request):
            assert "answers" in chat_model.invoke("hi").text
            assert dict(request.node.user_properties)["myna_chat_model"] == "fake"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_chat_model_live(pytester: pytest.Pytester) -> None:
    # live: the real provider model, no cassette; an emulator stands in for the network here
    pytester.makepyfile(
        test_chat=CHAT.replace(
            "def test_same_body(chat_model,", "def test_same_body(serve, chat_model,"
        )
        + """
@pytest.fixture
def serve(emulator, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "live-key")
    emulator("openai", script=SCRIPT, validate_tool_calls=False)
"""
    )
    result = pytester.runpytest("--myna-live", "--myna-record-mode=none", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*KIND live OpenAIChatModel*"])
    assert not (pytester.path / "cassettes").exists()


def test_chat_model_errors_name_the_fix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.myna_cassette
        def test_no_model(chat_model):
            pass

        @pytest.mark.myna_cassette
        @pytest.mark.myna_model("openai:gpt-4.1-mini")
        def test_no_script(chat_model):
            pass

        @pytest.mark.myna_cassette
        @pytest.mark.myna_model(42)
        def test_bad_model(chat_model):
            pass
        """
    )
    result = pytester.runpytest("--myna-record-mode=once")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*chat_model in test_chat_model_errors_name_the_fix.py::test_no_model must replay or call a real model, but no model is named: mark the test with @pytest.mark.myna_model('provider:model') or set myna_model = provider:model in [[]tool.pytest.ini_options].",
            "*chat_model in *::test_no_script would record a cassette, but without --myna-live it records an emulator, which needs replies: add @pytest.mark.myna_script(*). To record real traffic instead, run with --myna-live.",
            "*@pytest.mark.myna_model takes the model string and parameters*got (42,).",
        ]
    )


def test_ini_model_and_report_file(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = function
        addopts = -p no:benchmark
        myna_model = anthropic:claude-haiku-4-5
        myna_report = out/report.json
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.myna_cassette
        @pytest.mark.myna_script(["Hi from the ini model"])
        def test_ini(chat_model):
            assert chat_model.invoke("x").text == "Hi from the ini model"
        """
    )
    pytester.runpytest("--myna-record-mode=once").assert_outcomes(passed=1)
    data = json.loads((pytester.path / "out" / "report.json").read_text())
    assert data["cassettes"][0]["recorded"] == 1
    assert data["tests"][0]["models"] == {"anthropic:claude-haiku-4-5": 1}


def test_chat_model_and_cassette_share_one_cassette(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_both="""
        import pytest

        @pytest.mark.myna_cassette
        @pytest.mark.myna_model("openai:gpt-4.1-mini")
        @pytest.mark.myna_script(["Shared."])
        def test_both(chat_model, cassette):
            assert chat_model.invoke("Hi").text == "Shared."
            assert len(cassette.recorded) + cassette.play_count == 1  # the one chat_model used
        """
    )
    first = pytester.runpytest("--myna-record-mode=once")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["cassettes: 0 replayed, 1 recorded, 0 missing, *"])
    second = pytester.runpytest("--myna-record-mode=none", "--myna-block-network")
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(["cassettes: 1 replayed, 0 recorded, 0 missing, 0 with unplayed*"])


MARKER_ONLY = """
import os
import pytest
from myna import init_chat_model

@pytest.fixture
def app_model(emulator):  # a fixture of the app: its traffic goes to the cassette too
    if os.environ.get("RECORDING"):
        emulator("openai", script=["Recorded.", "Again."])
    return init_chat_model("openai:gpt-4.1-mini", api_key="k")

@pytest.mark.myna_cassette
def test_marker_only(app_model):
    assert app_model.invoke("Hi").text == "Recorded."
    assert app_model.invoke("Hi again").text == "Again."

def test_unmarked(request):
    assert "cassette" not in request.fixturenames
"""


def test_the_marker_alone_records_and_replays(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_marker=MARKER_ONLY)
    monkeypatch.setenv("RECORDING", "1")
    first = pytester.runpytest("--myna-record-mode=once")
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["cassettes: 0 replayed, 1 recorded, 0 missing, *"])
    assert (pytester.path / "cassettes" / "test_marker" / "test_marker_only.yaml").exists()
    monkeypatch.delenv("RECORDING")
    second = pytester.runpytest("--myna-record-mode=none", "--myna-block-network")
    second.assert_outcomes(passed=2)
    second.stdout.fnmatch_lines(["cassettes: 1 replayed, 0 recorded, 0 missing, 0 with unplayed*"])
    # live with record mode none: the marked test talks to the provider, no cassette
    monkeypatch.setenv("RECORDING", "1")
    live = pytester.runpytest("--myna-live", "--myna-record-mode=none")
    live.assert_outcomes(passed=2)
    assert "cassettes:" not in live.stdout.str()


def test_the_marker_on_a_class_or_module(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_scopes="""
        import pytest

        pytestmark = pytest.mark.myna_cassette(mode="none")

        def test_module_marked(request):
            assert request.getfixturevalue("cassette").mode == "none"

        @pytest.mark.myna_cassette(mode="all")
        class TestClass:
            def test_class_marked(self, request):
                assert request.getfixturevalue("cassette").mode == "all"
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_record_mode_option_reaches_cassettes_opened_anywhere(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # cassettes the plugin does not open (your own cassette(...), a judge's cassette=...)
    # follow --myna-record-mode / the ini key, not only the CI rule
    pytester.makepyfile(
        test_own="""
        import os
        from myna.cassettes import cassette

        def test_own_cassette(tmp_path):
            assert cassette(tmp_path / "own.yaml").mode == os.environ["EXPECTED"]

        def test_default_for_judges():  # myna.evals judges with cassette=... read this
            from myna.cassettes import default_record_mode

            assert default_record_mode() == os.environ["EXPECTED"]
        """
    )
    import os

    monkeypatch.setenv("EXPECTED", "none")
    pytester.runpytest("--myna-record-mode=none").assert_outcomes(passed=2)
    assert "MYNA_RECORD_MODE" not in os.environ  # restored after the run
    monkeypatch.setenv("MYNA_RECORD_MODE", "all")  # the option wins over the variable
    monkeypatch.setenv("EXPECTED", "new_episodes")
    pytester.runpytest("--myna-record-mode=new_episodes").assert_outcomes(passed=2)
    assert os.environ["MYNA_RECORD_MODE"] == "all"
    monkeypatch.delenv("MYNA_RECORD_MODE")
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\naddopts = -p no:benchmark\n"
        "myna_record_mode = all\n"
    )
    monkeypatch.setenv("EXPECTED", "all")
    pytester.runpytest().assert_outcomes(passed=2)
    monkeypatch.setenv("CI", "1")  # the ini key wins over CI, too
    pytester.runpytest().assert_outcomes(passed=2)


def test_model_strings_are_checked_even_when_faked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_typos="""
        import pytest

        @pytest.mark.myna_model("opnai:gpt-4.1-mini")
        @pytest.mark.myna_script(["Hi"])
        def test_provider_typo(chat_model):
            chat_model.invoke("x")

        @pytest.mark.myna_model("openai:gpt-4.1-mini", temprature=0)
        def test_parameter_typo(chat_model):
            pass

        @pytest.mark.myna_cassette
        @pytest.mark.myna_model("opnai:gpt-4.1-mini")
        def test_replayed_typo(chat_model):
            pass

        @pytest.mark.myna_model("openai:gpt-4.1-mini", temperature=0)
        @pytest.mark.myna_script(["Hi"])
        def test_fine(chat_model):
            assert chat_model.invoke("x").text == "Hi"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*UserError: @pytest.mark.myna_model('opnai:gpt-4.1-mini') of "
            "test_typos.py::test_provider_typo: Unknown provider 'opnai' in "
            "'opnai:gpt-4.1-mini'. Did you mean 'openai'?*",
            "*UserError: @pytest.mark.myna_model('openai:gpt-4.1-mini') of "
            "test_typos.py::test_parameter_typo: OpenAIChatModel got an unknown parameter "
            "temprature=. Did you mean 'temperature'?*",
            "*UserError: @pytest.mark.myna_model('opnai:gpt-4.1-mini') of "
            "test_typos.py::test_replayed_typo: Unknown provider 'opnai'*",
        ]
    )


def test_ini_model_string_is_checked_even_when_faked(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\naddopts = -p no:benchmark\n"
        "myna_model = antropic:claude-haiku-4-5\n"
    )
    pytester.makepyfile("def test_faked(chat_model):\n    chat_model.invoke('x')\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*UserError: myna_model = antropic:claude-haiku-4-5 (ini): Unknown provider 'antropic'*"]
    )


def test_replay_against_another_base_url_with_match_on(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # recorded against a loopback server, replayed against the provider's own host
    pytester.makepyfile(
        test_hosts="""
        import os
        import pytest
        from myna import init_chat_model

        WITHOUT_HOST = ["method", "path", "query", "body"]

        def ask(text):
            return init_chat_model("openai:gpt-4.1-mini").invoke(text).text

        @pytest.mark.myna_cassette("hosts.yaml", match_on=WITHOUT_HOST)
        def test_any_host():
            assert ask("Hi") == "Hello."

        @pytest.mark.myna_cassette("hosts.yaml", match_on=WITHOUT_HOST)
        def test_miss_lists_no_host():
            ask("Something else")

        @pytest.mark.myna_cassette("hosts.yaml", ignore=["host"])
        def test_ignore_host_is_refused():
            pass
        """
    )
    from myna.emulators import serve

    with serve("openai", script=["Hello."]) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        pytester.runpytest("-k", "any_host", "--myna-record-mode=once").assert_outcomes(passed=1)
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")
    result = pytester.runpytest("--myna-record-mode=none", "--myna-block-network")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*differences (recorded -> actual):",
            "*body.messages[[]0].content: 'Hi' -> 'Something else'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*UserError: ignore=[[]'host'] names a part of the request, but ignore= lists JSON "
            "body fields. To stop comparing it pass match_on=[[]'method', 'path', 'query', "
            "'body'] (the myna_cassette marker takes match_on= too)*",
        ]
    )
    assert "host:" not in out
