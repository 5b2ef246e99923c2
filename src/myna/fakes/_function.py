"""`FunctionChatModel`: a chat model whose replies come from your function."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..exceptions import UserError
from ..messages import AIMessage, AIMessageChunk, merge_chunks, tool_call_chunk
from ..messages import construct_message as _fast_new
from ..models import ChatRequest
from ._base import FakeBase
from ._script import FakeCall, Fault, ScriptedToolCall, reply_to_message
from ._seed import current_seed

__all__ = ["FunctionChatModel", "FunctionInfo"]


@dataclass(frozen=True)
class FunctionInfo:
    """What a `FunctionChatModel` function is told besides the messages."""

    tools: list[dict[str, Any]]
    """Bound tools as ToolSpec dicts."""
    tool_choice: Any
    structured: dict[str, Any] | None
    """``{"method", "name", "schema"}`` when called through with_structured_output."""
    params: dict[str, Any]
    config: dict[str, Any]
    call_index: int
    """0 for the first call of this model, 1 for the next, ..."""
    seed: int | None = None
    """The evaluation run's seed (`myna.fakes.current_seed`); None outside an evaluation."""
    extra: dict[str, Any] = field(default_factory=dict)


class FunctionChatModel(FakeBase):
    """A chat model that calls ``fn(messages, info)`` for each reply, for tests.

    ```python
    from myna.fakes import FunctionChatModel

    echo = FunctionChatModel(lambda messages, info: messages[-1].text.upper())
    assert echo.invoke("hi").text == "HI"
    ```

    `fn` may be sync or ``async def``, and returns anything a `FakeChatModel` script entry
    may be (a string, an AIMessage, `tool_call(...)`, a list of them, a dict for structured
    output; raising is fine). A generator (or async generator) function streams: it yields
    text pieces, `tool_call(...)` objects or `AIMessageChunk`s, which reach `stream()` as
    they are yielded; `invoke` merges them. Its surface is `ChatModel`'s plus `calls`.

    Deterministic as far as `fn` is.
    """

    __test__ = False
    default_model: ClassVar[str] = "fake-function"

    def __init__(self, fn: Callable[..., Any], /, **kwargs: Any) -> None:
        if not callable(fn):
            raise UserError(
                f"FunctionChatModel needs a function fn(messages, info), got {type(fn).__name__}."
            )
        super().__init__(**kwargs)
        self.fn = fn
        self._is_gen = inspect.isgeneratorfunction(fn)
        self._is_agen = inspect.isasyncgenfunction(fn)

    def __repr__(self) -> str:
        return f"FunctionChatModel({getattr(self.fn, '__name__', self.fn)!r})"

    def _runs_inline(self) -> bool:
        return False  # the function may block (sleep, I/O): batch it in threads

    def _info(self, request: ChatRequest) -> FunctionInfo:
        return FunctionInfo(
            tools=list(request.tools),
            tool_choice=request.tool_choice,
            structured=self.structured_info(request),
            params=dict(request.params),
            config=dict(request.config),
            call_index=len(self.calls) - 1,
            seed=current_seed(),
        )

    def _finish_reply(self, value: Any, request: ChatRequest) -> AIMessage:
        index = len(self.calls) - 1
        where = f"FunctionChatModel call #{index + 1}"
        if isinstance(value, BaseException):
            raise value
        if isinstance(value, Fault):
            raise value.error()
        message = reply_to_message(
            value, call_index=index, structured=self.structured_info(request)
        )
        self._check_tool_calls(message, request, where)
        return self._complete(message, request, index)

    # -- plain functions ----------------------------------------------------------------------

    def _reply(self, request: ChatRequest, call: FakeCall) -> tuple[AIMessage, Fault | None]:
        if self._is_agen or inspect.iscoroutinefunction(self.fn):
            raise UserError(
                "This FunctionChatModel wraps an async function; call it with ainvoke/astream."
            )
        if self._is_gen:
            pieces = list(self.fn(request.messages, self._info(request)))
            return self._finish_reply(_merge_pieces(pieces, len(self.calls) - 1), request), None
        return self._finish_reply(self.fn(request.messages, self._info(request)), request), None

    async def _areply(self, request: ChatRequest, call: FakeCall) -> tuple[AIMessage, Fault | None]:
        if self._is_agen:
            pieces = [p async for p in self.fn(request.messages, self._info(request))]
            return self._finish_reply(_merge_pieces(pieces, len(self.calls) - 1), request), None
        if self._is_gen:
            pieces = list(self.fn(request.messages, self._info(request)))
            return self._finish_reply(_merge_pieces(pieces, len(self.calls) - 1), request), None
        value = self.fn(request.messages, self._info(request))
        if inspect.isawaitable(value):
            value = await value
        return self._finish_reply(value, request), None

    # -- generator functions stream for real ----------------------------------------------------

    def _stream(self, request: ChatRequest) -> Iterator[AIMessageChunk]:
        if not self._is_gen:
            yield from super()._stream(request)
            return
        call = self._record(request, streamed=True)
        index = len(self.calls) - 1
        sent: list[AIMessageChunk] = []
        for i, piece in enumerate(self.fn(request.messages, self._info(request))):
            chunk = _piece_chunk(piece, index, i)
            sent.append(chunk)
            yield chunk
        yield self._final_chunk(sent, request, call)

    async def _astream(self, request: ChatRequest) -> AsyncIterator[AIMessageChunk]:
        if not (self._is_gen or self._is_agen):
            async for chunk in super()._astream(request):
                yield chunk
            return
        call = self._record(request, streamed=True)
        index = len(self.calls) - 1
        sent: list[AIMessageChunk] = []
        gen = self.fn(request.messages, self._info(request))
        if self._is_agen:
            i = 0
            async for piece in gen:
                chunk = _piece_chunk(piece, index, i)
                i += 1
                sent.append(chunk)
                yield chunk
        else:
            for i, piece in enumerate(gen):
                chunk = _piece_chunk(piece, index, i)
                sent.append(chunk)
                yield chunk
        yield self._final_chunk(sent, request, call)

    def _final_chunk(
        self, sent: list[AIMessageChunk], request: ChatRequest, call: FakeCall
    ) -> AIMessageChunk:
        merged = merge_chunks(sent).to_message() if sent else AIMessage("")
        complete = self._complete(merged.model_copy(), request, len(self.calls) - 1)
        self._check_tool_calls(complete, request, f"FunctionChatModel call #{len(self.calls)}")
        call.reply = complete
        return _fast_new(
            AIMessageChunk,
            {
                "content": "" if isinstance(complete.content, str) else [],
                "id": complete.id,
                "usage_metadata": complete.usage_metadata,
                "response_metadata": complete.response_metadata,
                "chunk_position": "last",
            },
        )


def _piece_chunk(piece: Any, call_index: int, position: int) -> AIMessageChunk:
    # chunks carry the id invoke gives the whole reply, so streamed and invoked replies match
    message_id = f"fake-msg-{call_index}"
    if isinstance(piece, AIMessageChunk):
        return piece if piece.id is not None else piece.model_copy(update={"id": message_id})
    if isinstance(piece, str):
        return AIMessageChunk(piece, id=message_id)
    if isinstance(piece, ScriptedToolCall):
        import json

        chunk = tool_call_chunk(
            name=piece.name,
            args=json.dumps(piece.args),
            id=piece.id or f"call_{call_index}_{position}",
            index=position,
        )
        return AIMessageChunk(tool_call_chunks=[chunk], id=message_id)
    raise UserError(
        "A streaming FunctionChatModel function yields text, tool_call(...) objects or "
        f"AIMessageChunks; it yielded {type(piece).__name__}."
    )


def _merge_pieces(pieces: list[Any], call_index: int) -> AIMessage:
    chunks = [_piece_chunk(p, call_index, i) for i, p in enumerate(pieces)]
    return merge_chunks(chunks).to_message() if chunks else AIMessage("")
