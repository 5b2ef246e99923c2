"""Turn a recording into a provider-neutral fake script (``myna cassettes to-script``).

Each recorded reply is decoded by the codec of its protocol (the client side, as a provider
model would read it) and written as a script entry that `FakeChatModel` and every emulator
answer with: a ``message`` (text, reasoning blocks, tool calls with their arguments, usage,
the neutral finish reason), a ``json`` object for structured output, or a ``fault`` for an
error answer. What is provider-specific (ids of the response, signatures of reasoning, raw
stop reasons, metadata) is left out, so one real recording drives any provider's emulator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..codecs import get_codec
from ..exceptions import (
    ContextLengthError,
    DecodeError,
    MynaError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from ._errors import CassetteError
from ._format import decode_body, load_cassette, read_bytes
from ._show import _json, _payloads, protocol_of

__all__ = ["entry_reply", "read_interactions", "script_entry", "to_script"]

_USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "input_token_details",
    "output_token_details",
)


def _is_myna(raw: bytes) -> bool:
    head = raw[:400].decode("utf-8", "replace")
    return "recorded_with: myna" in head or head.startswith("# myna cassette")


def read_interactions(path: str | Path) -> list[dict[str, Any]]:
    """The interactions of a myna cassette, or of a vcrpy / pydantic-ai / Ruby VCR / httprr
    one read into the same shape (bodies decoded, nothing written).

    Raises:
        CassetteError: the file is unreadable or in no known format.
    """
    path = Path(path)
    if _is_myna(read_bytes(path)):
        return list(load_cassette(path)["interactions"])
    from ._foreign import load_interactions

    try:
        foreign = load_interactions(path)
    except DecodeError as exc:
        raise CassetteError(f"Cannot read {path}: {exc}") from None
    return [item.stored() for item in foreign]


def _fault(error: ProviderError, status: int) -> dict[str, Any]:
    """A ``fault`` entry for an error answer, keeping the provider's own type and code."""
    words: dict[str, Any] = {}
    if error.message:
        words["message"] = error.message
    for key in ("type", "code"):
        value = getattr(error, key, None)
        if value is not None:
            words[key] = str(value)
    retry = {"retry_after": error.retry_after} if error.retry_after is not None else {}
    if isinstance(error, ContextLengthError):
        return {"kind": "context_length", **words}
    if isinstance(error, RateLimitError) and status == 429:
        return {"kind": "rate_limit", **retry, **words}
    if isinstance(error, OverloadedError) and status == 529:
        return {"kind": "overloaded", **retry, **words}
    if isinstance(error, ServerError) and 500 <= status <= 599:
        return {"kind": "server_error", "status": status, **words}
    status = status if 400 <= status <= 599 else 400
    return {"kind": "error", "status": status, **retry, **words}


def _blocks(message: Any) -> str | list[dict[str, Any]]:
    """The content as plain text, or neutral text / reasoning blocks when there is reasoning."""
    content = message.content
    if isinstance(content, str):
        return content
    blocks: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            blocks.append({"type": "text", "text": block})
        elif block.get("type") == "text" and block.get("text"):
            blocks.append({"type": "text", "text": block["text"]})
        elif block.get("type") == "reasoning" and block.get("reasoning"):
            blocks.append({"type": "reasoning", "reasoning": block["reasoning"]})
    if all(block["type"] == "text" for block in blocks):
        return "".join(block["text"] for block in blocks)
    # adjacent pieces of one kind (a stream's deltas) become one block
    merged: list[dict[str, Any]] = []
    for block in blocks:
        if merged and merged[-1]["type"] == block["type"]:
            merged[-1][block["type"]] += block[block["type"]]
        else:
            merged.append(dict(block))
    return merged


def _message_entry(message: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"content": _blocks(message)}
    calls = [
        {"name": c["name"], "args": dict(c.get("args") or {}), "id": c.get("id")}
        for c in message.tool_calls or []
    ]
    if calls:
        value["tool_calls"] = [{k: v for k, v in c.items() if v is not None} for c in calls]
    usage = message.usage_metadata
    if usage:
        value["usage_metadata"] = {k: usage[k] for k in _USAGE_KEYS if usage.get(k) is not None}
    finish = (message.response_metadata or {}).get("finish_reason")
    if isinstance(finish, str):
        value["response_metadata"] = {"finish_reason": finish}
    return value


def _asks_for_json(codec: Any, request: dict[str, Any]) -> bool:
    """Whether the recorded request asked for a JSON reply (structured output)."""
    try:
        body = _json(request.get("body")) or {}
        model = codec.request_model(urlsplit(request["url"]).path)
        _, params = codec.decode_request(body, model=model)
    except (MynaError, ValueError, TypeError, KeyError):
        return False
    fmt = params.get("response_format")
    return isinstance(fmt, dict) and fmt.get("type") in ("json_schema", "json_object")


def _count_chunks(chunks: list[Any]) -> int:
    """How many decoded chunks carried content (what ``fault.disconnect`` counts)."""
    count = 0
    for chunk in chunks:
        if chunk.content or chunk.tool_call_chunks:
            count += 1
    return count


