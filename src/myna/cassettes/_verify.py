"""Check that recorded replies still have the shape the API sends (``myna cassettes verify``).

Each recorded request is sent again and the SHAPE of the new answer is compared with the
recorded one, never its text: the keys and types of every JSON path (list items collapsed to
``[*]``; per stream event type for a stream), the stream's event types and the order they
first appear in, the status, the decoded finish reason and usage fields. A difference is a
`Drift`: ``added`` (a new path or event: non-breaking), ``removed`` (breaking), or
``changed`` (a new type is breaking, a narrower one is not; a changed status or event order
is breaking; a changed finish reason is reported, not breaking, since a live model may end
differently for the same request).

Three targets: myna's own emulator (the default: the recorded reply, turned into a script
entry by `to_script`'s decoding, is rendered by the emulator of the same protocol, so every
difference is a fidelity gap of the emulator), a server at a base URL (another emulator, a
proxy, a staging API), or the live API (``live=True``). Secrets come from the environment,
never from the file: the API key of the request's provider (``OPENAI_API_KEY``, ...) is put
in the protocol's auth header.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..codecs import get_codec
from ..exceptions import UserError
from ._errors import CassetteError
from ._format import encode_body
from ._show import _json, protocol_of, provider_of
from ._to_script import entry_reply, interaction_request, read_interactions, script_entry

__all__ = [
    "Drift",
    "VerifyReport",
    "api_key_for",
    "averify",
    "compare_shapes",
    "prepare_request",
    "response_shape",
    "verify",
]

ENV_KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google_genai": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    "azure_openai": ("AZURE_OPENAI_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "mistralai": ("MISTRAL_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "together": ("TOGETHER_API_KEY",),
    "fireworks": ("FIREWORKS_API_KEY",),
    "perplexity": ("PERPLEXITY_API_KEY",),
    "ollama": ("OLLAMA_API_KEY",),
}
"""The environment variables holding each provider's API key, first found wins."""

_DROP_HEADERS = {
    "content-length",
    "host",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    "content-encoding",
}
_PLACEHOLDER_KEY = "myna-verify-no-key"


@dataclass(frozen=True)
class Drift:
    """One difference between the recorded answer's shape and the new one.

    Attributes:
        interaction: index of the interaction in the cassette.
        kind: ``"added"``, ``"removed"`` or ``"changed"``.
        path: what changed: a JSON path (``$.usage.prompt_tokens``; in a stream prefixed by
            its event type, ``message_delta $.usage``), ``event <name>``, ``event order``,
            ``status``, ``finish_reason`` or ``usage.<field>``.
        recorded: what the recording had (a type, a value), None when added.
        now: what the new answer has, None when removed.
        breaking: whether a client written against the recording may fail on the new answer.
    """

    interaction: int
    kind: str
    path: str
    recorded: str | None
    now: str | None
    breaking: bool

    def __str__(self) -> str:
        if self.kind == "added":
            detail = f"{self.now}"
        elif self.kind == "removed":
            detail = f"{self.recorded}"
        else:
            detail = f"{self.recorded} -> {self.now}"
        flag = "  BREAKING" if self.breaking else ""
        return f"#{self.interaction} {self.kind} {self.path}: {detail}{flag}"


@dataclass
class VerifyReport:
    """The shape check of one cassette.

    Attributes:
        path: the cassette.
        target: ``"emulator"``, or the base URL the requests went to.
        checked: how many interactions were compared.
        drift: every difference found.
        notes: interactions not compared, and why.
    """

    path: Path
    target: str
    checked: int = 0
    drift: list[Drift] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        """Whether any difference is breaking (``myna cassettes verify`` then exits 1)."""
        return any(d.breaking for d in self.drift)

    def lines(self) -> list[str]:
        """The report as text lines: a header, then one line per drift and note."""
        verdict = (
            "BREAKING drift"
            if self.breaking
            else ("drift (non-breaking)" if self.drift else "same shape")
        )
        out = [f"{self.path}: {verdict} ({self.checked} interaction(s) vs {self.target})"]
        out.extend(f"  {d}" for d in self.drift)
        out.extend(f"  note: {n}" for n in self.notes)
        return out


