"""`with_structured_output`: a model whose output is a parsed, validated object."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from ..exceptions import InvalidParameterError, OutputParserError, UserError
from ..messages import AIMessage, AIMessageChunk, merge_chunks
from ._params import check_flag, check_keywords, did_you_mean
from ._runnable import Runnable

__all__ = ["StructuredOutputRunnable"]

METHODS = ("json_schema", "function_calling", "json_mode")


class StructuredOutputRunnable(Runnable):
    """Calls the model, then parses and validates its output against the schema.

    `invoke` returns a pydantic instance (pydantic schema) or a dict (TypedDict / JSON
    schema); with ``include_raw=True`` it returns ``{"raw", "parsed", "parsing_error"}`` and
    never raises a parsing error. `stream` yields growing partial dicts as the JSON arrives,
    then the final validated object (a model without native streaming yields just the final
    object). Validation failures raise `OutputParserError` naming the failing field.
    """

    def __init__(
        self,
        model: Any,
        schema: Any,
        *,
        method: str = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **unknown: Any,
    ) -> None:
        from ..schema import OutputSchema

        where = "with_structured_output()"
        check_keywords(where, unknown, ("method", "include_raw", "strict"))
        if method not in METHODS:
            raise InvalidParameterError(
                f"{where}: method={method!r} is not one of {', '.join(map(repr, METHODS))}."
                f"{did_you_mean(str(method), METHODS)}"
            )
        check_flag(where, "include_raw", include_raw, optional=False)
        check_flag(where, "strict", strict)
        if method == "json_mode" and strict:
            raise UserError(
                "strict=True cannot be used with method='json_mode': JSON mode does not take a "
                "schema. Use method='json_schema' for provider-enforced schemas."
            )
        self.schema = OutputSchema.from_any(schema, strict=strict)
        self.method = method
        self.include_raw = include_raw
        self.strict = strict
        params: dict[str, Any] = {
            "_structured_schema": self.schema.json_schema,
            "_structured_method": method,
        }
        if method == "json_schema":
            fmt: dict[str, Any] = {
                "type": "json_schema",
                "name": self.schema.name,
                "schema": self.schema.strict_json_schema() if strict else self.schema.json_schema,
            }
            if self.schema.description:
                fmt["description"] = self.schema.description
            if strict is not None:
                fmt["strict"] = strict
            params["response_format"] = fmt
            self.bound = model.bind(**params)
        elif method == "json_mode":
            params["response_format"] = {"type": "json_object"}
            self.bound = model.bind(**params)
        else:
            tool = {
                "name": self.schema.name,
                "description": self.schema.description
                or f"Return the answer as {self.schema.name}.",
                "parameters": self.schema.strict_json_schema()
                if strict
                else self.schema.json_schema,
            }
            if strict is not None:
                tool["strict"] = strict
            self.bound = model.bind(
                tools=[tool], tool_choice=self.schema.name, parallel_tool_calls=False, **params
            )

    def __repr__(self) -> str:
        return f"StructuredOutputRunnable(schema={self.schema.name!r}, method={self.method!r})"

    def _runs_inline(self) -> bool:
        return self.bound._runs_inline()

    # -- parsing ---------------------------------------------------------------------------

    def _raw_value(self, message: AIMessage) -> Any:
        if self.method == "function_calling":
            for call in message.tool_calls:
                if call["name"] == self.schema.name:
                    return call["args"]
            for bad in message.invalid_tool_calls:
                if bad.get("name") == self.schema.name:
                    raise OutputParserError(
                        f"The model called {self.schema.name!r} with arguments that are not "
                        f"valid JSON: {bad.get('error')}",
                        raw=bad.get("args"),
                    )
            raise OutputParserError(
                f"The model did not call the {self.schema.name!r} tool, so there is no "
                f"structured output. Reply text: {message.text[:200]!r}",
                raw=message.text,
            )
        refusal = message.additional_kwargs.get("refusal")
        if refusal:
            raise OutputParserError(f"The model refused: {refusal}", raw=refusal)
        return message.text

    def _parse(self, message: AIMessage) -> Any:
        return self.schema.parse(self._raw_value(message))

    def _output(self, message: AIMessage) -> Any:
        if not self.include_raw:
            return self._parse(message)
        try:
            return {"raw": message, "parsed": self._parse(message), "parsing_error": None}
        except OutputParserError as exc:
            return {"raw": message, "parsed": None, "parsing_error": exc}

    def _piece(self, chunk: AIMessageChunk) -> str:
        """The part of a chunk that carries the structured JSON."""
        if self.method == "function_calling":
            return "".join(c.get("args") or "" for c in chunk.tool_call_chunks)
        return chunk.text

    # -- calling ---------------------------------------------------------------------------

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return self._output(self.bound.invoke(input, config, **kwargs))

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return self._output(await self.bound.ainvoke(input, config, **kwargs))

    def _wrap_partial(self, partial: Any, chunk: AIMessageChunk) -> Any:
        if self.include_raw:
            return {"raw": chunk, "parsed": partial, "parsing_error": None}
        return partial

    def _step(self, chunk: AIMessageChunk, state: list[Any]) -> Any:
        """Feed one chunk; returns a new partial object, or None when nothing changed."""
        piece = self._piece(chunk)
        if not piece:
            return None
        state[0] += piece
        partial = self.schema.parse_partial(state[0])
        if partial is None or partial == state[1]:
            return None
        state[1] = partial
        return partial

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]:
        chunks: list[AIMessageChunk] = []
        state: list[Any] = ["", None]
        for chunk in self.bound.stream(input, config, **kwargs):
            chunks.append(chunk)
            if chunk.chunk_position != "last":
                partial = self._step(chunk, state)
                if partial is not None:
                    yield self._wrap_partial(partial, chunk)
        yield self._output(merge_chunks(chunks).to_message())

    async def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        chunks: list[AIMessageChunk] = []
        state: list[Any] = ["", None]
        async for chunk in self.bound.astream(input, config, **kwargs):
            chunks.append(chunk)
            if chunk.chunk_position != "last":
                partial = self._step(chunk, state)
                if partial is not None:
                    yield self._wrap_partial(partial, chunk)
        yield self._output(merge_chunks(chunks).to_message())
