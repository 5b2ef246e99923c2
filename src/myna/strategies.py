"""Hypothesis strategies: myna's message shapes, and values for your own app's tests.

For your app: `structured_outputs(schema)` (valid output for your schema),
`tool_calls_for(tools)` (calls to your tools whose args validate) and `fake_models(script)`
(a fresh scripted fake per example, with strategy entries drawn). For codecs and models:
messages, content blocks, tool calls, usage, conversations and chunked streams.

```python
from hypothesis import given
from myna.messages import merge_chunks
from myna.strategies import chunked_streams

@given(chunked_streams())
def test_stream_merges_back(pair):
    message, chunks = pair
    assert merge_chunks(chunks).to_message() == message
```

This module imports hypothesis, so it is only for tests; ``import myna`` does not load it.
Every strategy checks its arguments when it is built and raises `myna.exceptions.UserError`
quoting the bad ``name=value``. Drawn text includes any unicode except lone surrogates.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

try:
    from hypothesis import strategies as st
    from hypothesis.strategies import SearchStrategy
except ImportError as exc:  # an optional dependency: say which extra brings it
    raise ModuleNotFoundError(
        "myna.strategies needs hypothesis, which a plain `pip install myna` does not include: "
        "pip install 'myna[hypothesis]'",
        name=exc.name,
    ) from exc

from ._schema_values import (
    _ALNUM,
    _arg_keys,
    _identifiers,
    _json_values,
    _text,
    _valid_values,
)
from ._text import short_repr
from .exceptions import UserError
from .messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
    UsageMetadata,
    split_message,
)

__all__ = [
    "ai_messages",
    "chunked_streams",
    "chunkings",
    "content_blocks",
    "conversations",
    "fake_models",
    "human_messages",
    "reasoning_blocks",
    "structured_outputs",
    "text_blocks",
    "tool_calls",
    "tool_calls_for",
    "usage_metadata",
]

_BLOCK_KINDS = ("text", "reasoning")
_MAX_TOKENS = 200_000


def _check_bool(func: str, name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise UserError(f"{func}({name}={value!r}): {name} must be True or False.")


def _check_int(func: str, name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UserError(f"{func}({name}={value!r}): {name} must be an int >= {minimum}.")


def text_blocks() -> SearchStrategy[dict[str, Any]]:
    """Standard text blocks ``{"type": "text", "text": ...}`` with non-empty unicode text.

    Shrinks towards a one-character text.
    """
    return st.builds(lambda text: {"type": "text", "text": text}, _text(min_size=1))


def reasoning_blocks(signature: bool = True) -> SearchStrategy[dict[str, Any]]:
    """Standard reasoning blocks ``{"type": "reasoning", "reasoning": ...}``.

    Args:
        signature: True gives every block an opaque base64 ``extras["signature"]`` (as
            Anthropic returns with thinking); False gives none.

    Shrinks towards a one-character reasoning text and the shortest signature.
    """
    _check_bool("reasoning_blocks", "signature", signature)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        block: dict[str, Any] = {"type": "reasoning", "reasoning": draw(_text(min_size=1))}
        if signature:
            raw = draw(st.binary(min_size=8, max_size=48))
            block["extras"] = {"signature": base64.b64encode(raw).decode("ascii")}
        return block

    return build()


def content_blocks(kinds: Iterable[str] = _BLOCK_KINDS) -> SearchStrategy[dict[str, Any]]:
    """Text or reasoning blocks (signed), limited to the given `kinds`.

    Args:
        kinds: a non-empty collection of ``"text"`` and/or ``"reasoning"``.

    Shrinks towards a block of the first kind listed, then as that kind shrinks.
    """
    if isinstance(kinds, str):
        raise UserError(
            f"content_blocks(kinds={kinds!r}): kinds must be a collection such as ({kinds!r},)."
        )
    chosen = tuple(kinds)
    bad = [k for k in chosen if k not in _BLOCK_KINDS]
    if not chosen or bad:
        raise UserError(
            f"content_blocks(kinds={chosen!r}): kinds must be a non-empty collection of "
            f"{_BLOCK_KINDS!r}."
        )
    by_kind = {"text": text_blocks(), "reasoning": reasoning_blocks()}
    return st.one_of([by_kind[k] for k in dict.fromkeys(chosen)])


def tool_calls(max_args: int = 4) -> SearchStrategy[ToolCall]:
    """`ToolCall` dicts ``{"name", "args", "id", "type": "tool_call"}``.

    Names are identifier-like; args are a dict of up to `max_args` JSON values (strings,
    ints within +-2**53, finite floats without -0.0, bools, None, lists, nested dicts);
    ids look like ``"call_<alnum>"``.

    Args:
        max_args: the most top-level arguments a call may have (0 for none).

    Shrinks towards a call named ``"a"`` with no arguments and the shortest id.
    """
    _check_int("tool_calls", "max_args", max_args, 0)
    return st.builds(
        lambda name, args, suffix: {
            "name": name,
            "args": args,
            "id": f"call_{suffix}",
            "type": "tool_call",
        },
        _identifiers,
        st.dictionaries(_arg_keys, _json_values, max_size=max_args),
        st.text(_ALNUM, min_size=4, max_size=24),
    )


# `ai_messages` has a `tool_calls` flag that hides the strategy function of the same name.
_tool_calls = tool_calls


def usage_metadata(details: bool = True) -> SearchStrategy[UsageMetadata]:
    """`UsageMetadata` with consistent counts.

    ``total_tokens == input_tokens + output_tokens``; with `details`, an optional
    ``input_token_details`` (``cache_read`` + ``cache_creation`` <= input) and an optional
    ``output_token_details`` (``reasoning`` <= output) are drawn.

    Args:
        details: False gives only the three totals.

    Shrinks towards zero tokens and no details.
    """
    _check_bool("usage_metadata", "details", details)

    @st.composite
    def build(draw: st.DrawFn) -> UsageMetadata:
        inputs = draw(st.integers(0, _MAX_TOKENS))
        outputs = draw(st.integers(0, _MAX_TOKENS))
        usage: dict[str, Any] = {
            "input_tokens": inputs,
            "output_tokens": outputs,
            "total_tokens": inputs + outputs,
        }
        if details and draw(st.booleans()):
            cache_read = draw(st.integers(0, inputs))
            input_details = {"cache_read": cache_read}
            if draw(st.booleans()):
                input_details["cache_creation"] = draw(st.integers(0, inputs - cache_read))
            usage["input_token_details"] = input_details
        if details and draw(st.booleans()):
            usage["output_token_details"] = {"reasoning": draw(st.integers(0, outputs))}
        return usage  # type: ignore[return-value]

    return build()


def _call_id(call: ToolCall) -> Any:
    return call["id"]


def ai_messages(
    *,
    text: bool = True,
    reasoning: bool = False,
    tool_calls: bool = True,
    usage: bool = True,
    blocks: bool = False,
    max_tool_calls: int = 3,
) -> SearchStrategy[AIMessage]:
    """`AIMessage` replies as a model would return them; never an entirely empty message.

    Content is a string, or a list of blocks (signed reasoning blocks first, then text
    blocks) when `blocks` or `reasoning` is true. Tool calls have unique ids. ``id`` and
    ``response_metadata`` are left empty so codec round trips can compare whole messages.

    Args:
        text: draw text content (it may be empty when the message has tool calls or reasoning).
        reasoning: start the content with 1-2 reasoning blocks.
        tool_calls: draw 0..`max_tool_calls` tool calls (at least 1 when there is no text).
        usage: sometimes attach `usage_metadata` (None otherwise).
        blocks: give text as a list of text blocks instead of a string.
        max_tool_calls: the most tool calls a message may have.

    Shrinks towards a message with a one-character text (or one bare tool call), no
    reasoning and no usage.
    """
    for name, value in (
        ("text", text),
        ("reasoning", reasoning),
        ("tool_calls", tool_calls),
        ("usage", usage),
        ("blocks", blocks),
    ):
        _check_bool("ai_messages", name, value)
    _check_int("ai_messages", "max_tool_calls", max_tool_calls, 1)
    if not (text or reasoning or tool_calls):
        raise UserError(
            "ai_messages(text=False, reasoning=False, tool_calls=False) could only make empty "
            "messages; enable at least one of them."
        )
    as_blocks = blocks or reasoning
    # built once, not per draw: a fresh strategy object pays its set-up on every example
    tool_calls_strategy = _tool_calls()
    calls_strategies = {
        n: st.lists(tool_calls_strategy, min_size=n, max_size=max_tool_calls, unique_by=_call_id)
        for n in (0, 1)
    }
    reasoning_list = st.lists(reasoning_blocks(), min_size=1, max_size=2)
    text_lists = {n: st.lists(text_blocks(), min_size=n, max_size=2) for n in (0, 1)}
    plain_texts = {n: _text(min_size=n, max_size=80) for n in (0, 1)}
    usage_strategy = st.none() | usage_metadata()

    @st.composite
    def build(draw: st.DrawFn) -> AIMessage:
        other_content = reasoning
        min_calls = 0 if (text or other_content) else 1
        calls: list[ToolCall] = []
        if tool_calls:
            calls = draw(calls_strategies[min_calls])
        # Text is needed only when nothing else would be in the message.
        need_text = int(bool(text and not calls and not other_content))
        content: Any
        if as_blocks:
            content = []
            if reasoning:
                content += draw(reasoning_list)
            if text:
                content += draw(text_lists[need_text])
        else:
            content = draw(plain_texts[need_text]) if text else ""
        usage_value = draw(usage_strategy) if usage else None
        return AIMessage(content, tool_calls=calls, usage_metadata=usage_value)

    return build()


def human_messages() -> SearchStrategy[HumanMessage]:
    """`HumanMessage` with non-empty unicode string content.

    Shrinks towards a one-character message.
    """
    return st.builds(HumanMessage, _text(min_size=1, max_size=80))


def _tool_answers(draw: st.DrawFn, message: AIMessage) -> list[ToolMessage]:
    return [
        ToolMessage(
            draw(_text(min_size=1, max_size=40)), tool_call_id=call["id"], name=call["name"]
        )
        for call in message.tool_calls
    ]


def _unique_ids(message: AIMessage, used: set[str]) -> AIMessage:
    """Rename tool-call ids already used earlier in the conversation."""
    if not message.tool_calls:
        return message
    calls = []
    for call in message.tool_calls:
        call_id = call["id"] or "call"
        fresh, n = call_id, 1
        while fresh in used:
            fresh, n = f"{call_id}{n}", n + 1
        used.add(fresh)
        calls.append({**call, "id": fresh})
    return message.model_copy(update={"tool_calls": calls})


def conversations(max_turns: int = 4) -> SearchStrategy[list[BaseMessage]]:
    """Conversations a model could be asked to continue.

    An optional `SystemMessage`, then 1..`max_turns` turns. Every turn but the last is a
    human message, an AI reply and a `ToolMessage` answering each of its tool calls by id.
    The last turn is a human message, optionally followed by an AI reply with tool calls and
    their answers, so the conversation always ends with a human or tool message. Tool-call
    ids are unique across the conversation.

    Args:
        max_turns: the most human turns.

    Shrinks towards a single one-character human message.
    """
    _check_int("conversations", "max_turns", max_turns, 1)
    replies = ai_messages()
    calling_replies = ai_messages(text=False)

    @st.composite
    def build(draw: st.DrawFn) -> list[BaseMessage]:
        out: list[BaseMessage] = []
        if draw(st.booleans()):
            out.append(SystemMessage(draw(_text(min_size=1, max_size=80))))
        used: set[str] = set()
        turns = draw(st.integers(1, max_turns))
        for turn in range(turns):
            out.append(draw(human_messages()))
            last = turn == turns - 1
            if last and not draw(st.booleans()):
                break
            reply = _unique_ids(draw(calling_replies if last else replies), used)
            out.append(reply)
            out.extend(_tool_answers(draw, reply))
        return out

    return build()


def chunkings() -> SearchStrategy[Any]:
    """Chunking policies for `myna.messages.split_message`: ``"words"``, ``"chars"`` or 1..8.

    Shrinks towards ``"words"``.
    """
    return st.one_of(st.sampled_from(["words", "chars"]), st.integers(1, 8))


def chunked_streams(
    messages_strategy: SearchStrategy[AIMessage] | None = None,
) -> SearchStrategy[tuple[AIMessage, list[AIMessageChunk]]]:
    """``(message, chunks)`` pairs: a drawn reply and its stream, cut by a drawn chunking.

    Args:
        messages_strategy: where messages come from; ``ai_messages()`` when None.

    Shrinks as the message shrinks and towards ``"words"`` chunking.
    """
    if messages_strategy is None:
        messages_strategy = ai_messages()
    if not isinstance(messages_strategy, SearchStrategy):
        raise UserError(
            f"chunked_streams(messages_strategy={messages_strategy!r}): pass a hypothesis "
            "strategy of AIMessage, e.g. ai_messages(reasoning=True)."
        )
    return st.builds(
        lambda message, chunking: (message, split_message(message, chunking)),
        messages_strategy,
        chunkings(),
    )


def structured_outputs(schema: Any) -> SearchStrategy[Any]:
    """Valid structured outputs for `schema`: what ``with_structured_output(schema)`` returns.

    ```python
    from hypothesis import given
    from myna.fakes import FakeChatModel
    from myna.strategies import structured_outputs

    @given(structured_outputs(TripAdvice))
    def test_any_valid_advice_renders(advice):
        model = FakeChatModel([advice])  # a pydantic instance (or dict) scripts the answer
        assert render(plan_trip("Paris?", model=model))
    ```

    Values are drawn from the JSON schema (types, enum/const, ``$ref``, anyOf/oneOf/allOf,
    lengths, patterns, formats, bounds, required and optional properties) and validated
    like model output: a pydantic class gives instances, a TypedDict or JSON-schema dict
    gives dicts. Values its own validators reject are skipped.

    Args:
        schema: a pydantic class, a TypedDict or a JSON-schema dict.

    Shrinks towards the smallest valid value: optional properties left out, the first
    option of an anyOf, short strings and numbers near zero.
    """
    from .exceptions import OutputParserError
    from .schema import OutputSchema

    output = OutputSchema.from_any(schema)
    invalid = object()

    def parsed(value: Any) -> Any:
        try:
            return output.parse(value)
        except OutputParserError:
            return invalid

    where = f"structured_outputs({output.name})"
    return (
        _valid_values(output.json_schema, where)
        .map(parsed)
        .filter(lambda value: value is not invalid)
    )


def _tool_specs(tools: Any) -> list[dict[str, Any]]:
    from .tools import convert_to_tool_spec

    bound = getattr(tools, "params", None)
    if isinstance(bound, dict) and isinstance(bound.get("tools"), list):
        return list(bound["tools"])  # a model from bind_tools: its specs
    if isinstance(tools, (str, bytes)) or not isinstance(tools, Iterable):
        raise UserError(
            f"tool_calls_for(tools={tools!r}): pass the list you give bind_tools, e.g. "
            "tool_calls_for([get_weather]), or the model bind_tools returned."
        )
    return [convert_to_tool_spec(t) for t in tools]


def tool_calls_for(tools: Any) -> SearchStrategy[ToolCall]:
    """Calls to your tools: `ToolCall` dicts whose args validate against the tool's schema.

    ```python
    from hypothesis import given
    from myna.fakes import FakeChatModel
    from myna.messages import AIMessage
    from myna.strategies import tool_calls_for

    @given(tool_calls_for([get_weather, book_table]))
    def test_agent_survives_any_valid_call(call):
        model = FakeChatModel([AIMessage("", tool_calls=[call]), "Done."])
        run_agent("Plan my evening", model=model.bind_tools([get_weather, book_table]))
    ```

    Args:
        tools: what you pass to ``bind_tools`` (``@tool`` functions, typed functions,
            pydantic classes, tool dicts), or the model ``bind_tools`` returned. Provider
            built-in tools (no parameters) are left out.

    Shrinks towards a call to the first tool with its smallest valid arguments.
    """
    specs = [s for s in _tool_specs(tools) if isinstance(s.get("parameters"), dict)]
    if not specs:
        raise UserError(
            f"tool_calls_for(tools={short_repr(tools, 80)}): no tool with parameters to call."
        )
    ids = st.text(_ALNUM, min_size=4, max_size=24)
    options = []
    for spec in specs:
        args = _valid_values(spec["parameters"], f"tool_calls_for: tool {spec['name']!r}")
        options.append(
            st.builds(
                lambda args, suffix, name=spec["name"]: {
                    "name": name,
                    "args": args,
                    "id": f"call_{suffix}",
                    "type": "tool_call",
                },
                args.filter(lambda a: isinstance(a, dict)),
                ids,
            )
        )
    return st.one_of(options)


def fake_models(script: Iterable[Any], /, **kwargs: Any) -> SearchStrategy[Any]:
    """A fresh `FakeChatModel` for every example; script entries that are strategies are drawn.

    The way to use a scripted fake inside ``@given`` without the ``fake_model`` fixture
    (hypothesis's function-scoped-fixture health check): every example gets its own model,
    script position and call log.

    ```python
    from hypothesis import given
    from myna.strategies import fake_models, structured_outputs, tool_calls_for

    @given(fake_models([tool_calls_for([get_weather]), "Sunny.", structured_outputs(TripAdvice)]))
    def test_plan_trip_for_any_scripted_run(model):
        assert plan_trip("Paris?", model=model).city
    ```

    Args:
        script: replies as for `FakeChatModel`; a strategy entry is drawn once per example
            (a drawn `ToolCall` dict becomes a scripted tool call).
        **kwargs: `FakeChatModel` options (``cycle=True``, ``chunking="chars"``, ...).

    Shrinks as the drawn entries shrink.
    """
    from .fakes import FakeChatModel, ScriptedToolCall

    if isinstance(script, (str, bytes)) or not isinstance(script, Iterable):
        raise UserError(
            f"fake_models(script={script!r}): pass a list of replies, e.g. fake_models(['Hello!'])."
        )
    entries = list(script)
    FakeChatModel([e for e in entries if not isinstance(e, SearchStrategy)], **kwargs)

    def as_entry(value: Any) -> Any:
        if isinstance(value, dict) and value.get("type") == "tool_call" and "args" in value:
            return ScriptedToolCall(name=value["name"], args=value["args"], id=value.get("id"))
        return value

    drawn = [e.map(as_entry) if isinstance(e, SearchStrategy) else st.just(e) for e in entries]
    return st.builds(lambda *replies: FakeChatModel(list(replies), **kwargs), *drawn)
