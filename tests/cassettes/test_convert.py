"""Converting foreign cassettes (vcrpy, pydantic-ai, Ruby VCR, httprr) and re-scrubbing ours."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from myna import init_chat_model
from myna.cassettes import (
    CassetteError,
    cassette,
    convert_cassette,
    decode_body,
    find_secrets,
    load_cassette,
    scrub_cassette,
)
from myna.cassettes._foreign import load_interactions

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real"
ALL_FILES = sorted(p for p in REAL.rglob("*") if p.is_file() and p.suffix != ".md")


def _same_body(ours: dict | None, theirs: bytes | None) -> None:
    data = decode_body(ours)
    if ours and "json" in ours:
        assert json.loads(data) == json.loads(theirs)
    elif ours and "ndjson" in ours:
        assert [json.loads(line) for line in data.splitlines()] == [
            json.loads(line) for line in theirs.splitlines() if line.strip()
        ]
    elif ours and "sse" in ours:
        assert len(data) > 0
    else:
        assert data == (theirs or b"")


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_cassette_converts_and_keeps_its_content(path, tmp_path):
    target = tmp_path / "out.yaml"
    written = convert_cassette(path, target)
    loaded = load_cassette(target)
    assert loaded["interactions"] == written["interactions"]
    foreign = load_interactions(path)
    assert len(loaded["interactions"]) == len(foreign)
    for ours, theirs in zip(loaded["interactions"], foreign, strict=True):
        assert ours["request"]["method"] == theirs.request.method
        assert ours["response"]["status"] == theirs.response.status
        _same_body(ours["response"].get("body"), theirs.response.body)
        if theirs.response.stream_format == "sse" and theirs.response.headers.get(
            "content-type", ""
        ).startswith("text/event-stream"):
            payloads = [e["data"] for e in ours["response"]["body"]["sse"] if "data" in e]
            assert payloads == theirs.response.stream_payloads()
    assert find_secrets(loaded) == []
    for item in loaded["interactions"]:
        assert not {"authorization", "x-api-key", "cookie"} & set(
            item["request"].get("headers", {})
        )


def test_a_converted_vcrpy_stream_replays_through_our_provider(tmp_path, offline):
    source = REAL / "anthropic" / "test_anthropic_model_thinking_part_stream.yaml"
    target = tmp_path / "converted.yaml"
    converted = convert_cassette(source, target)
    body = converted["interactions"][0]["request"]["body"]["json"]
    with cassette(target, mode="none"), httpx.Client() as client:
        with client.stream(
            "POST", converted["interactions"][0]["request"]["url"], json=body
        ) as response:
            chunks = list(response.iter_raw())
    assert len(chunks) == len(converted["interactions"][0]["response"]["body"]["sse"]) > 3


def test_a_converted_openai_cassette_replays_offline(tmp_path, offline):
    source = (
        REAL
        / "openai-chat"
        / next(p.name for p in sorted((REAL / "openai-chat").iterdir()) if p.suffix == ".yaml")
    )
    target = tmp_path / "c.yaml"
    converted = convert_cassette(source, target)
    first = converted["interactions"][0]
    with cassette(target, mode="none", unplayed="ignore"), httpx.Client() as client:
        response = client.request(
            first["request"]["method"],
            first["request"]["url"],
            json=first["request"]["body"]["json"],
        )
    assert response.status_code == first["response"]["status"]


def test_convert_refuses_our_own_and_unknown_files(tmp_path):
    ours = tmp_path / "ours.yaml"
    convert_cassette(ALL_FILES[0], ours)
    with pytest.raises(CassetteError, match="is already a myna cassette; nothing to convert"):
        convert_cassette(ours, tmp_path / "again.yaml")
    junk = tmp_path / "junk.yaml"
    junk.write_text("just: a mapping\n")
    with pytest.raises(
        CassetteError,
        match=r"Cannot convert .*junk.yaml: junk.yaml is not a cassette in a known format",
    ):
        convert_cassette(junk, tmp_path / "out.yaml")
    assert not (tmp_path / "out.yaml").exists()


def test_scrub_cassette_rewrites_only_what_needs_it(tmp_path):
    path = tmp_path / "c.yaml"
    convert_cassette(REAL / "anthropic" / "test_prompt.yaml", path)
    assert scrub_cassette(path) == 0
    before = path.read_text()
    leaked = before.replace(
        "content-type: application/json",
        "content-type: application/json\n      x-api-key: sk-ant-api03-LEAKEDLEAKEDLEAKEDLEAKED",
        1,
    )
    path.write_text(leaked)
    assert scrub_cassette(path) == 1
    assert path.read_text() == before
    with pytest.raises(CassetteError, match="convert it with `myna cassettes convert`"):
        scrub_cassette(REAL / "anthropic" / "test_prompt.yaml")


def test_replay_of_a_converted_cassette_through_init_chat_model(tmp_path, offline):
    source = REAL / "anthropic" / "test_prompt.yaml"
    target = tmp_path / "c.yaml"
    converted = convert_cassette(source, target)
    request = converted["interactions"][0]["request"]
    model = init_chat_model(
        "anthropic:" + request["body"]["json"]["model"],
        api_key="k",
        max_retries=0,
        base_url=request["url"].rsplit("/messages", 1)[0],
    )
    # our provider sends its own body shape, so match on the endpoint only
    assert request["body"]["json"]["stream"] is True
    with cassette(target, mode="none", match_on=["method", "host", "path"]):
        chunks = list(model.stream("anything"))
    assert len(chunks) > 2 and "".join(c.text for c in chunks)
