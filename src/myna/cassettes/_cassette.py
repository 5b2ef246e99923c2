"""`cassette(path, mode=...)`: record provider traffic once, replay it offline forever."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .._record_mode import MODES, default_record_mode
from ..exceptions import UserError
from ._errors import (
    CassetteError,
    CassetteMismatch,
    CassetteSecretError,
    CassetteWarning,
    UnplayedInteractions,
)
from ._format import ParsedCassette, dump_cassette, encode_body, load_parsed, new_cassette
from ._guard import attach_guard, detach_guard, hidden_failure
from ._match import DEFAULT_MATCH_ON, Matcher, RequestView, diff_views, distance, format_diff
from ._miss import miss_answer
from ._scrub import HookType, Scrubber, find_secrets
from ._store import cassette_lock, note_usage, write_atomic
from ._transport import (
    ContextEntry,
    LiveRequest,
    Prepared,
    current_session,
    enter_context,
    install,
    leave_context,
    uninstall,
)

__all__ = ["MODES", "Cassette", "cassette", "default_record_mode", "replaying"]

_UNPLAYED = ("fail", "warn", "ignore")


def _record_hint(mode: str) -> str:
    return (
        f'run pytest with --myna-record-mode={mode}, or use cassette(..., mode="{mode}") '
        f"(or set MYNA_RECORD_MODE={mode})"
    )


class _Slot:
    """A place in the recording order, reserved when the request is sent."""

    __slots__ = ("done", "interaction", "recorder")

    def __init__(self) -> None:
        self.interaction: dict[str, Any] | None = None
        self.recorder: Any = None
        self.done = False


class Cassette:
    """Records HTTP traffic of httpx and httpx2 clients to a YAML file, and replays it.

    ```python
    from myna.cassettes import cassette

    with cassette("tests/cassettes/weather.yaml"):
        reply = model.invoke("Weather in Paris?")   # recorded once, then replayed offline
    ```

    Also an async context manager and a decorator (each call gets a fresh session).

    Which cassette a request goes to: the innermost one opened in the request's context
    (the thread or asyncio task that opened it, and the tasks started inside it, which copy
    the context), so threads and tasks that each open their own cassette never share
    traffic. A request from a context that opened none (a plain thread, a thread pool
    worker started inside a cassette) goes to the innermost cassette opened anywhere in the
    process; wrap the worker in `contextvars.copy_context().run` (or use
    `asyncio.to_thread`) to pin it to its parent's cassette.

    Sessions recording one file at once (pytest-xdist workers, parallel jobs, threads) lose
    nothing: each writes under the cassette's lock and keeps, ahead of its own, what another
    session wrote since it started (in mode ``all`` too: only what was there before is
    re-recorded).

    Args:
        path: the cassette file.
        mode: ``"none"``, ``"once"``, ``"new_episodes"`` or ``"all"`` (see `MODES`); default
            `default_record_mode()`: ``"once"``, or ``"none"`` when ``CI`` is set
            (``MYNA_RECORD_MODE`` overrides both; so does pytest's ``--myna-record-mode``).
        match_on: request parts compared (default method, host, path, query, body).
        ignore: extra JSON body field paths to ignore when matching, e.g. ``["metadata.*"]``.
        ignore_defaults: also ignore the volatile fields in `DEFAULT_IGNORE`.
        unplayed: what to do on exit with recorded interactions the test never requested:
            ``"fail"`` (raise `UnplayedInteractions`), ``"warn"`` or ``"ignore"``. Default:
            fail in mode ``none``, warn in mode ``once`` replaying, else ignore.
        timing: record inter-event timing, and pace replays by it.
        allow_playback_repeats: replay the last match again once matches run out.
        before_record_request: ``hook(request_dict) -> dict | None``, run on each recorded
            request after scrubbing; None drops the interaction.
        before_record_response: the same for responses.
        redact: extra strings or compiled regexes replaced with ``REDACTED`` before writing.
        scoped: serve only requests made inside `scope()` (this task or thread and what it
            starts), never the fallback above; other traffic passes by to an outer cassette
            or the network. For a component's own traffic, such as an LLM judge's, while the
            code under test runs.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mode: str | None = None,
        match_on: Sequence[str] = DEFAULT_MATCH_ON,
        ignore: Sequence[str] = (),
        ignore_defaults: bool = True,
        unplayed: str | None = None,
        timing: bool = False,
        allow_playback_repeats: bool = False,
        before_record_request: HookType | None = None,
        before_record_response: HookType | None = None,
        redact: Sequence[str | re.Pattern[str]] = (),
        scoped: bool = False,
    ) -> None:
        if mode is not None and mode not in MODES:
            raise UserError(f"mode={mode!r} is not a record mode; use one of {', '.join(MODES)}.")
        if unplayed is not None and unplayed not in _UNPLAYED:
            raise UserError(f"unplayed={unplayed!r} must be one of {', '.join(_UNPLAYED)}.")
        for name, hook in (
            ("before_record_request", before_record_request),
            ("before_record_response", before_record_response),
        ):
            if hook is not None and not callable(hook):
                raise UserError(
                    f"{name}= must be a function of the interaction dict, got {hook!r}."
                )
        self.path = Path(path)
        self._mode = mode
        self.matcher = Matcher(match_on, ignore, ignore_defaults)
        self.unplayed = unplayed
        self.timing = timing
        self.allow_playback_repeats = allow_playback_repeats
        self.before_record_request = before_record_request
        self.before_record_response = before_record_response
        self.redact = tuple(redact)
        self.scoped = scoped
        self._options = {
            "mode": mode,
            "match_on": match_on,
            "ignore": ignore,
            "ignore_defaults": ignore_defaults,
            "unplayed": unplayed,
            "timing": timing,
            "allow_playback_repeats": allow_playback_repeats,
            "before_record_request": before_record_request,
            "before_record_response": before_record_response,
            "redact": redact,
            "scoped": scoped,
        }
        self._lock = threading.Lock()
        self._active = False
        self._entry: ContextEntry | None = None
        self._reset()

    def _reset(self) -> None:
        self._parsed: ParsedCassette | None = None
        self._existed = False
        self._seen: tuple[int, int, int] | None = None
        self._index: dict[Any, list[int]] = {}
        self._positions: dict[Any, int] = {}
        self.play_counts: list[int] = []
        """How often each recorded interaction was replayed in this session."""
        self._slots: list[_Slot] = []
        self.misses: list[CassetteMismatch] = []
        """Requests that found no recording (each also raised where it was made)."""
        self._scrubber: Scrubber | None = None
        self._resolved: str | None = None

    def __repr__(self) -> str:
        return f"<Cassette {str(self.path)!r} mode={self.mode!r}>"

    # -- state ----------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """The record mode in effect (resolved from the environment when not given)."""
        return self._resolved or self._mode or default_record_mode()

    @property
    def replays_only(self) -> bool:
        """True while active in a mode that never records: ``none``, or ``once`` with its
        file present. Every request is then replayed or fails; none reaches the network, and
        clients a cassette cannot see (requests, urllib, botocore) are refused a socket."""
        mode = self.mode
        return self._active and (mode == "none" or (mode == "once" and self._existed))

    @property
    def interactions(self) -> list[dict[str, Any]]:
        """The interactions loaded from the file (read-only; shared with other users)."""
        return list(self._parsed.interactions) if self._parsed is not None else []

    @property
    def recorded(self) -> list[dict[str, Any]]:
        """Interactions recorded in this session so far (scrubbed)."""
        return [s.interaction for s in self._slots if s.interaction is not None]

    @property
    def play_count(self) -> int:
        """How many replays this session served."""
        return sum(self.play_counts)

    @property
    def all_played(self) -> bool:
        """True when every loaded interaction was replayed at least once."""
        return all(self.play_counts)

    # -- context manager / decorator --------------------------------------------------------

    def start(self) -> Cassette:
        """Load the file (per the mode) and start intercepting; the context manager calls it."""
        with self._lock:
            if self._active:
                raise CassetteError(
                    f"{self.path} is already active; a Cassette session is not reentrant. "
                    "Nest a new cassette(...) instead."
                )
            self._reset()
            self._resolved = self._mode or default_record_mode()
            self._existed = self.path.exists()
            self._seen = _identity(self.path)
            if self._existed and self._resolved != "all":
                self._parsed = load_parsed(self.path)  # a broken file raises, never re-records
                self.play_counts = [0] * len(self._parsed)
                self._index = self._build_index(self._parsed)
            self._scrubber = Scrubber(self.redact)
            self._active = True
        install(self)
        attach_guard(self)  # a replay-only cassette lets no other client out either
        if not self.scoped:
            self._entry = enter_context(self)
        try:
            note_usage(self.path)
        except OSError as exc:  # a broken usage log must not break the test itself
            warnings.warn(f"myna: could not log cassette use: {exc}", CassetteWarning, stacklevel=2)
        return self

    def stop(self, check: bool = True) -> None:
        """Stop intercepting and write what was recorded. With `check` (the body succeeded):
        raise a miss the code under test swallowed (an SDK may wrap it in its own connection
        error and carry on), then check for unplayed interactions."""
        if self._entry is not None:
            leave_context(self._entry)
            self._entry = None
        uninstall(self)
        detach_guard(self)
        try:
            for slot in list(self._slots):
                if not slot.done and slot.recorder is not None:
                    slot.recorder.finish()  # a response never closed: keep what arrived
            recorded = self.recorded
            if recorded:
                self._write(recorded)
        finally:
            self._active = False
        failure = hidden_failure(self, None) if check else None
        if failure is not None:
            raise failure  # a miss or a blocked connection the code under test swallowed
        if check:
            self._check_unplayed()

    def __enter__(self) -> Cassette:
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop(check=exc_type is None)
        self._raise_hidden(exc)

    async def __aenter__(self) -> Cassette:
        return self.start()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop(check=exc_type is None)
        self._raise_hidden(exc)

    def _raise_hidden(self, exc: BaseException | None) -> None:
        """The block failed with `exc`: raise the miss behind it instead, if there is one (an
        SDK's own error for the 400 a miss is answered with, or a later consequence)."""
        failure = hidden_failure(self, exc) if exc is not None else None
        if failure is not None:
            raise failure

    @contextlib.contextmanager
    def scope(self) -> Iterator[Cassette]:
        """Send the requests made in this context (and the tasks it starts) to this active
        cassette, even when another cassette is the innermost one; the only way to reach a
        ``scoped`` cassette."""
        entry = enter_context(self)
        try:
            yield self
        finally:
            leave_context(entry)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Use as a decorator: each call runs inside a fresh session of this cassette."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with Cassette(self.path, **self._options):
                    return await fn(*args, **kwargs)

            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with Cassette(self.path, **self._options):
                return fn(*args, **kwargs)

        return wrapper

    # -- matching ---------------------------------------------------------------------------

    def _build_index(self, parsed: ParsedCassette) -> dict[Any, list[int]]:
        key = ("index", self.matcher.config)
        index = parsed.extras.get(key)
        if index is None:
            index = {}
            for i, request in enumerate(parsed.requests):
                view = self.matcher.view(request["method"], request["url"], request.get("body"))
                index.setdefault(self.matcher.key(view), []).append(i)
            parsed.extras[key] = index
        return index  # type: ignore[no-any-return]

    def _prepared(self, i: int) -> Prepared:
        assert self._parsed is not None
        table = self._parsed.extras.get("prepared")
        if table is None:
            table = self._parsed.extras.setdefault("prepared", {})
        prepared = table.get(i)
        if prepared is None:
            prepared = table[i] = Prepared.from_response(self._parsed.response(i))
        return prepared  # type: ignore[no-any-return]

    def _live_view(self, request: LiveRequest) -> RequestView:
        assert self._scrubber is not None
        body = encode_body(request.header("content-type"), request.body)
        if body and self._scrubber.search(request.body.decode("utf-8", "replace")):
            body = self._scrubber.body(body)  # recorded requests were scrubbed the same way
        return self.matcher.view(request.method, self._scrubber.url(request.url), body)

    def _can_record(self) -> bool:
        mode = self.mode
        return mode in ("all", "new_episodes") or (mode == "once" and not self._existed)

    def on_request(self, request: LiveRequest) -> Prepared | _Slot:
        """Called by the patched transport: a replay, or a slot to record into."""
        view = self._live_view(request)
        key = self.matcher.key(view)
        with self._lock:
            if self.mode != "all":
                matches = self._index.get(key)
                if matches:
                    position = self._positions.get(key, 0)
                    chosen = None
                    if position < len(matches):
                        chosen = matches[position]
                        self._positions[key] = position + 1
                    elif self.allow_playback_repeats:
                        chosen = matches[-1]
                    if chosen is not None:
                        self.play_counts[chosen] += 1
                        return self._prepared(chosen)
            if self._can_record():
                slot = _Slot()
                self._slots.append(slot)
                return slot
        miss = self._mismatch(view, key)
        with self._lock:
            self.misses.append(miss)
        answer = miss_answer(request, miss)  # for clients that retry exceptions: a 400
        if answer is None:
            raise miss
        return answer

    def complete(self, slot: _Slot, interaction: dict[str, Any] | None) -> None:
        """Called when a recorded response closes (None: the request failed, drop it)."""
        assert self._scrubber is not None
        if interaction is not None and _script_error(interaction):
            interaction = None  # the emulator's verdict on the test's script, not the API's
        if interaction is not None:
            interaction = self._scrubber.interaction(interaction)
            interaction = self._run_hooks(interaction)
        with self._lock:
            slot.interaction = interaction
            slot.done = True

    def _run_hooks(self, interaction: dict[str, Any]) -> dict[str, Any] | None:
        for side, hook in (
            ("request", self.before_record_request),
            ("response", self.before_record_response),
        ):
            if hook is None:
                continue
            result = hook(interaction[side])
            if result is None:
                return None
            if not isinstance(result, dict):
                raise UserError(
                    f"before_record_{side} must return the {side} dict (or None to skip "
                    f"recording it), got {type(result).__name__}."
                )
            interaction[side] = result
        return interaction

    # -- errors -------------------------------------------------------------------------------

    def _mismatch(self, view: RequestView, key: Any) -> CassetteMismatch:
        assert self._scrubber is not None
        mode = self.mode
        lines = [
            f"myna: no recorded interaction matches {view.method} {view.url}",
            f"  cassette: {self.path} (mode {mode!r})",
        ]
        exhausted = self._index.get(key)
        if not self._existed:
            lines.append("  the cassette file does not exist yet.")
            lines.append(f"  to record it: {_record_hint('once')}; mode 'none' never records.")
        elif exhausted:
            lines.append(
                f"  an identical request was recorded {len(exhausted)} time(s) and already "
                "replayed; identical requests replay in recorded order."
            )
            lines.append(
                f"  to record one more: {_record_hint('new_episodes')}; or pass "
                "allow_playback_repeats=True to replay the last one again."
            )
        else:
            lines.extend(self._closest(view))
            if mode == "once":
                lines.append(
                    "  mode 'once' records only a cassette that does not exist yet; to add this "
                    f"request: {_record_hint('new_episodes')}; to re-record all: delete the file "
                    "or use mode 'all'."
                )
            else:
                lines.append(f"  to record it: {_record_hint('new_episodes')}.")
        return CassetteMismatch(self._scrubber.text("\n".join(lines)))

    def _closest(self, view: RequestView) -> list[str]:
        parsed = self._parsed
        if parsed is None or not len(parsed):
            return ["  the cassette has no recorded interactions."]
        views_key = ("views", self.matcher.config)
        views = parsed.extras.get(views_key)
        if views is None:
            views = [
                self.matcher.view(r["method"], r["url"], r.get("body")) for r in parsed.requests
            ]
            parsed.extras[views_key] = views
        match_on = self.matcher.match_on
        best = min(range(len(views)), key=lambda i: distance(views[i], view, match_on))
        closest = views[best]
        lines = [f"  closest recorded request: interaction {best}, {closest.method} {closest.url}"]
        diffs = diff_views(views[best], view, match_on)
        if diffs:
            lines.append("  differences (recorded -> actual):")
            lines.extend("  " + line for line in format_diff(diffs))
        return lines

    def _check_unplayed(self) -> None:
        mode = self.mode
        policy = self.unplayed
        if policy is None:
            policy = "fail" if mode == "none" else ("warn" if mode == "once" else "ignore")
        unplayed = [i for i, count in enumerate(self.play_counts) if count == 0]
        if not unplayed or policy == "ignore" or self._parsed is None:
            return
        shown = []
        for i in unplayed[:5]:
            request = self._parsed.requests[i]
            shown.append(f"  interaction {i}: {request['method']} {request['url']}")
        if len(unplayed) > 5:
            shown.append(f"  ... and {len(unplayed) - 5} more")
        message = "\n".join(
            [
                f"myna: {len(unplayed)} of {len(self.play_counts)} recorded interaction(s) in "
                f"{self.path} were never requested (mode {mode!r}):",
                *shown,
                "  The test no longer makes these requests: re-record the cassette (mode 'all'), "
                "or pass unplayed='warn' / 'ignore'.",
            ]
        )
        if policy == "fail":
            raise UnplayedInteractions(message)
        warnings.warn(message, CassetteWarning, stacklevel=3)

    # -- writing ------------------------------------------------------------------------------

    def _write(self, recorded: list[dict[str, Any]]) -> None:
        assert self._scrubber is not None
        with cassette_lock(self.path):
            base: list[dict[str, Any]] = []
            now = _identity(self.path)
            if now is not None and (self.mode == "new_episodes" or now != self._seen):
                # re-read under the lock: another session (a process, a thread, an xdist
                # worker) wrote the file since this one started; keep its interactions and
                # add ours after them, or the last writer would drop theirs
                base = list(load_parsed(self.path).interactions)
            data = new_cassette(base + recorded)
            findings = find_secrets(data, self._scrubber)
            if findings:
                listed = "\n".join(f"  {finding}" for finding in findings[:10])
                raise CassetteSecretError(
                    f"myna: refusing to write {self.path}: it still holds secret-shaped "
                    f"values:\n{listed}\n  Remove them with before_record_request / "
                    "before_record_response hooks or redact=[...]; nothing was written."
                )
            write_atomic(self.path, dump_cassette(data))


