"""Content in both directions: Gemini parts <-> standard blocks, tool calls and signatures."""

from __future__ import annotations

import json
from typing import Any

from ...exceptions import UserError
from ...messages import AIMessage, ToolMessage, standard_blocks
from ._shared import (
    CALL_SIGNATURES,
    TEXT_SIGNATURE,
    _expect,
    code_blocks,
    decode_error_at,
    function_call,
    looks_like_part,
    media_block,
    pick,
    server_tool_part,
    signature_of,
    with_signature,
)

__all__: list[str] = []

_MEDIA = ("image", "audio", "video", "file")


class PartReader:
    """Reads a model turn's parts one at a time, numbering calls that come without an id.

    Each part becomes an item: ``("text" | "thought", text, signature)``,
    ``("call", {"name", "args", "id"}, signature)`` or ``("block", block, None)``. Ids the
    API leaves out are made up deterministically as ``call_<n>`` (n counts the calls of the
    turn), so the same reply always decodes to the same ids.
    """

    def __init__(self) -> None:
        self.calls = 0
        self.codes = 0
        self.last_code_id: str | None = None

    def read(self, part: Any, where: str) -> tuple[str, Any, str | None]:
        """One item for `part`; `DecodeError` naming `where` when it is malformed."""
        if not isinstance(part, dict):
            raise decode_error_at(where, "a part must be an object", part)
        sig = signature_of(part, where)
        call = function_call(part, where)
        if call is not None:
            if call["id"] is None:
                call["id"] = f"call_{self.calls}"
            call["index"] = self.calls
            self.calls += 1
            return "call", call, sig
        thought = part.get("thought") is True
        if "text" in part:
            text = _expect(part["text"], str, where, "text")
            return ("thought" if thought else "text"), text, sig
        block = media_block(part, where)
        if block is None:
            code = code_blocks(part, where, self.last_code_id, self.codes)
            if code is not None:
                block, self.last_code_id = code
                if block["type"] == "server_tool_call":
                    self.codes += 1
                    self.last_code_id = block["id"]
        if block is None:
            if sig is not None and len(part) == 1:
                return "text", "", sig  # a bare signature closing the turn
            return "block", {"type": "non_standard", "value": part}, None
        if thought:
            block["extras"] = {**block.get("extras", {}), "thought": True}
        return "block", with_signature(block, sig), None


def item_block(item: tuple[str, Any, str | None]) -> dict[str, Any]:
    """The standard block for a text, thought or block item."""
    kind, value, sig = item
    if kind == "text":
        return with_signature({"type": "text", "text": value}, sig)
    if kind == "thought":
        return with_signature({"type": "reasoning", "reasoning": value}, sig)
    return value


def assemble(items: list[tuple[str, Any, str | None]]) -> tuple[Any, list, dict]:
    """``(content, tool_calls, additional_kwargs)`` of a whole model turn.

    Content is a string when every content part is plain text (its signature, if one, goes
    to ``additional_kwargs``); otherwise one block per part, empty unsigned text dropped.
    """
    calls: list[dict[str, Any]] = []
    call_sigs: dict[str, str] = {}
    content_items = []
    for item in items:
        if item[0] == "call":
            call = item[1]
            calls.append({"name": call["name"], "args": call["args"], "id": call["id"]})
            if item[2] is not None:
                call_sigs[call["id"]] = item[2]
        else:
            content_items.append(item)
    extra: dict[str, Any] = {}
    signed = [item[2] for item in content_items if item[2] is not None]
    content: Any
    if all(item[0] == "text" for item in content_items) and len(signed) <= 1:
        content = "".join(item[1] for item in content_items)
        if signed:
            extra[TEXT_SIGNATURE] = signed[0]
    else:
        content = [
            item_block(item)
            for item in content_items
            if not (item[0] == "text" and item[1] == "" and item[2] is None)
        ]
    if call_sigs:
        extra[CALL_SIGNATURES] = call_sigs
    return content, calls, extra


