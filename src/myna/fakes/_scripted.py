"""`FakeChatModel`: a chat model that answers from a script."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from ..exceptions import ScriptExhaustedError, UserError
from ..messages import AIMessage
from ..models import ChatRequest
from ._base import FakeBase
from ._script import FakeCall, Fault, ScriptedToolCall, copy_reply, load_script, reply_to_message

__all__ = ["FakeChatModel"]


class FakeChatModel(FakeBase):
    """A chat model that answers from a script of replies, for tests.

    ```python
    from myna.fakes import FakeChatModel, fault, tool_call

    model = FakeChatModel([
        tool_call("get_weather", city="Paris"),   # first call: a tool call
        fault.rate_limit(retry_after=2),          # second call fails once, is retried...
        "It is sunny in Paris.",                  # ...and gets this answer
    ])
    ```

    Script entries: a string; an `AIMessage`; `tool_call(name, **args)`; a list of tool calls
    (parallel calls, optionally after a string); a dict or pydantic object (structured
    output); a `fault` or an exception (raised; retryable ones are retried like real
    errors, consuming the next entry); or a callable ``fn(request)`` returning any of these.
    A script may also be a path to a YAML file (see `load_script`).

    Its surface is `ChatModel`'s: `invoke`, `stream`, `batch`, `bind_tools`,
    `with_structured_output` and their async twins, plus `calls` (every request received)
    and `waits` (retry back-offs, skipped unless ``real_sleep=True``). Streams are split by
    `chunking` (``"words"``, ``"chars"`` or a size) with optional `chunk_delay`; usage is
    estimated identically for invoke and stream (`estimate_usage`) unless a reply carries its
    own. Scripted tool calls are checked against the bound tools.

    Inside a hypothesis ``@given`` test every example starts the script afresh, so a fake
    built outside the test (or the ``fake_model`` fixture) is safe to share between examples.

    Deterministic: the same script and calls give the same replies, ids and usage.
    """

    __test__ = False
    default_model: ClassVar[str] = "fake-scripted"
    extra_params = FakeBase.extra_params | {"cycle"}

    def __init__(self, script: Sequence[Any] | str | Path = (), /, **kwargs: Any) -> None:
        if isinstance(script, Path) or (
            isinstance(script, str) and script.endswith((".yaml", ".yml"))
        ):
            script = load_script(script)
        elif isinstance(script, str) or not isinstance(script, Sequence):
            raise UserError(
                "FakeChatModel takes a list of replies, e.g. FakeChatModel(['Hello!']), or the "
                f"path of a YAML script; got {type(script).__name__}."
                + (" Wrap a single reply in a list." if isinstance(script, str) else "")
            )
        self.cycle: bool = kwargs.pop("cycle", False)
        super().__init__(**kwargs)
        self.script: list[Any] = list(script)
        if self.cycle and not self.script:
            raise UserError("cycle=True needs at least one scripted reply.")
        self._position = 0

    def __repr__(self) -> str:
        return f"FakeChatModel({len(self.script)} replies, model={self.model!r})"

    def _runs_inline(self) -> bool:
        # callables in the script may block, so batches of them run in threads
        return super()._runs_inline() and not any(
            callable(e) and not isinstance(e, ScriptedToolCall) for e in self.script
        )

    @property
    def remaining(self) -> int:
        """Script entries not used yet (0 when cycling never runs out)."""
        return max(len(self.script) - self._position, 0) if not self.cycle else 0

    @property
    def position(self) -> int:
        """How many script entries have been used (the index of the next one, before cycling)."""
        return self._position

    def rewind_to(self, position: int) -> None:
        """Make the entry at `position` the next one again, e.g. for a reply that an emulator
        could not send (a script error): it is not used up."""
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise UserError(f"rewind_to({position!r}) needs a script position >= 0.")
        with self._lock:
            self._position = position

    @property
    def upcoming(self) -> Any:
        """The script entry the next call will use (None for an empty script)."""
        if not self.script:
            return None
        return self.script[self._position % len(self.script)]

    def reset(self) -> None:
        """Rewind the script and clear `calls` and `waits`.

        Inside a hypothesis ``@given`` test this happens by itself: the first call of each
        new example rewinds a fake that an earlier example used (the ``fake_model``
        fixture, a fake built outside the test), so every example sees the whole script.
        """
        with self._lock:
            self._new_example()

    def _new_example(self) -> None:
        self._position = 0
        super()._new_example()

    def _next_entry(self) -> tuple[int, Any]:
        with self._lock:
            position = self._position
            if position >= len(self.script) and not self.cycle:
                made = len(self.calls)
                raise ScriptExhaustedError(
                    f"myna: FakeChatModel script exhausted: {_replies(len(self.script))} scripted "
                    f"and this is call #{made}. Add replies to the script, or pass cycle=True "
                    "to repeat it."
                )
            self._position += 1
        return position, copy_reply(self.script[position % len(self.script)])

    def _reply(self, request: ChatRequest, call: FakeCall) -> tuple[AIMessage, Fault | None]:
        position, entry = self._next_entry()
        where = f"FakeChatModel reply #{position + 1}"
        if callable(entry) and not isinstance(entry, (type, ScriptedToolCall)):
            entry = entry(request)
            if inspect.isawaitable(entry):
                if hasattr(entry, "close"):
                    entry.close()
                raise UserError(
                    f"{where} is an async callable; use FunctionChatModel for async functions."
                )
        return self._materialize(entry, request, position, where, call.streamed)

    def _materialize(
        self, entry: Any, request: ChatRequest, position: int, where: str, streamed: bool
    ) -> tuple[AIMessage, Fault | None]:
        if isinstance(entry, BaseException):
            raise entry
        if isinstance(entry, Fault):
            if entry.kind == "disconnect" and streamed and entry.after_chunks > 0:
                # the cut strikes in the middle of the next reply; with no chunks sent it is a
                # plain connection error (retried, and the next reply is left for the retry)
                _, following = self._next_entry()
                message, _ = self._materialize(following, request, position + 1, where, True)
                return message, entry
            raise entry.error()
        message = reply_to_message(
            entry, call_index=position, structured=self.structured_info(request)
        )
        self._check_tool_calls(message, request, where)
        return self._complete(message, request, position), None


def _replies(n: int) -> str:
    return f"{n} reply was" if n == 1 else f"{n} replies were"
