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