# ---------------------------------------------------------------- blocks -> parts


def _unsupported(block: dict[str, Any], role: str, where: str, hint: str = "") -> UserError:
    kind = block.get("type")
    return UserError(
        f"Gemini cannot carry a {kind!r} block in a {role} message ({where}). "
        + (hint or "Send text, image, audio, video or file blocks instead.")
    )


def media_part(block: dict[str, Any], where: str) -> dict[str, Any]:
    """``inlineData`` (base64) or ``fileData`` (URL / file id) for a media block."""
    mime = block.get("mime_type")
    if block.get("base64") is not None:
        if not mime:
            raise UserError(
                f"The {block['type']} block at {where} has base64 data but no mime_type; "
                "Gemini's inlineData needs one: add mime_type='image/png' (or the real type)."
            )
        return {"inlineData": {"mimeType": mime, "data": block["base64"]}}
    uri = block.get("url") or block.get("file_id")
    if not uri:
        raise UserError(
            f"The {block['type']} block at {where} has no base64, url or file_id; "
            "give the data inline (base64 + mime_type) or a URL."
        )
    data: dict[str, Any] = {"fileUri": uri}
    if mime:
        data = {"mimeType": mime, **data}
    return {"fileData": data}


def block_part(block: dict[str, Any], role: str, where: str) -> dict[str, Any] | None:
    """The part for one standard block of a user or model turn; None to leave it out."""
    kind = block.get("type")
    extras = block.get("extras") or {}
    sig = extras.get("signature") if isinstance(extras.get("signature"), str) else None
    part: dict[str, Any]
    if kind == "text":
        part = {"text": block.get("text", "")}
    elif kind == "reasoning":
        if role != "model":
            raise _unsupported(block, role, where, "Reasoning belongs in AIMessage content.")
        if not block.get("reasoning") and sig is None:
            return None  # redacted or encrypted reasoning of another provider: nothing to send
        part = {"text": block.get("reasoning", ""), "thought": True}
    elif kind in _MEDIA:
        part = media_part(block, where)
        if extras.get("thought") is True:
            part["thought"] = True
    elif kind == "text-plain":
        if isinstance(block.get("text"), str):
            part = {"text": block["text"]}
        else:
            part = media_part({**block, "mime_type": block.get("mime_type", "text/plain")}, where)
    elif kind in ("server_tool_call", "server_tool_result"):
        if role != "model":
            raise _unsupported(block, role, where, "Code execution results come from the model.")
        part = server_tool_part(block)
    elif kind == "non_standard" and looks_like_part(block.get("value")):
        return dict(block["value"])
    elif kind in ("tool_call", "tool_call_chunk", "invalid_tool_call") and role == "model":
        return None  # tool calls travel in AIMessage.tool_calls
    else:
        raise _unsupported(block, role, where)
    if sig is not None:
        part["thoughtSignature"] = sig
    return part


def content_parts(content: Any, role: str, where: str) -> list[dict[str, Any]]:
    """The parts for a message's content (string or blocks of any provider's shape)."""
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts = []
    for j, block in enumerate(standard_blocks(content)):
        part = block_part(block, role, f"{where}.content[{j}]")
        if part is not None:
            parts.append(part)
    return parts


