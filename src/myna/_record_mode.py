"""The cassette record modes and the default one: one rule, read by `myna.cassettes` and by
the pytest plugin (which must not import cassettes until a test uses one)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .exceptions import UserError

__all__ = ["MODES", "default_record_mode", "is_ci"]

MODES = ("none", "once", "new_episodes", "all")
"""Record modes, with vcrpy's names and meaning:

- ``none``: replay only; a request with no recorded match raises `CassetteMismatch`.
- ``once``: record a cassette that does not exist yet; once it exists, behave like ``none``.
- ``new_episodes``: replay what matches, record what does not (appended to the file).
- ``all``: record everything anew, replay nothing; the file is rewritten.
"""

_FALSE = frozenset({"", "0", "false", "no", "off"})


def is_ci(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``CI`` is set to a true value (``CI=false`` / ``0`` / empty is not CI)."""
    value = (environ if environ is not None else os.environ).get("CI", "")
    return value.strip().lower() not in _FALSE


def default_record_mode(environ: Mapping[str, str] | None = None) -> str:
    """``MYNA_RECORD_MODE`` if set, else ``"none"`` when ``CI`` is set, else ``"once"``.

    Raises:
        UserError: ``MYNA_RECORD_MODE`` is not one of `MODES`.
    """
    env = environ if environ is not None else os.environ
    given = env.get("MYNA_RECORD_MODE", "").strip()
    if given:
        if given not in MODES:
            raise UserError(
                f"MYNA_RECORD_MODE={given!r} is not a record mode; use one of {', '.join(MODES)}."
            )
        return given
    return "none" if is_ci(env) else "once"