# ---------------------------------------------------------------- shapes


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _walk(value: Any, path: str, out: dict[str, set[str]]) -> None:
    out.setdefault(path, set()).add(_type(value))
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for item in value:
            _walk(item, f"{path}[*]", out)


def _event_name(event: dict[str, Any]) -> str:
    data = event.get("data")
    if event.get("event"):
        return str(event["event"])
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        return data["type"]
    if isinstance(data, str) and not data.startswith(("{", "[")):
        return data  # "[DONE]"
    return "data"


@dataclass
class Shape:
    """The shape of one answer: status, JSON paths with their types, stream event types."""

    status: int
    paths: dict[str, set[str]]
    events: list[str] | None
    finish_reason: str | None
    usage: set[str]


def response_shape(response: dict[str, Any], url: str = "") -> Shape:
    """The shape of a recorded (or new) response mapping, as stored in a cassette; `url` (the
    request's) names the protocol whose codec decodes the finish reason and usage."""
    paths: dict[str, set[str]] = {}
    events: list[str] | None = None
    body = response.get("body") or {}
    if "sse" in body:
        events = []
        for event in body["sse"]:
            if not isinstance(event, dict) or ("data" not in event and "event" not in event):
                continue
            name = _event_name(event)
            if not events or events[-1] != name:
                events.append(name)
            if isinstance(event.get("data"), (dict, list)):
                _walk(event["data"], f"{name} $", paths)
    elif "ndjson" in body:
        events = ["line"]
        for line in body["ndjson"]:
            _walk(line, "line $", paths)
    else:
        value = _json(body)
        if isinstance(value, list):  # a stream sent as one JSON array
            events = ["item"]
            for item in value:
                _walk(item, "item $", paths)
        elif isinstance(value, (dict,)):
            _walk(value, "$", paths)
    finish, usage = None, set()
    try:
        entries = script_entry({"request": {"url": url, "method": "POST"}, "response": response})
    except CassetteError:
        entries = None
    for entry in entries or []:
        message = entry.get("message")
        if message:
            finish = (message.get("response_metadata") or {}).get("finish_reason")
            for key, value in (message.get("usage_metadata") or {}).items():
                usage.add(key)
                if isinstance(value, dict):
                    usage.update(f"{key}.{k}" for k in value)
    return Shape(int(response["status"]), paths, events, finish, usage)


def compare_shapes(recorded: Shape, now: Shape, interaction: int = 0) -> list[Drift]:
    """The differences between two shapes (see `Drift`)."""
    drift: list[Drift] = []

    def add(kind: str, path: str, old: Any, new: Any, breaking: bool) -> None:
        drift.append(Drift(interaction, kind, path, old, new, breaking))

    if recorded.status != now.status:
        add("changed", "status", str(recorded.status), str(now.status), True)
        return drift  # an error answer for a success (or back): the bodies are not comparable
    old_events, new_events = recorded.events or [], now.events or []
    if (recorded.events is None) != (now.events is None):
        old_kind = "stream" if recorded.events is not None else "json"
        new_kind = "stream" if now.events is not None else "json"
        add("changed", "body", old_kind, new_kind, True)
    for name in dict.fromkeys(old_events):
        if name not in new_events:
            add("removed", f"event {name}", "present", None, True)
    for name in dict.fromkeys(new_events):
        if name not in old_events:
            add("added", f"event {name}", None, "present", False)
    common = [n for n in dict.fromkeys(old_events) if n in new_events]
    if common != [n for n in dict.fromkeys(new_events) if n in old_events]:
        order = [n for n in dict.fromkeys(new_events) if n in old_events]
        add("changed", "event order", " ".join(common), " ".join(order), True)
    for path in sorted(recorded.paths.keys() | now.paths.keys()):
        old, new = recorded.paths.get(path), now.paths.get(path)
        if new is None:
            add("removed", path, "|".join(sorted(old or ())), None, True)
        elif old is None:
            add("added", path, None, "|".join(sorted(new)), False)
        elif old != new:
            add("changed", path, "|".join(sorted(old)), "|".join(sorted(new)), not new <= old)
    if recorded.finish_reason != now.finish_reason:
        add("changed", "finish_reason", recorded.finish_reason, now.finish_reason, False)
    for key in sorted(recorded.usage - now.usage):
        add("removed", f"usage.{key}", "present", None, True)
    for key in sorted(now.usage - recorded.usage):
        add("added", f"usage.{key}", None, "present", False)
    return _collapse(drift)