def ai_parts(message: AIMessage, where: str) -> list[dict[str, Any]]:
    """The parts of a model turn: content in order, then one ``functionCall`` per tool call.

    Signatures come back from ``extras["signature"]``, ``additional_kwargs["thought_signatures"]``
    (by tool call id) and ``additional_kwargs["text_thought_signature"]``.
    """
    if message.invalid_tool_calls:
        bad = message.invalid_tool_calls[0]
        raise UserError(
            f"{where} has an invalid tool call {bad.get('name')!r} whose args are not a JSON "
            "object; Gemini needs functionCall.args as an object. Fix the args or drop the call "
            "from invalid_tool_calls before sending the conversation."
        )
    parts = content_parts(message.content, "model", where)
    kwargs = message.additional_kwargs
    text_sig = kwargs.get(TEXT_SIGNATURE)
    if isinstance(text_sig, str):
        texts = [p for p in parts if "text" in p and not p.get("thought")]
        if texts and "thoughtSignature" not in texts[-1]:
            texts[-1]["thoughtSignature"] = text_sig
        elif not texts:
            parts.append({"text": "", "thoughtSignature": text_sig})
    call_sigs = kwargs.get(CALL_SIGNATURES)
    call_sigs = call_sigs if isinstance(call_sigs, dict) else {}
    for call in message.tool_calls:
        fc: dict[str, Any] = {"name": call["name"], "args": call["args"]}
        if call.get("id"):
            fc["id"] = call["id"]
        part: dict[str, Any] = {"functionCall": fc}
        sig = call_sigs.get(call.get("id"))
        if isinstance(sig, str):
            part["thoughtSignature"] = sig
        parts.append(part)
    return parts or [{"text": ""}]


def tool_name(messages: list[Any], position: int) -> str:
    """The function name a `ToolMessage` answers: from the nearest earlier AIMessage's tool
    call with the same id, else the ToolMessage's own ``name``; `UserError` otherwise."""
    msg: ToolMessage = messages[position]
    for earlier in reversed(messages[:position]):
        if isinstance(earlier, AIMessage):
            for call in earlier.tool_calls:
                if call.get("id") == msg.tool_call_id:
                    return call["name"]
    if msg.name:
        return msg.name
    raise UserError(
        f"messages[{position}] is a ToolMessage for tool_call_id={msg.tool_call_id!r}, but no "
        "earlier AIMessage has a tool call with that id and the ToolMessage has no name. Gemini "
        "answers function calls by name: keep the AIMessage in the conversation or pass "
        "ToolMessage(..., name='the_function')."
    )


def tool_response_part(msg: ToolMessage, name: str, where: str) -> dict[str, Any]:
    """``functionResponse`` for a ToolMessage: text under ``output`` (``error`` when the
    status is error), media as ``functionResponse.parts``."""
    media: list[dict[str, Any]] = []
    if isinstance(msg.content, str):
        output = msg.content
    else:
        texts = []
        for j, block in enumerate(standard_blocks(msg.content)):
            kind = block.get("type")
            if kind == "text":
                texts.append(block.get("text", ""))
            elif kind in _MEDIA:
                media.append(media_part(block, f"{where}.content[{j}]"))
            else:
                raise _unsupported(
                    block, "tool", f"{where}.content[{j}]", "Tool results carry text and media."
                )
        output = "".join(texts)
    key = "error" if msg.status == "error" else "output"
    response: dict[str, Any] = {"name": name, "response": {key: output}}
    if msg.tool_call_id:
        response["id"] = msg.tool_call_id
    if media:
        response["parts"] = media
    return {"functionResponse": response}


def tool_message_fields(response: dict[str, Any], where: str) -> dict[str, Any]:
    """``content`` / ``status`` for a ToolMessage from a ``functionResponse``'s ``response``."""
    body = response.get("response", {})
    if not isinstance(body, dict):
        raise decode_error_at(where, "functionResponse.response must be an object", body)
    status = "success"
    if set(body) == {"error"}:
        value, status = body["error"], "error"
    elif set(body) == {"output"}:
        value = body["output"]
    else:
        value = body
    content: Any = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    blocks = []
    parts = pick(response, "parts")
    if isinstance(parts, list):
        for k, part in enumerate(parts):
            block = media_block(part, f"{where}.parts[{k}]") if isinstance(part, dict) else None
            if block is None:
                block = {"type": "non_standard", "value": part}
            blocks.append(block)
    if blocks:
        content = ([{"type": "text", "text": content}] if content else []) + blocks
    return {"content": content, "status": status}
