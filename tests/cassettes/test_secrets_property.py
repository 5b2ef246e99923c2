"""Plant secret-shaped values everywhere a recording can carry them; none reaches the file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

import httpx
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.cassettes import cassette, load_cassette

CLIENT = httpx.Client()  # one SSL context for all examples
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _run(size: int):
    return st.text(alphabet=ALNUM, min_size=size, max_size=size + 12)


secrets = st.one_of(
    _run(24).map(lambda s: "sk-" + s),
    _run(24).map(lambda s: "sk-proj-" + s),
    _run(30).map(lambda s: "sk-ant-api03-" + s),
    st.text(alphabet=ALNUM + "_-", min_size=35, max_size=35).map(lambda s: "AIza" + s),
    _run(24).map(lambda s: "gsk_" + s),
    _run(24).map(lambda s: "xai-" + s),
    st.tuples(_run(10), _run(10), _run(10)).map(
        lambda p: "eyJ" + p[0] + ".eyJ" + p[1] + "." + p[2]
    ),
    _run(20).map(lambda s: "Bearer " + s),
)
words = st.lists(st.text(alphabet=ALNUM + ".,!?", min_size=1, max_size=8), max_size=4).map(" ".join)
ENV_NAME = "MYNA_PLANTED_API_KEY"
PLACES = [
    "request-header",
    "auth-header",
    "query-key",
    "query-other",
    "request-json",
    "request-json-key",
    "response-header",
    "response-json",
    "response-sse",
    "response-sse-name",
]


def _plant(text: str, before: str, after: str) -> str:
    return " ".join(p for p in (before, text, after) if p)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    planted=st.lists(
        st.tuples(st.sampled_from(PLACES), secrets | st.just("ENV"), words, words),
        min_size=1,
        max_size=6,
    ),
    env_value=_run(12).map(lambda s: "envsecret" + s),
    stream=st.booleans(),
)
def test_no_planted_secret_survives_in_the_written_file(planted, env_value, stream):
    values = [env_value if secret == "ENV" else secret for _, secret, _, _ in planted]
    request_headers = {"content-type": "application/json"}
    query = [("alt", "sse")]
    request_body: dict = {"model": "m", "messages": []}
    response_headers = {"content-type": "text/event-stream" if stream else "application/json"}
    response_body: dict = {"id": "r1", "choices": []}
    events: list[tuple[str | None, dict]] = [(None, {"delta": "start"})]
    for index, (place, _, before, after) in enumerate(planted):
        value = values[index]
        text = _plant(value, before, after)
        if place == "request-header":
            request_headers[f"x-note-{index}"] = text
        elif place == "auth-header":
            request_headers[
                ["authorization", "x-api-key", "x-goog-api-key", "api-key"][index % 4]
            ] = value
        elif place == "query-key":
            query.append(("key", value))
        elif place == "query-other":
            query.append((f"note{index}", text))
        elif place == "request-json":
            request_body["messages"].append({"role": "user", "content": text})
        elif place == "request-json-key":
            request_body[value] = "as a key"
        elif place == "response-header":
            response_headers[f"x-trace-{index}"] = text
        elif place == "response-json":
            response_body["choices"].append({"message": {"content": text}})
        elif place == "response-sse":
            events.append((None, {"delta": {"content": text}}))
        else:  # an event name holds no spaces: plant a bare token there
            events.append((value if " " not in value else env_value, {"type": "named"}))
    if stream:
        content = "".join(
            (f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n"
            for name, data in events
        ).encode()
    else:
        content = json.dumps(response_body).encode()

    url = "https://api.secret.test/v1/chat?" + "&".join(f"{k}={quote(v)}" for k, v in query)
    os.environ[ENV_NAME] = env_value
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "c.yaml"
            with respx.mock() as router:
                router.post(url__startswith="https://api.secret.test").mock(
                    return_value=httpx.Response(200, content=content, headers=response_headers)
                )
                with cassette(path, mode="all"):
                    CLIENT.post(url, json=request_body, headers=request_headers)
            text = path.read_text()
            load_cassette(path)  # and it is still a valid cassette
    finally:
        del os.environ[ENV_NAME]
    for value in values:
        token = value.split()[-1]
        assert token not in text, f"{token!r} survived"
        assert quote(token) not in text


# -- issue 11: by name, inside base64, split across events; scan finds each; replay still works

HEADER_NAMES = [
    "apikey",
    "x-password",
    "x-client-secret",
    "x-session-token",
    "X-Amz-Security-Token",
]
QUERY_NAMES = ["client_secret", "password", "X-Amz-Security-Token", "X-Amz-Signature", "sig"]
FIELD_NAMES = ["api_key", "apiKey", "client_secret", "password", "private_key", "session_token"]
KINDS = ["header-name", "query-name", "field-name", "free-text", "base64-json", "base64-header"]
plain = _run(8).map(lambda s: "pv" + s)  # not token-shaped: only its name gives it away
shaped = secrets.filter(lambda s: not s.startswith("Bearer"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    planted=st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(0, 4), plain, shaped),
        min_size=1,
        max_size=5,
    ),
    split=st.one_of(st.none(), st.tuples(shaped, st.integers(1, 6), words)),
)
def test_secrets_by_name_in_base64_or_split_never_reach_disk_and_scan_finds_them(planted, split):
    import base64

    from myna.cassettes import Scrubber, find_secrets, new_cassette

    headers = {"content-type": "application/json"}
    query = [("alt", "sse")]
    body: dict = {"model": "m", "max_tokens": 5, "metadata": {}, "messages": []}
    gone: list[str] = []
    for index, (kind, pick, value, token) in enumerate(planted):
        if kind == "header-name":
            headers[f"x{index}-" + HEADER_NAMES[pick % len(HEADER_NAMES)]] = value
        elif kind == "query-name":
            query.append((f"p{index}_" + QUERY_NAMES[pick % len(QUERY_NAMES)], value))
        elif kind == "field-name":
            body["metadata"][f"p{index}_" + FIELD_NAMES[pick % len(FIELD_NAMES)]] = value
        elif kind == "free-text":
            name = ["aws_secret_access_key", "password", "client_secret", "api-key"][pick % 4]
            body["messages"].append({"content": f"set {name}={value} now"})
        elif kind == "base64-json":
            blob = base64.b64encode(f"token {token}\n".encode()).decode()
            body["messages"].append({"content": f"data:text/plain;base64,{blob}"})
            gone.extend([token, blob])
            continue
        else:
            blob = base64.b64encode(f"user:{token}".encode()).decode()
            headers[f"x-blob-{index}"] = blob if pick % 2 else f"Basic {blob}"
            gone.extend([token, blob])
            continue
        gone.append(value)
    events: list[dict] = [{"delta": {"content": "start"}}]
    if split is not None:
        token, size, before = split
        text = f"{before} {token} end"
        events += [{"delta": {"content": text[i : i + size]}} for i in range(0, len(text), size)]
        gone.append(token)
    content = "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode()
    url = "https://api.named.test/v1/chat?" + "&".join(f"{k}={quote(v)}" for k, v in query)

    # the raw interaction: every planted secret is found by the detector scan uses
    raw = {
        "request": {"method": "POST", "url": url, "headers": headers, "body": {"json": body}},
        "response": {"status": 200, "body": {"sse": [{"data": e} for e in events]}},
    }
    scrubber = Scrubber(environ={})
    assert len(find_secrets(new_cassette([raw]), scrubber)) >= len(planted) + (split is not None)
    assert find_secrets(new_cassette([scrubber.interaction(raw)]), scrubber) == []

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        with respx.mock() as router:
            router.post(url__startswith="https://api.named.test").mock(
                return_value=httpx.Response(
                    200, content=content, headers={"content-type": "text/event-stream"}
                )
            )
            with cassette(path, mode="all"):
                CLIENT.post(url, json=body, headers=headers)
        text = path.read_text()
        recorded = load_cassette(path)
        with cassette(path, mode="none"):  # scrubbed, it still matches and replays
            assert CLIENT.post(url, json=body, headers=headers).status_code == 200
    joined = "".join(
        event["data"]["delta"]["content"]
        for event in recorded["interactions"][0]["response"]["body"]["sse"]
    )
    for value in gone:
        assert value not in text and quote(value) not in text, f"{value!r} survived"
        assert value not in joined, f"{value!r} survived once events are joined"
