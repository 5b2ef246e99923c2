"""Secret scrubbing and the final scan."""

from __future__ import annotations

import base64
import re

import pytest

from myna.cassettes import REDACTED, Scrubber, find_secrets, new_cassette

TOKENS = {
    "openai-key": "sk-proj-Abc123Def456Ghi789Jkl012Mno345",
    "anthropic-key": "sk-ant-api03-Abc123Def456Ghi789Jkl012Mno345-xyz",
    "google-api-key": "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "groq-key": "gsk_Abc123Def456Ghi789Jkl012Mno345",
    "xai-key": "xai-Abc123Def456Ghi789Jkl012Mno345",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "github-token": "ghp_" + "a1B2c3D4e5" * 4,
    "huggingface-token": "hf_" + "AbCdEfGhIj" * 4,
    "aws-access-key": "AKIAIOSFODNN7EXAMPLE",
    "slack-token": "xoxb-1234567890-abcdefghij",
    "perplexity-key": "pplx-" + "a1B2c3D4e5" * 3,
    "replicate-token": "r8_" + "a1B2c3D4e5" * 3,
}


def test_every_pattern_has_an_example():
    from myna.cassettes import PATTERNS

    assert set(PATTERNS) - set(TOKENS) == {"bearer-token"}


@pytest.mark.parametrize("kind", list(TOKENS))
def test_token_shapes_are_replaced_and_reported(kind):
    scrubber = Scrubber(environ={})
    text = f"before {TOKENS[kind]} after"
    assert scrubber.search(text) == kind
    assert scrubber.text(text) == f"before {REDACTED} after"
    assert scrubber.search(scrubber.text(text)) is None


def test_bearer_tokens_keep_the_scheme():
    scrubber = Scrubber(environ={})
    assert (
        scrubber.text("Authorization: Bearer abcdefghijklmnop1234")
        == "Authorization: Bearer REDACTED"
    )
    assert scrubber.search("Bearer REDACTED") is None
    assert scrubber.text("the bearer of bad news") == "the bearer of bad news"
    assert scrubber.text("BeArEr abcdefghijklmnop1234") == "BeArEr REDACTED"


def test_ordinary_ids_are_left_alone():
    scrubber = Scrubber(environ={})
    for text in [
        "chatcmpl-9xYzAbCdEfGhIjKlMnOpQr",
        "msg_01XFDUDYJgAACzvnptvVoYEL",
        "task-list",
        "desk-abcdefghijklmnopqrstuvwx",
        "toolu_01A09q90qw90lq917835lq9",
    ]:
        assert scrubber.text(text) == text


def test_secret_env_values_are_replaced_by_name():
    env = {
        "OPENAI_API_KEY": "plain-value-1234",
        "MY_TOKEN": "tok12345",
        "SHORT_TOKEN": "abc",
        "HOME": "/root/home-dir",
    }
    scrubber = Scrubber(environ=env)
    assert (
        scrubber.text("x plain-value-1234 tok12345 abc /root/home-dir")
        == "x REDACTED REDACTED abc /root/home-dir"
    )
    assert scrubber.search("tok12345") == "env:MY_TOKEN"


def test_redact_accepts_literals_and_patterns():
    scrubber = Scrubber(redact=["acme", re.compile(r"cust-\d+")], environ={})
    assert scrubber.text("acme cust-42") == "REDACTED REDACTED"


def test_interaction_scrubbing_covers_every_place():
    scrubber = Scrubber(environ={"GEMINI_API_KEY": "gemini-secret-value"})
    token = TOKENS["openai-key"]
    interaction = {
        "request": {
            "method": "POST",
            "url": f"https://g.test/v1/x?key=abc&alt=sse&note={token}",
            "headers": {
                "Authorization": f"Bearer {token}",
                "X-Goog-Api-Key": "k",
                "api-key": "k",
                "OpenAI-Organization": "org-1",
                "x-custom-token": "t",
                "user-agent": "sdk",
                "x-stainless-os": "Linux",
                "anthropic-version": "2023-06-01",
                "x-note": f"see {token}",
            },
            "body": {"json": {"messages": [{"content": f"key {token}"}], token: "as a key"}},
        },
        "response": {
            "status": 200,
            "headers": {
                "set-cookie": "a=b",
                "content-type": "text/event-stream",
                "date": "today",
                "x-ratelimit-remaining-tokens": "99",
            },
            "body": {"sse": [{"event": "e", "data": {"text": "gemini-secret-value"}}]},
            "error": {"type": "ReadError", "message": f"failed with {token}"},
        },
    }
    clean = scrubber.interaction(interaction)
    request, response = clean["request"], clean["response"]
    assert request["url"] == "https://g.test/v1/x?alt=sse&note=REDACTED"
    assert request["headers"] == {"anthropic-version": "2023-06-01", "x-note": "see REDACTED"}
    assert request["body"] == {
        "json": {"messages": [{"content": "key REDACTED"}], "REDACTED": "as a key"}
    }
    assert response["headers"] == {
        "content-type": "text/event-stream",
        "x-ratelimit-remaining-tokens": "99",
    }
    assert response["body"] == {"sse": [{"event": "e", "data": {"text": "REDACTED"}}]}
    assert response["error"]["message"] == "failed with REDACTED"
    assert find_secrets(new_cassette([clean]), scrubber) == []
    assert interaction["request"]["headers"]["Authorization"].startswith(
        "Bearer sk-"
    )  # input untouched


