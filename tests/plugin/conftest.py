"""Shared set-up for the plugin's pytester tests."""

from __future__ import annotations

import pytest

# Imported once here: in-process pytester runs restore sys.modules afterwards, so anything
# first imported inside an inner run (hypothesis's summary hook, myna itself) would be
# imported again, assertion-rewritten, on every run.
import hypothesis  # noqa: F401
import myna.emulators  # noqa: F401
import myna.emulators._httpcore2  # noqa: F401  (its respx mocker must be defined only once)
import myna.fakes  # noqa: F401
import myna.testing._assertions  # noqa: F401
import myna.testing._fixtures  # noqa: F401
import myna.testing._stream  # noqa: F401


@pytest.fixture(autouse=True)
def _inner_defaults(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    # make the network default independent of the CI that runs this suite
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MYNA_RECORD_MODE", raising=False)
    if "pytester" in request.fixturenames:
        # inner runs get an ini (tests that write their own repeat this line)
        pytester = request.getfixturevalue("pytester")
        pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
