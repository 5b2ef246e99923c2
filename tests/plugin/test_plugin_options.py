"""The plugin's options, ini keys, markers and network blocking, through pytester."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_help_lists_the_myna_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "myna: fake models, emulators, cassettes:",
            "*--myna-record-mode={none,once,new_episodes,all}*",
            "*--myna-cassette-dir=DIR*",
            "*--myna-block-network*",
            "*--myna-live*",
            "*--myna-report=FILE*",
            "*myna_record_mode (string):*",
        ]
    )


def test_markers_are_registered_with_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.myna_cassette(name=None, mode=None, match_on=[[]...], ignore=[[]], "
            "**options): the test's cassette*leave out host to replay what was recorded against "
            "another base URL*",
            "@pytest.mark.myna_script(replies, *, assert_all_replies_used=True, **options)*",
            "@pytest.mark.myna_model(model, **params)*",
        ]
    )


def test_markers_pass_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.myna_script(["x"], assert_all_replies_used=False)
        @pytest.mark.myna_model("openai:gpt-4.1-mini")
        def test_ok():
            pass
        """
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)


def test_header_shows_mode_and_network(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest("--myna-record-mode=once")
    result.stdout.fnmatch_lines(["myna: record mode once, network open"])
    result = pytester.runpytest("--myna-live")  # no CI: cassettes record once by default
    result.stdout.fnmatch_lines(["myna: record mode once, network live"])


def test_record_mode_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from myna.cassettes import default_record_mode
    from myna.pytest_plugin._session import default_record_mode as plugin_default

    pytester.makepyfile("def test_ok(): pass")
    monkeypatch.setenv("MYNA_RECORD_MODE", "new_episodes")
    pytester.runpytest().stdout.fnmatch_lines(["myna: record mode new_episodes, network open"])
    assert plugin_default() == default_record_mode() == "new_episodes"
    monkeypatch.setenv("MYNA_RECORD_MODE", "later")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*MYNA_RECORD_MODE = 'later' is not a record mode*"])
    monkeypatch.delenv("MYNA_RECORD_MODE")
    for ci in ("", "1"):
        monkeypatch.setenv("CI", ci)
        assert plugin_default() == default_record_mode() == ("none" if ci else "once")


def test_ini_options(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makeini(
        """
        [pytest]
        asyncio_default_fixture_loop_scope = function
        addopts = -p no:benchmark
        myna_record_mode = new_episodes
        myna_block_network = on
        """
    )
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["myna: record mode new_episodes, network blocked"])
    # the command line wins over the ini file
    result = pytester.runpytest("--myna-record-mode=all", "--myna-block-network=off")
    result.stdout.fnmatch_lines(["myna: record mode all, network open"])


def test_bad_ini_values_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nmyna_record_mode = sometimes\n"
    )
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*myna_record_mode = 'sometimes' is not a record mode; use one of none, once, new_episodes, all."
        ]
    )
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nmyna_block_network = maybe\n"
    )
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(["*myna_block_network = 'maybe'; use on, off or auto*"])


def test_bad_record_mode_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest("--myna-record-mode=sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*argument --myna-record-mode: invalid choice: 'sometimes'*"])


BLOCKED_TEST = """
import httpx

def test_calls_out():
    httpx.get("https://api.example.com/v1/models")
"""


def test_network_blocked_under_ci_names_test_and_host(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_net=BLOCKED_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*NetworkBlockedError: myna: network access is blocked, but test "
            "test_net.py::test_calls_out tried to connect to api.example.com:443. Replay a "
            "cassette or use an emulator or fake, or allow real calls with --myna-live (or "
            "--myna-block-network=off).",
        ]
    )


def test_network_block_flag_without_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "0")
    pytester.makepyfile(test_net=BLOCKED_TEST)
    result = pytester.runpytest("--myna-block-network")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*tried to connect to api.example.com:443*"])


def test_network_block_off_or_live_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "1")
    pytester.makepyfile("def test_ok(): pass")
    pytester.runpytest("--myna-block-network=off").stdout.fnmatch_lines(
        ["myna: record mode none, network open"]
    )
    pytester.runpytest("--myna-live").stdout.fnmatch_lines(["myna: record mode none, network live"])
    pytester.runpytest().stdout.fnmatch_lines(["myna: record mode none, network blocked"])