def test_base64_bodies_are_looked_into():
    scrubber = Scrubber(environ={})
    raw = b"\x89PNG..." + TOKENS["groq-key"].encode() + b"\x00\xff"
    body = {"base64": base64.b64encode(raw).decode()}
    item = {
        "request": {"method": "POST", "url": "https://x/", "body": body},
        "response": {"status": 200},
    }
    findings = find_secrets(new_cassette([item]), scrubber)
    assert [str(f) for f in findings] == ["interaction 0 request.body.base64 (groq-key)"]
    clean = scrubber.body(body)
    assert base64.b64decode(clean["base64"]) == b"\x89PNG...REDACTED\x00\xff"


def test_find_secrets_names_interaction_and_path_never_the_value():
    token = TOKENS["anthropic-key"]
    cassette = new_cassette(
        [
            {
                "request": {"method": "GET", "url": "https://x/?api_key=1"},
                "response": {"status": 200},
            },
            {
                "request": {"method": "POST", "url": "https://x/", "headers": {"x-api-key": "v"}},
                "response": {
                    "status": 200,
                    "body": {"sse": [{"data": {"choices": [{"delta": {"content": token}}]}}]},
                },
            },
        ]
    )
    found = [str(f) for f in find_secrets(cassette, Scrubber(environ={}))]
    assert found == [
        "interaction 0 request.url?api_key (secret-query-param)",
        "interaction 1 request.headers.x-api-key (secret-header)",
        "interaction 1 response.body.sse[0].data.choices[0].delta.content (anthropic-key)",
    ]
    assert all(token not in f for f in found)


# -- issue 11: secrets that reached disk ------------------------------------------------------

SPLIT = TOKENS["openai-key"]


def _content(path) -> str:
    from myna.cassettes import load_cassette

    events = load_cassette(path)["interactions"][0]["response"]["body"]["sse"]
    return "".join(
        (choice.get("delta") or {}).get("content") or ""
        for event in events
        if isinstance(event.get("data"), dict)
        for choice in event["data"].get("choices", [])
    )


