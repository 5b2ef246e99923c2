"""``myna cassettes scan`` finds what scrubbing removes (issue 11): one detector for both."""

from __future__ import annotations

import base64
import re

import pytest

from myna.cassettes import dump_cassette, new_cassette, scrub_cassette
from myna.cli import main

TOKEN = "sk-proj-Abc123Def456Ghi789Jkl012Mno345"
WRAPPED = base64.b64encode(f"key={TOKEN}\n".encode()).decode()
BASIC = base64.b64encode(b"alice:hunter2").decode()
PLANTED = {
    "secret-header": "request.headers.apikey (secret-header)",
    "header-by-name": "request.headers.x-password (secret-header)",
    "query-by-name": "request.url?X-Amz-Signature (secret-query-param)",
    "field-by-name": "request.body.json.metadata.api_key (secret-field)",
    "free-text": "line: secret-assignment",
    "base64-blob": "line: base64:openai-key",
    "basic-auth": "line: basic-auth",
    "split-across-events": "response.body.sse[*].data.delta.text (joined) (openai-key)",
    "url-password": "request.url (password) (url-password)",
}


def _leaky() -> dict:
    pieces = [TOKEN[i : i + 4] for i in range(0, len(TOKEN), 4)]
    return {
        "request": {
            "method": "POST",
            "url": "https://alice:hunter2@x.test/v1/chat?X-Amz-Signature=abc123&alt=sse",
            "headers": {
                "apikey": "plainvalue",
                "x-password": "hunter2",
                "x-upstream-auth": f"Basic {BASIC}",
            },
            "body": {
                "json": {
                    "metadata": {"api_key": "plainvalue"},
                    "max_tokens": 100,
                    "messages": [{"content": "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG"}],
                    "file": f"data:text/plain;base64,{WRAPPED}",
                }
            },
        },
        "response": {
            "status": 200,
            "headers": {"content-type": "text/event-stream"},
            "body": {"sse": [{"data": {"delta": {"text": piece}}} for piece in pieces]},
        },
    }


@pytest.fixture
def leaky(tmp_path):
    path = tmp_path / "leaky.yaml"
    path.write_text(dump_cassette(new_cassette([_leaky()])))  # written without scrubbing
    return path


@pytest.mark.parametrize("place", list(PLANTED))
def test_scan_finds_every_kind_of_planted_secret(leaky, capsys, place):
    assert main(["cassettes", "scan", str(leaky)]) == 1
    out = capsys.readouterr().out
    expected = PLANTED[place]
    if expected.startswith("line: "):  # visible in the text: named by its line
        assert re.search(rf"{re.escape(str(leaky))}:\d+: {expected[6:]}\n", out), out
    else:
        assert f"{leaky}: interaction 0 {expected}\n" in out


def test_scan_is_clean_after_scrub_and_the_placeholders_are_not_findings(leaky, capsys):
    assert scrub_cassette(leaky) == 1
    text = leaky.read_text()
    for value in ("plainvalue", "hunter2", "wJalrXUtnFEMI", "Mno345", BASIC, WRAPPED):
        assert value not in text
    assert "alice:REDACTED@x.test" in text
    assert main(["cassettes", "scan", str(leaky)]) == 0, capsys.readouterr().out
    assert "no secrets found in 1 file(s)" in capsys.readouterr().out


def test_usage_fields_are_not_findings(tmp_path, capsys):
    path = tmp_path / "usage.yaml"
    item = {
        "request": {"method": "POST", "url": "https://x.test/?pageToken=p2", "body": None},
        "response": {
            "status": 200,
            "headers": {"x-ratelimit-remaining-tokens": "99"},
            "body": {
                "json": {
                    "usage": {"input_tokens": 3, "max_tokens": 4, "token_count": 7},
                    "logprobs": [{"token": "Hello", "logprob": -0.1}],
                    "content": [{"type": "thinking", "signature": "EqQBCkgIARABGAIiQH"}],
                    "nextPageToken": "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA",
                }
            },
        },
    }
    path.write_text(dump_cassette(new_cassette([item])))
    assert main(["cassettes", "scan", str(path)]) == 0, capsys.readouterr().out