def _collapse(drift: list[Drift]) -> list[Drift]:
    """Drop the paths under a removed or added path: ``$.usage`` gone says it all."""
    out: list[Drift] = []
    gone = {(d.kind, d.path) for d in drift if d.kind in ("added", "removed")}
    for d in drift:
        parent = d.path
        hidden = False
        while True:
            cut = max(parent.rfind("."), parent.rfind("[*]"))
            if cut <= 0:
                break
            parent = parent[:cut]
            if (d.kind, parent) in gone:
                hidden = True
                break
        if not hidden:
            out.append(d)
    return out


# ---------------------------------------------------------------- requests


def api_key_for(url: str, env: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """The environment variable for a request's provider and its value (None: unset)."""
    env = os.environ if env is None else env
    provider = provider_of(url)
    names = ENV_KEYS.get(provider, (f"{provider.upper()}_API_KEY",))
    for name in names:
        if env.get(name):
            return name, env[name]
    return names[0], None


def prepare_request(
    interaction: dict[str, Any],
    *,
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
    require_key: bool = False,
) -> tuple[str, str, dict[str, str], bytes]:
    """A recorded request ready to send again: the URL moved to `base_url` (when given) and
    the provider's API key from the environment in the protocol's auth header.

    Raises:
        UserError: `require_key` and the key's environment variable is not set.
    """
    method, url, headers, body = interaction_request(interaction)
    headers = {k: v for k, v in headers.items() if k not in _DROP_HEADERS}
    name, key = api_key_for(url, env)
    if key is None:
        if require_key:
            raise UserError(
                f"Set {name} to re-send {url} to the live API (the key never comes from the "
                "cassette: it was scrubbed), or pass --base-url to send it elsewhere."
            )
        key = _PLACEHOLDER_KEY
    protocol = protocol_of(url)
    parts = urlsplit(url)
    if parts.hostname and parts.hostname.endswith(".openai.azure.com"):
        header = "api-key"
    elif protocol is not None and get_codec(protocol).AUTH_HEADERS:
        header = get_codec(protocol).AUTH_HEADERS[0]
    else:
        header = "authorization"
    headers[header] = f"Bearer {key}" if header == "authorization" else key
    if base_url is not None:
        base = urlsplit(base_url)
        prefix = base.path.rstrip("/")
        path = parts.path if parts.path.startswith(prefix + "/") else prefix + parts.path
        url = urlunsplit((base.scheme, base.netloc, path, parts.query, ""))
    return method, url, headers, body


def _response_mapping(status: int, headers: Mapping[str, str], content: bytes) -> dict[str, Any]:
    clean = {k.lower(): v for k, v in headers.items() if k.lower() not in _DROP_HEADERS}
    return {
        "status": status,
        "headers": clean,
        "body": encode_body(clean.get("content-type"), content),
    }


def _emulated(interaction: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer of myna's emulator to the recorded request, scripted with the recording."""
    from ..emulators import EmulatorApp

    app = EmulatorApp(
        [entry_reply(e) for e in entries], require_auth=False, validate_tool_calls=False
    )
    method, url, headers, body = interaction_request(interaction)
    answer = app.handle(method, url, headers, body)
    if answer.events is not None:
        events = answer.events if answer.cut_after is None else answer.events[: answer.cut_after]
        response = _response_mapping(answer.status, answer.headers, b"".join(events))
        if answer.cut_after is not None:
            response["error"] = {"type": "RemoteProtocolError", "message": "cut"}
        return response
    return _response_mapping(answer.status, answer.headers, answer.body)


def _chat_items(
    path: Path, report: VerifyReport
) -> Iterable[tuple[int, dict[str, Any], list[dict[str, Any]]]]:
    for index, item in enumerate(read_interactions(path)):
        request = item["request"]
        if protocol_of(request["url"]) is None:
            report.notes.append(f"#{index} {request['url']}: not a chat API call, skipped")
            continue
        try:
            entries = script_entry(item, structured=False) or []
        except CassetteError as exc:
            report.notes.append(f"#{index}: recorded reply not decoded, skipped ({exc})")
            continue
        yield index, item, entries


def _check(report: VerifyReport, index: int, item: dict[str, Any], new: dict[str, Any]) -> None:
    url = item["request"]["url"]
    recorded = response_shape(item["response"], url)
    now = response_shape(new, url)
    report.checked += 1
    report.drift.extend(compare_shapes(recorded, now, index))
    if recorded.status != now.status and now.status >= 400:
        message = str(_json(new.get("body")))[:200]
        report.notes.append(f"#{index}: the new answer is a {now.status}: {message}")


def _unanswered(report: VerifyReport, index: int, item: dict[str, Any], exc: Exception) -> None:
    """A request that got no answer (refused, timed out): a breaking change of its status."""
    report.checked += 1
    status = str(item["response"]["status"])
    report.drift.append(Drift(index, "changed", "status", status, "no answer", True))
    report.notes.append(f"#{index}: no answer from {item['request']['url']}: {exc!r}")


def verify(
    path: str | Path,
    *,
    live: bool = False,
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
    client: Any = None,
) -> VerifyReport:
    """Re-send each recorded request and compare the new answer's shape with the recording.

    Args:
        path: a myna cassette (or a vcrpy / pydantic-ai / Ruby VCR / httprr one).
        live: send to the recorded URLs (the real API); needs the provider's key in `env`.
        base_url: send to this server instead (the recorded path and query kept).
        env: where API keys come from (default `os.environ`); never from the cassette.
        client: an `httpx.Client` to send with (default: a new one, 60 s timeout).

    Without `live` or `base_url`, myna's emulator answers from the recording itself, so the
    report lists where the emulator's wire format differs from what the API sent.

    Returns:
        A `VerifyReport`; `.breaking` says whether a client may break.
    """
    path = Path(path)
    if not live and base_url is None:
        report = VerifyReport(path, "emulator")
        for index, item, entries in _chat_items(path, report):
            _check(report, index, item, _emulated(item, entries))
        return report
    import httpx

    report = VerifyReport(path, base_url or "live API")
    own = client is None
    client = client or httpx.Client(timeout=60.0)
    try:
        for index, item, _ in _chat_items(path, report):
            method, url, headers, body = prepare_request(
                item, base_url=base_url, env=env, require_key=base_url is None
            )
            try:
                answer = client.request(method, url, headers=headers, content=body)
            except httpx.HTTPError as exc:
                _unanswered(report, index, item, exc)
                continue
            _check(
                report,
                index,
                item,
                _response_mapping(answer.status_code, answer.headers, answer.content),
            )
    finally:
        if own:
            client.close()
    return report


async def averify(
    path: str | Path,
    *,
    live: bool = False,
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
    client: Any = None,
) -> VerifyReport:
    """`verify` with an `httpx.AsyncClient` (`client`, default a new one)."""
    path = Path(path)
    if not live and base_url is None:
        return verify(path, env=env)  # in-process: nothing to wait for
    import httpx

    report = VerifyReport(path, base_url or "live API")
    own = client is None
    client = client or httpx.AsyncClient(timeout=60.0)
    try:
        for index, item, _ in _chat_items(path, report):
            method, url, headers, body = prepare_request(
                item, base_url=base_url, env=env, require_key=base_url is None
            )
            try:
                answer = await client.request(method, url, headers=headers, content=body)
            except httpx.HTTPError as exc:
                _unanswered(report, index, item, exc)
                continue
            _check(
                report,
                index,
                item,
                _response_mapping(answer.status_code, answer.headers, answer.content),
            )
    finally:
        if own:
            await client.aclose()
    return report