def test_a_token_split_across_stream_events_is_scrubbed_once_joined(loopback, tmp_path):
    import httpx

    from myna.cassettes import cassette

    server = loopback(script=[f"here {SPLIT} ok"], chunking=4)
    path = tmp_path / "split.yaml"
    request = {
        "headers": {"authorization": "Bearer test-key-123456"},
        "json": {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
    }
    url = server.base_url + "/v1/chat/completions"
    with cassette(path, mode="all"), httpx.stream("POST", url, **request) as response:
        response.read()
    assert _content(path) == "here REDACTED ok"
    text = path.read_text()
    for part in ("sk-", "proj", "Abc1", "Mno345"):
        assert part not in text  # no piece that rejoins
    with cassette(path, mode="none"), httpx.stream("POST", url, **request) as response:
        replayed = response.read().decode()  # and it still replays
    assert "REDACTED" in replayed


def test_find_secrets_reports_a_token_split_across_events():
    pieces = [SPLIT[i : i + 4] for i in range(0, len(SPLIT), 4)]
    events = [{"data": {"delta": {"text": piece}}} for piece in pieces]
    item = {
        "request": {"method": "POST", "url": "https://x/"},
        "response": {"status": 200, "body": {"sse": events}},
    }
    found = [str(f) for f in find_secrets(new_cassette([item]), Scrubber(environ={}))]
    assert found == ["interaction 0 response.body.sse[*].data.delta.text (joined) (openai-key)"]
    clean = Scrubber(environ={}).body(item["response"]["body"])
    assert "".join(e["data"]["delta"]["text"] for e in clean["sse"]) == REDACTED


NAMED = {
    "request": {
        "method": "POST",
        "url": "https://x.test/v1/chat?client_secret=s3cr3t&password=hunter2"
        "&X-Amz-Security-Token=FQoGZXIvYXdz&X-Amz-Signature=abc123&alt=sse&pageToken=p2",
        "headers": {"apikey": "plainvalue", "x-password": "hunter2", "x-ok": "1"},
        "body": {
            "json": {
                "metadata": {"api_key": "plainvalue", "user": "u1"},
                "max_tokens": 100,
                "messages": [{"content": "export aws_secret_access_key=wJalrXUtnFEMI/K7MDENG"}],
            }
        },
    },
    "response": {
        "status": 200,
        "body": {
            "json": {
                "usage": {"input_tokens": 3, "output_tokens": 4, "token_count": 7},
                "logprobs": [{"token": "Hello", "logprob": -0.1}],
                "content": [{"type": "thinking", "signature": "EqQBCkgIARAB"}],
            }
        },
    },
}


def test_credentials_are_scrubbed_by_name_and_usage_fields_survive():
    scrubber = Scrubber(environ={})
    clean = scrubber.interaction(NAMED)
    request = clean["request"]
    assert request["url"] == "https://x.test/v1/chat?alt=sse&pageToken=p2"
    assert request["headers"] == {"x-ok": "1"}
    assert request["body"]["json"] == {
        "metadata": {"api_key": REDACTED, "user": "u1"},
        "max_tokens": 100,
        "messages": [{"content": "export aws_secret_access_key=REDACTED"}],
    }
    assert clean["response"]["body"] == NAMED["response"]["body"]  # usage, logprobs, signatures
    assert find_secrets(new_cassette([clean]), scrubber) == []
    found = {str(f) for f in find_secrets(new_cassette([NAMED]), scrubber)}
    assert found == {
        "interaction 0 request.headers.apikey (secret-header)",
        "interaction 0 request.headers.x-password (secret-header)",
        "interaction 0 request.url?client_secret (secret-query-param)",
        "interaction 0 request.url?password (secret-query-param)",
        "interaction 0 request.url?X-Amz-Security-Token (secret-query-param)",
        "interaction 0 request.url?X-Amz-Signature (secret-query-param)",
        "interaction 0 request.url (secret-assignment)",
        "interaction 0 request.body.json.metadata.api_key (secret-field)",
        "interaction 0 request.body.json.messages[0].content (secret-assignment)",
    }


def test_requests_with_named_credentials_still_replay(tmp_path):
    import httpx
    import respx

    from myna.cassettes import cassette

    url = "https://named.test/v1/chat?client_secret=s3cr3t&alt=sse"
    body = {"metadata": {"api_key": "plainvalue"}, "max_tokens": 5}
    path = tmp_path / "named.yaml"
    with respx.mock() as router:
        router.post(url__startswith="https://named.test").mock(
            return_value=httpx.Response(200, json={"ok": True})
        )
        with cassette(path, mode="all"):
            httpx.post(url, json=body, headers={"x-password": "hunter2"})
    assert "s3cr3t" not in path.read_text() and "plainvalue" not in path.read_text()
    with cassette(path, mode="none"):
        assert httpx.post(url, json=body).json() == {"ok": True}


def test_tokens_wrapped_in_base64_are_scrubbed_inside():
    scrubber = Scrubber(environ={})
    wrapped = base64.b64encode(f"key={SPLIT}\n".encode()).decode()
    basic = base64.b64encode(b"alice:hunter2").decode()
    item = {
        "request": {
            "method": "POST",
            "url": "https://x.test/",
            "headers": {"x-upstream-auth": f"Basic {basic}", "x-blob": wrapped},
            "body": {"json": {"file": f"data:text/plain;base64,{wrapped}"}},
        },
        "response": {"status": 200},
    }
    found = {str(f) for f in find_secrets(new_cassette([item]), scrubber)}
    assert found == {
        "interaction 0 request.headers.x-upstream-auth (basic-auth)",
        "interaction 0 request.headers.x-blob (base64:openai-key)",
        "interaction 0 request.body.json.file (base64:openai-key)",
    }
    clean = scrubber.interaction(item)["request"]
    assert clean["headers"]["x-upstream-auth"] == "Basic REDACTED"
    assert base64.b64decode(clean["headers"]["x-blob"]) == b"key=REDACTED\n"  # still a blob
    data = clean["body"]["json"]["file"].split(",", 1)[1]
    assert base64.b64decode(data) == b"key=REDACTED\n"
    assert find_secrets(new_cassette([scrubber.interaction(item)]), scrubber) == []


def test_a_basic_auth_url_records_scrubbed_and_replays(tmp_path):
    import httpx
    import respx

    from myna.cassettes import cassette, load_cassette

    url = "https://alice:hunter2@basic.test/v1/chat"
    path = tmp_path / "basic.yaml"
    with respx.mock() as router:
        router.post(url__startswith="https://").mock(
            return_value=httpx.Response(200, json={"ok": True})
        )
        with cassette(path, mode="all"):
            httpx.post(url, json={"q": 1})
    recorded = load_cassette(path)["interactions"][0]["request"]
    assert "hunter2" not in path.read_text()
    assert "hunter2" not in recorded["url"]
    with cassette(path, mode="none"):
        assert httpx.post(url, json={"q": 1}).json() == {"ok": True}
