"""The errors cassettes raise.

```
MynaError
└── CassetteError                a cassette file or its use is wrong (broken YAML, bad shape)
    ├── CassetteSecretError      refusing to write: a secret-shaped value is still in the data
    ├── CassetteMismatch         a request has no recorded answer (also an AssertionError)
    └── UnplayedInteractions     recorded interactions the test never used (also an AssertionError)
```
"""

from __future__ import annotations

from ..exceptions import MynaError

__all__ = [
    "CassetteError",
    "CassetteMismatch",
    "CassetteSecretError",
    "CassetteWarning",
    "UnplayedInteractions",
]


class CassetteError(MynaError):
    """A cassette file is unreadable or broken, or a cassette was used wrongly.

    A broken file is never re-recorded silently: the message names the file and the line, and
    says how to fix or regenerate it.
    """


class CassetteSecretError(CassetteError):
    """Refused to write a cassette that still holds a secret-shaped value.

    The message names the interaction index and the field path of each find (never the value).
    Causes: a token in a place the scrubber does not rewrite (a dict key), or a user hook that
    put one back. Fix: add a ``before_record_request`` / ``before_record_response`` hook or a
    ``redact=`` entry that removes it.
    """


class CassetteMismatch(CassetteError, AssertionError):
    """A request found no recorded interaction, and the mode does not allow recording it.

    The message names the cassette and mode, the closest recorded request, a field-level diff,
    and the mode or command that would record the request.
    """


class UnplayedInteractions(CassetteError, AssertionError):
    """Recorded interactions were never requested (a test that changed, or a stale cassette).

    Raised on exit in mode ``"none"`` by default; pass ``unplayed="warn"`` or ``"ignore"``.
    """


class CassetteWarning(UserWarning):
    """A cassette problem reported without failing (``unplayed="warn"``)."""