def script_entry(
    interaction: dict[str, Any], *, structured: bool = True
) -> list[dict[str, Any]] | None:
    """The script entries (usually one) for one recorded interaction, in YAML form.

    None when the interaction is not a chat API call (a model listing, a cache upload).
    `structured`: a JSON reply to a request for structured output becomes a ``json`` entry
    (what any ``with_structured_output`` method accepts, without usage); False keeps it a
    ``message`` with its usage (the shape check renders it as the API sent it).

    Raises:
        CassetteError: the recorded reply does not decode with its protocol's codec.
    """
    request, response = interaction["request"], interaction["response"]
    protocol = protocol_of(request["url"])
    if protocol is None:
        return None
    codec = get_codec(protocol)
    status = int(response["status"])
    where = f"{request['method']} {request['url']} -> {status}"
    try:
        if status >= 400:
            error = codec.decode_error(status, _json(response.get("body")), response.get("headers"))
            return [{"fault": _fault(error, status)}]
        payloads = _payloads(response)
        body = _json(response.get("body")) if payloads is None else None
        if isinstance(body, list):  # a stream sent as one JSON array (Gemini without alt=sse)
            payloads = body
        if payloads is not None:
            from ..messages import AIMessage, merge_chunks

            chunks = list(codec.decode_stream(payloads))
            merged = merge_chunks(chunks)
            message: Any = AIMessage(
                content=merged.content,
                tool_calls=merged.tool_calls,
                usage_metadata=merged.usage_metadata,
                response_metadata=merged.response_metadata,
            )
        else:
            chunks = []
            message = codec.decode_response(body)
    except ProviderError as error:  # an error event inside a 200 stream
        return [{"fault": _fault(error, error.status_code or 500)}]
    except (MynaError, ValueError, TypeError, KeyError) as exc:
        raise CassetteError(f"Cannot decode the reply of {where}: {exc}") from None
    entries: list[dict[str, Any]] = []
    if response.get("error"):  # the recording's stream was cut: the same cut, then the reply
        entries.append({"fault": {"kind": "disconnect", "after_chunks": _count_chunks(chunks)}})
    text = message.text
    if structured and not message.tool_calls and text and _asks_for_json(codec, request):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            entries.append({"json": value})
            return entries
    entries.append({"message": _message_entry(message)})
    return entries


def entry_reply(entry: dict[str, Any]) -> Any:
    """A YAML-form script entry as the reply object `FakeChatModel` takes."""
    from ..fakes import fault, tool_call
    from ..messages import AIMessage

    ((kind, value),) = entry.items()
    if kind == "message":
        return AIMessage(**value)
    if kind == "json":
        return value
    if kind == "text":
        return value
    if kind == "tool_calls":
        return [tool_call(c["name"], id=c.get("id"), **c.get("args", {})) for c in value]
    if kind == "fault":
        options = dict(value)
        return getattr(fault, options.pop("kind"))(**options)
    raise CassetteError(f"Unknown script entry kind {kind!r}.")


_HEADER = (
    "# myna fake script converted from {source} (myna cassettes to-script).\n"
    "# Load it with FakeChatModel(path) or emulate(provider, script=load_script(path)).\n"
)


def to_script(path: str | Path, destination: str | Path | None = None) -> list[dict[str, Any]]:
    """Convert a recording's replies into a provider-neutral fake script.

    The recording may be a myna cassette or a vcrpy / pydantic-ai / Ruby VCR / httprr one.
    Each chat reply becomes one entry: a ``message`` (text or text and reasoning blocks, tool
    calls with their arguments, usage, finish reason), a ``json`` object when the request
    asked for structured output, or a ``fault`` for an error answer (a stream the recording
    saw cut gets a ``disconnect`` fault before its reply). Requests that are not chat calls
    are skipped.

    ```python
    to_script("tests/cassettes/weather.yaml", "fixtures/scripts/weather.yaml")
    model = FakeChatModel("fixtures/scripts/weather.yaml")
    ```

    Args:
        path: the recording.
        destination: where to write the script as YAML (``replies: [...]``); None: do not
            write.

    Returns:
        The entries, in the YAML form written under ``replies:``.

    Raises:
        CassetteError: the recording cannot be read, holds no chat call, or a reply does not
            decode.
    """
    path = Path(path)
    entries: list[dict[str, Any]] = []
    for index, item in enumerate(read_interactions(path)):
        try:
            found = script_entry(item)
        except CassetteError as exc:
            raise CassetteError(f"{path}, interaction #{index}: {exc}") from None
        entries.extend(found or [])
    if not entries:
        raise CassetteError(
            f"{path} records no chat API call (no request path a myna codec serves); "
            "there is nothing to script."
        )
    if destination is not None:
        import yaml

        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = _HEADER.format(source=path.name) + yaml.safe_dump(
            {"replies": entries}, sort_keys=False, allow_unicode=True, width=100
        )
        from ._store import write_atomic

        write_atomic(destination, text)
    return entries


def interaction_request(interaction: dict[str, Any]) -> tuple[str, str, dict[str, str], bytes]:
    """Method, URL, headers and body bytes of a recorded request, ready to send again."""
    request = interaction["request"]
    headers = {str(k).lower(): str(v) for k, v in (request.get("headers") or {}).items()}
    return request["method"], request["url"], headers, decode_body(request.get("body"))
