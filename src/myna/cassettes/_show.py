"""Render a cassette as the conversation it recorded (for ``myna cassettes show``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from ..codecs import body_payloads, content_type, get_codec, protocol_for_path
from ..exceptions import MynaError
from ._format import decode_body

__all__ = ["describe_interaction", "protocol_of", "provider_of", "render_cassette"]

_HOSTS = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "google_genai",
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "api.x.ai": "xai",
    "api.mistral.ai": "mistralai",
    "openrouter.ai": "openrouter",
    "api.together.xyz": "together",
    "api.fireworks.ai": "fireworks",
    "api.perplexity.ai": "perplexity",
    "ollama.com": "ollama",
}


def protocol_of(url: str) -> str | None:
    """The wire protocol a request URL speaks, from its path (`myna.codecs.protocol_for_path`)."""
    return protocol_for_path(urlsplit(url).path)


def provider_of(url: str) -> str:
    """A provider name for a request URL: by host, else by protocol, else the host."""
    host = (urlsplit(url).hostname or "").lower()
    if host in _HOSTS:
        return _HOSTS[host]
    if host.endswith(".openai.azure.com"):
        return "azure_openai"
    protocol = protocol_of(url)
    if protocol:
        return get_codec(protocol).PROVIDER
    return host or "?"


def _payloads(response: dict[str, Any]) -> list[Any] | None:
    """The stream payloads of a recorded response, or None when it is not a stream."""
    body = response.get("body")
    if not body:
        return None
    if "sse" in body:
        return [e["data"] for e in body["sse"] if isinstance(e, dict) and "data" in e]
    if "ndjson" in body:
        return list(body["ndjson"])
    headers = {str(k).lower(): v for k, v in (response.get("headers") or {}).items()}
    media = str(headers.get("content-type", "")).partition(";")[0].strip().lower()
    if media == content_type("eventstream"):  # binary frames, stored as base64
        return body_payloads("eventstream", decode_body(body))
    return None


def _json(body: dict[str, Any] | None) -> Any:
    if not body:
        return None
    if "json" in body:
        return body["json"]
    try:
        return json.loads(decode_body(body))
    except ValueError:
        return decode_body(body).decode("utf-8", "replace")


def describe_interaction(item: dict[str, Any]) -> dict[str, Any]:
    """The conversation in one interaction: messages sent, reply (or error), usage.

    Returns a dict with ``protocol``, ``messages`` (list of (role, text)), ``reply`` (list of
    (role, text)), ``usage`` and ``error``; decoding problems land in ``note``.
    """
    request, response = item["request"], item["response"]
    protocol = protocol_of(request["url"])
    out: dict[str, Any] = {"protocol": protocol, "messages": [], "reply": [], "usage": None}
    out["error"] = None
    if protocol is None:
        out["note"] = "not a chat API call"
        return out
    codec = get_codec(protocol)
    try:
        body = _json(request.get("body")) or {}
        model = codec.request_model(urlsplit(request["url"]).path)
        messages, _ = codec.decode_request(body, model=model)
        out["messages"] = [_line(m) for m in messages]
    except Exception as exc:
        out["note"] = f"request not decoded: {exc}"
    status = response["status"]
    try:
        if status >= 400:
            error = codec.decode_error(status, _json(response.get("body")), response.get("headers"))
            out["error"] = f"{type(error).__name__}: {getattr(error, 'message', error)}"
            return out
        payloads = _payloads(response)
        if payloads is not None:
            from ..messages import merge_chunks

            reply: Any = merge_chunks(list(codec.decode_stream(payloads)))
        else:
            reply = codec.decode_response(_json(response.get("body")))
        out["reply"] = [_line(reply)]
        usage = getattr(reply, "usage_metadata", None)
        if usage:
            out["usage"] = {
                k: usage.get(k) for k in ("input_tokens", "output_tokens", "total_tokens")
            }
    except Exception as exc:
        out["note"] = f"response not decoded: {exc}"
    if response.get("error"):
        out["error"] = (
            f"stream cut: {response['error'].get('type')}: {response['error'].get('message')}"
        )
    return out


def _is_stream(response: dict[str, Any]) -> bool:
    try:
        return _payloads(response) is not None
    except MynaError:  # a corrupt stream is still a stream
        return True


def _line(message: Any) -> tuple[str, str]:
    role = {"system": "system", "human": "user", "ai": "ai", "tool": "tool"}.get(
        getattr(message, "type", ""), getattr(message, "type", "?")
    )
    if role == "AIMessageChunk":
        role = "ai"
    text = getattr(message, "text", "") or ""
    calls = getattr(message, "tool_calls", None) or []
    parts = [text] if text else []
    parts.extend(f"-> {c['name']}({json.dumps(c.get('args'), ensure_ascii=False)})" for c in calls)
    return role, "\n".join(parts)


def render_cassette(cassette: dict[str, Any], title: str, *, console: Any = None) -> str:
    """The conversation as text (rich markup when `console` is a rich Console)."""
    lines = [f"{title}: {len(cassette['interactions'])} interaction(s)"]
    for index, item in enumerate(cassette["interactions"]):
        request, response = item["request"], item["response"]
        info = describe_interaction(item)
        kind = "stream" if _is_stream(response) else "json"
        lines.append("")
        lines.append(
            f"#{index} {request['method']} {request['url']} -> {response['status']} "
            f"({info['protocol'] or provider_of(request['url'])}, {kind})"
        )
        for role, text in info["messages"]:
            lines.append(_indent(f"{role}: {text}"))
        for role, text in info["reply"]:
            lines.append(_indent(f"{role} >> {text}"))
        if info["error"]:
            lines.append(_indent(f"error: {info['error']}"))
        if info["usage"]:
            usage = info["usage"]
            lines.append(
                _indent(
                    f"usage: in {usage['input_tokens']} / out {usage['output_tokens']} / "
                    f"total {usage['total_tokens']}"
                )
            )
        if info.get("note"):
            lines.append(_indent(f"({info['note']})"))
    text = "\n".join(lines)
    if console is not None:
        from rich.markup import escape

        for line in text.splitlines():
            style = None
            stripped = line.strip()
            if line.startswith("#"):
                style = "bold cyan"
            elif stripped.startswith("ai >>"):
                style = "green"
            elif stripped.startswith("error:"):
                style = "red"
            elif stripped.startswith(("usage:", "(")):
                style = "dim"
            console.print(f"[{style}]{escape(line)}[/]" if style else escape(line))
    return text


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines() or [""])
