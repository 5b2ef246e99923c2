"""Shared set-up for the plugin's pytester tests."""

from __future__ import annotations

# Imported once here: in-process pytester runs restore sys.modules afterwards, so anything
# first imported inside an inner run (hypothesis's summary hook, myna itself) would be
# imported again, assertion-rewritten, on every run. httpcore2's respx mocker, in
# particular, may be defined only once per process.
import hypothesis  # noqa: F401
import pytest


@pytest.fixture(autouse=True)
def _inner_defaults(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    # make the network default independent of the CI that runs this suite
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MYNA_RECORD_MODE", raising=False)
    if "pytester" in request.fixturenames:
        # inner runs get an ini (tests that write their own repeat this line)
        pytester = request.getfixturevalue("pytester")
        pytester.makeini(
            "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        )