def _identity(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is written (atomically replaced), or None: no file."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def replaying() -> bool:
    """Whether a request made here is answered by an active cassette that only replays (mode
    ``none``, or ``once`` with its file present), so it never reaches a provider.

    myna's providers ask this when no API key is set: a replay needs none (they send a
    placeholder the cassette never matches on nor records). The official SDKs check the key
    when their client is built: set any value there (``OPENAI_API_KEY=test``).
    """
    session = current_session()
    return bool(getattr(session, "replays_only", False))


def cassette(path: str | os.PathLike[str], mode: str | None = None, **options: Any) -> Cassette:
    """A `Cassette` for `path`: use it with ``with``, ``async with``, or as a decorator.

    Args:
        path: the YAML file to replay from / record to.
        mode: ``"none"``, ``"once"``, ``"new_episodes"`` or ``"all"``; default ``"once"``,
            or ``"none"`` when ``CI`` is set (``MYNA_RECORD_MODE`` overrides both).
        **options: see `Cassette`.
    """
    return Cassette(path, mode=mode, **options)


def _script_error(interaction: dict[str, Any]) -> bool:
    """Whether a recorded answer is a myna emulator's script error (never kept)."""
    from ..emulators import SCRIPT_ERROR_HEADER  # loaded only while recording

    headers = interaction.get("response", {}).get("headers") or {}
    return any(str(name).lower() == SCRIPT_ERROR_HEADER for name in headers)