def test_loopback_stays_open_when_blocked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket, threading

        def test_loopback():
            server = socket.socket()
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            t = threading.Thread(target=lambda: server.accept()[0].close())
            t.start()
            socket.create_connection(server.getsockname(), timeout=5).close()
            t.join(5)
            server.close()
        """
    )
    pytester.runpytest("--myna-block-network").assert_outcomes(passed=1)


def test_names_do_not_clash_with_pytest_recording(pytester: pytest.Pytester) -> None:
    # pytest-recording's public names: options, ini-free markers and fixtures
    recording = {
        "options": {"--record-mode", "--block-network", "--allowed-hosts", "--disable-recording"},
        "markers": {"vcr", "block_network", "allowed_hosts", "default_cassette"},
        "fixtures": {
            "vcr",
            "vcr_config",
            "vcr_cassette_dir",
            "default_cassette_name",
            "record_mode",
            "disable_recording",
            "vcr_markers",
            "block_network",
            "allowed_hosts",
        },
    }
    help_text = pytester.runpytest("--help").stdout.str()
    myna_options = {
        w.split("=")[0].rstrip(",") for w in help_text.split() if w.startswith("--myna")
    }
    assert myna_options >= {"--myna-record-mode", "--myna-block-network", "--myna-live"}
    assert not myna_options & recording["options"]
    pytester.makepyfile("def test_ok(): pass")
    fixtures = pytester.runpytest("--fixtures").stdout.str()
    from myna import pytest_plugin

    ours = set(pytest_plugin.__all__)
    assert ours <= {
        line.split()[0] for line in fixtures.splitlines() if line and not line.startswith(" ")
    }
    assert not ours & recording["fixtures"]
    markers = pytester.runpytest("--markers").stdout.str()
    ours_markers = {
        line.split("(")[0][len("@pytest.mark.") :]
        for line in markers.splitlines()
        if "myna" in line.split(":")[0]
    }
    assert ours_markers == {"myna_cassette", "myna_script", "myna_model", "myna_eval"}
    assert not ours_markers & recording["markers"]


def test_plugin_import_is_lazy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_nothing_heavy_loaded():
            heavy = {"myna.models", "myna.fakes", "myna.messages", "myna.cassettes", "respx", "vcr"}
            assert not heavy & set(sys.modules), heavy & set(sys.modules)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:respx")
    result.assert_outcomes(passed=1)


def test_more_ini_options(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = function
        addopts = -p no:benchmark
        myna_cassette_dir = recorded
        myna_live = true
        myna_report_top = 1
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_dir(cassette):
            assert cassette.path.parts[-3:] == ("recorded", "test_more_ini_options", "test_dir.yaml")

        @pytest.mark.parametrize("n", [1, 2])
        def test_calls(fake_model, n):
            for _ in range(n):
                fake_model(["x"]).invoke("y")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "myna: record mode once, network live",
            "top 1 test by tokens (every estimated cost is $0):",
            "*test_calls[[]2]",
        ]
    )
    assert "test_calls[1]" not in result.stdout.str()


def test_one_default_record_mode_everywhere(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the rule: MYNA_RECORD_MODE, else none under CI, else once; every text says the same
    from pathlib import Path

    import myna.cassettes
    from myna import pytest_plugin
    from myna.pytest_plugin import _session

    help_text = " ".join(pytester.runpytest("--help").stdout.str().split())
    assert "Default: once, or none when CI is set (MYNA_RECORD_MODE overrides both)" in help_text
    assert "default once, or none under CI" in help_text  # the ini key
    doc = " ".join(pytest_plugin.__doc__.split())
    assert "(default ``once``, or ``none`` when ``CI`` is set;" in doc
    assert "default ``none``" not in doc
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "default `once` locally, `none` under `CI`" in readme
    assert "`none` (replay only; the default under `CI`), `once` (the default elsewhere)" in readme
    assert _session.default_record_mode is myna.cassettes.default_record_mode
    assert _session.RECORD_MODES is myna.cassettes.MODES
    for env, expected in [({}, "once"), ({"CI": "true"}, "none"), ({"CI": "0"}, "once")]:
        assert myna.cassettes.default_record_mode(env) == expected
    assert myna.cassettes.default_record_mode({"CI": "1", "MYNA_RECORD_MODE": "all"}) == "all"
    pytester.makepyfile("def test_ok(): pass")
    monkeypatch.delenv("CI", raising=False)
    pytester.runpytest().stdout.fnmatch_lines(["myna: record mode once, network open"])
    monkeypatch.setenv("CI", "true")
    pytester.runpytest().stdout.fnmatch_lines(["myna: record mode none, network blocked"])
