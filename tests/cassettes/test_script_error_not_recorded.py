"""A recording made against myna's emulator leaves out the emulator's script errors: they are
a mistake in the test's script, not something the API said."""

from __future__ import annotations

import pytest
import yaml

from myna import init_chat_model
from myna.cassettes import cassette
from myna.emulators import SCRIPT_ERROR_HEADER, emulate, serve
from myna.exceptions import ProviderError


def _statuses(path) -> list[int]:
    return [i["response"]["status"] for i in yaml.safe_load(path.read_text())["interactions"]]


async def test_in_process(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    with (
        emulate("openai", script=["One."], assert_all_requests_matched=False),
        cassette(path, mode="once"),
    ):
        llm = init_chat_model("openai:gpt-4.1-mini", api_key="k", max_retries=0)
        assert (await llm.ainvoke("a")).text == "One."
        with pytest.raises(ProviderError, match="script error"):
            llm.invoke("b")  # the script ran out
    assert _statuses(path) == [200]


def test_over_loopback(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    with (
        serve("openai", script=["One."], assert_all_requests_matched=False) as server,
        cassette(path, mode="once"),
    ):
        llm = init_chat_model(
            "openai:gpt-4.1-mini", api_key="k", base_url=server.base_url + "/v1", max_retries=0
        )
        assert llm.invoke("a").text == "One."
        with pytest.raises(ProviderError) as caught:
            llm.invoke("b")
    assert "script error" in str(caught.value)
    assert _statuses(path) == [200]


def test_the_answer_is_marked() -> None:
    import httpx

    with (
        serve("openai", script=[], assert_all_requests_matched=False) as server,
        httpx.Client() as client,
    ):
        answer = client.post(
            server.base_url + "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "Hi"}]},
            headers={"authorization": "Bearer k"},
        )
    assert answer.status_code == 400
    assert answer.headers[SCRIPT_ERROR_HEADER] == "true"
