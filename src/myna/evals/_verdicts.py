"""A judge's frozen verdicts: the prompt that keys a recorded request, the scoped cassette
that holds the verdicts, and the explanation of a replay miss (what changed since recording).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..exceptions import UserError
from ._results import jsonable

__all__ = ["JUDGE_PROMPT_VERSION"]

JUDGE_PROMPT_VERSION = 1
"""Version of the judge prompts. Changing their wording changes every recorded request, so it
is bumped with them: replays then miss with "the judge prompt changed", not silently."""

_REPLAY_KEY = "myna-replay-key"
"""API key given to a judge model named by string when it only replays: no real key is read."""

# -- the prompt, and reading it back out of a recorded request ---------------------------------

_KEY_LINE = re.compile(
    r"^myna (?P<kind>judge|pairwise) v(?P<version>\d+) \| case: (?P<case>\".*\") \| "
    r"repeat: (?P<repeat>\d+) \| judge model: (?P<model>.*)$",
    re.MULTILINE,
)
_CHOICES_LINE = re.compile(r"\n\nChoices: (?P<choices>.*)$")
_SECTIONS = ("rubric", "input", "expected", "output", "output_a", "output_b")


def _plain(value: Any) -> Any:
    """A message as its text (also one read back from a report as a dict); else as is."""
    if isinstance(value, Mapping) and value.get("type") == "ai" and "content" in value:
        content = value["content"]  # a message read back from a JSON report
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    text = getattr(value, "text", None)
    if isinstance(text, str) and hasattr(value, "content"):
        return text
    return value


def _render(value: Any) -> str:
    """A value as prompt text: the same in every process (sets sorted, objects dumped), as
    the recorded request is matched on it."""
    value = _plain(value)
    if isinstance(value, str):
        return value
    return json.dumps(jsonable(value), ensure_ascii=False, indent=2)


def _prompt(kind: str, fields: Mapping[str, Any], choices: str) -> str:
    """The user message: a key line, the tagged sections, the choices."""
    head = (
        f"myna {kind} v{JUDGE_PROMPT_VERSION} | case: {json.dumps(fields['case'])} | "
        f"repeat: {fields['repeat']} | judge model: {fields['model']}"
    )
    parts = [head]
    for tag in _SECTIONS:
        if fields.get(tag) is not None:
            parts.append(f"<{tag}>\n{fields[tag]}\n</{tag}>")
    parts.append(f"Choices: {choices}")
    return "\n\n".join(parts)


def _parse_prompt(text: str) -> dict[str, Any] | None:
    """The fields of a judge prompt (best effort: used only to explain a replay miss)."""
    found = _KEY_LINE.search(text)
    if found is None:
        return None
    try:
        case = json.loads(found["case"])
    except ValueError:
        case = found["case"]
    fields: dict[str, Any] = {
        "kind": found["kind"],
        "version": int(found["version"]),
        "case": case,
        "repeat": int(found["repeat"]),
        "model": found["model"],
    }
    for index, tag in enumerate(_SECTIONS):
        # a section ends where a later one or the last line (the choices) begins, so a tag
        # inside a value (an output quoting the prompt) does not cut it short
        later = "|".join(_SECTIONS[index + 1 :]) or "(?!)"
        section = re.search(
            rf"\n\n<{tag}>\n(.*?)\n</{tag}>(?=\n\n<(?:{later})>\n|\n\nChoices: [^\n]*$)",
            text,
            re.DOTALL,
        )
        fields[tag] = section.group(1) if section else None
    choices = _CHOICES_LINE.search(text)
    fields["choices"] = choices["choices"] if choices else None
    return fields


def _prompts_in(value: Any) -> Iterator[str]:
    """Every string in a recorded request body that holds a judge prompt."""
    if isinstance(value, str):
        if value.startswith(("myna judge v", "myna pairwise v")):
            yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _prompts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _prompts_in(item)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _change(old: Any, new: Any) -> str:
    """``'old' -> 'new'``; long strings are shown around their first difference."""
    if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > 50:
        start = 0
        while start < min(len(old), len(new)) and old[start] == new[start]:
            start += 1
        start = max(0, start - 15)
        cut = "..." if start else ""
        return f"{cut}{_short(old[start:])} -> {cut}{_short(new[start:])}"
    return f"{_short(old)} -> {_short(new)}"


_WHAT = {
    "version": "the judge prompt changed (myna prompt version)",
    "model": "the judge model changed",
    "rubric": "the rubric changed",
    "choices": "the choices changed",
    "input": "the case's input changed",
    "expected": "the expected output changed",
    "output": "the judged output changed",
}


def _differences(recorded: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    found = []
    for key in ("version", "model", "rubric", "choices", "input", "expected", "output"):
        if recorded.get(key) != actual.get(key):
            found.append(f"{_WHAT[key]} ({_change(recorded.get(key), actual.get(key))})")
    for key, role in (("output_a", "output A"), ("output_b", "output B")):
        if recorded.get(key) != actual.get(key):
            what = actual.get("roles", {}).get(key, role)
            found.append(f"{what} changed ({_change(recorded.get(key), actual.get(key))})")
    return found


def _explain_miss(interactions: list[dict[str, Any]], actual: Mapping[str, Any]) -> str:
    """What differs between this judge request and the closest recorded one."""
    recorded = []
    for interaction in interactions:
        body = (interaction.get("request") or {}).get("body")
        for text in _prompts_in(body):
            fields = _parse_prompt(text)
            if fields is not None and fields["kind"] == actual["kind"]:
                recorded.append(fields)
    case, repeat = actual["case"], actual["repeat"]
    same_case = [r for r in recorded if r["case"] == case]
    if not same_case:
        renamed = [
            r
            for r in recorded
            if r["repeat"] == repeat and not _differences(r, actual)  # all but the name equal
        ]
        if renamed:
            return f"the case was renamed ({_change(renamed[0]['case'], case)})"
        return "no verdict was ever recorded for this case"
    same_repeat = [r for r in same_case if r["repeat"] == repeat]
    if not same_repeat:
        repeats = sorted({r["repeat"] for r in same_case})
        return (
            f"this repeat was never recorded (recorded repeats of this case: "
            f"{', '.join(map(str, repeats))})"
        )
    best = min((_differences(r, actual) for r in same_repeat), key=len)
    if not best:
        return "the judge prompt is the same, the rest of the request differs"
    return "; ".join(best)


# -- frozen verdicts ---------------------------------------------------------------------------

_recording: set[str] = set()
"""Cassettes this process records (mode once or all): later judge calls keep recording."""
_recording_lock = threading.Lock()


class _Verdicts:
    """The cassette of one judge: a fresh scoped session per judge call.

    A session per call (not one per run) because a judge does not see the run start and end;
    replays load the parsed file from the cassette cache, and recordings append under the
    cassette's lock, so concurrent calls and processes do not lose verdicts.
    """

    def __init__(self, path: str | Path, mode: str | None) -> None:
        from ..cassettes import MODES

        if mode is not None and mode not in MODES:
            raise UserError(f"judge mode={mode!r} is not a record mode; use one of {MODES}.")
        self.path = Path(path)
        self.mode = mode

    def requested(self) -> str:
        from ..cassettes import default_record_mode

        return self.mode or default_record_mode()

    def plan(self) -> str:
        """The cassette mode of the next call: ``"none"`` (replay) or ``"new_episodes"``."""
        mode = self.requested()
        if mode in ("none", "new_episodes"):
            return mode
        key = str(self.path.resolve())
        with _recording_lock:
            if key in _recording:
                return "new_episodes"
            if mode == "once" and self.path.exists():
                return "none"
            if mode == "all":
                self.path.unlink(missing_ok=True)  # re-recorded from scratch, once per process
            _recording.add(key)
        return "new_episodes"

    @contextlib.contextmanager
    def session(self) -> Iterator[Any]:
        from ..cassettes import Cassette

        session = Cassette(self.path, mode=self.plan(), unplayed="ignore", scoped=True)
        session.start()
        try:
            with session.scope():
                yield session
        finally:
            session.stop(check=False)  # misses are reported by the judge, with its names

    def hint(self, owner: str) -> str:
        return (
            f"To record it: {owner}(..., mode='new_episodes') or MYNA_RECORD_MODE=new_episodes "
            f"(the mode is {self.requested()!r}); to re-record every verdict: mode='all'"
        )


class _VerdictError(Exception):
    """The judge gave no usable verdict: becomes an `EvalResult` with status error."""
