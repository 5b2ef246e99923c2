"""Shared set-up for the plugin's pytester tests."""

from __future__ import annotations

# Imported once here: in-process pytester runs restore sys.modules afterwards, so anything
# first imported inside an inner run would be imported again on the next run, while
# process-wide caches keep the old copies: the provider registry keeps classes whose modules
# are gone (their messages then fail isinstance checks), and httpcore2's respx mocker may be
# defined only once per process. It is faster, too.
import importlib

import pytest

for _module in (
    "hypothesis",
    "myna.cassettes",
    "myna.emulators",
    "myna.emulators._httpcore2",
    "myna.fakes",
    "myna.testing._assertions",
    "myna.pytest_plugin._fixtures",
    "myna.pytest_plugin._recording",
    "myna.testing._stream",
):
    importlib.import_module(_module)

from myna.codecs import CODECS, get_codec  # noqa: E402
from myna.models._registry import _factory, known_providers  # noqa: E402

for _protocol in CODECS:
    get_codec(_protocol)
for _provider in known_providers():
    _factory(_provider)


@pytest.fixture(autouse=True)
def _inner_defaults(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    # make the network default independent of the CI that runs this suite
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MYNA_RECORD_MODE", raising=False)
    if "pytester" in request.fixturenames:
        # inner runs get an ini (tests that write their own repeat the asyncio lines);
        # pytest-benchmark would warn in every inner run under xdist
        pytester = request.getfixturevalue("pytester")
        pytester.makeini(
            "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
            "addopts = -p no:benchmark\n"
        )
