"""The matcher drops secret query parameters by the detector's by-name rule (issue 11).

Its own list (`SECRET_QUERY_PARAMS`) predates the shared detector: ``client_secret``,
``password`` or AWS's presigned ``X-Amz-Signature`` took part in the key, so a request whose
credential changed (a new presigned URL each run) never matched its recording.
"""

from __future__ import annotations

import httpx
import pytest

from myna.cassettes import cassette, load_cassette
from myna.cassettes._match import Matcher, split_url
from myna.emulators import emulate


@pytest.mark.parametrize(
    "name",
    ["key", "api_key", "client_secret", "password", "X-Amz-Signature", "X-Amz-Security-Token",
     "x-goog-api-key", "accessToken", "sig"],
)  # fmt: skip
def test_a_secret_parameter_is_left_out_of_the_key(name):
    first = split_url(f"https://api.test/v1/x?a=1&{name}=one")
    second = split_url(f"https://api.test/v1/x?{name}=two&a=1")
    assert first == second == ("https://api.test", "/v1/x", (("a", "1"),))


@pytest.mark.parametrize("name", ["page_token", "nextPageToken", "max_tokens", "sort_key"])
def test_an_ordinary_parameter_still_counts(name):
    assert split_url(f"https://api.test/x?{name}=1") != split_url(f"https://api.test/x?{name}=2")


def test_a_new_presigned_signature_replays_the_recording(tmp_path):
    path = tmp_path / "signed.yaml"
    url = "https://api.openai.com/v1/chat/completions?X-Amz-Date=1&X-Amz-Signature={}"
    body = {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "Hi"}]}
    with emulate("openai", script=["Recorded."], require_auth=False):
        with httpx.Client(verify=False) as client, cassette(path, mode="once"):
            client.post(url.format("a1b2c3d4e5f6a7b8"), json=body).raise_for_status()
    assert "a1b2c3d4e5f6a7b8" not in path.read_text()
    with httpx.Client(verify=False) as client, cassette(path, mode="none"):
        reply = client.post(url.format("ffffeeeeddddcccc"), json=body)
    assert reply.json()["choices"][0]["message"]["content"] == "Recorded."
    assert len(load_cassette(path)["interactions"]) == 1
    matcher = Matcher()
    views = [matcher.view("POST", url.format(s), None) for s in ("x" * 16, "y" * 16)]
    assert matcher.key(views[0]) == matcher.key(views[1])
