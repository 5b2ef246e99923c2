"""Modes, matching, misses, unplayed interactions, hooks and refusals of `cassette(...)`."""

from __future__ import annotations

import gzip
import json
import re
import warnings
import zlib

import httpx
import pytest
import respx

from myna.cassettes import (
    Cassette,
    CassetteError,
    CassetteMismatch,
    CassetteSecretError,
    CassetteWarning,
    UnplayedInteractions,
    cassette,
    default_record_mode,
    load_cassette,
    set_usage_log,
)
from myna.exceptions import MynaError, UserError

URL = "https://api.example.test/v1/chat/completions"


def _body(content: str = "Hi", **extra):
    return {"model": "gpt-x", "messages": [{"role": "user", "content": content}], **extra}


@pytest.fixture
def api():
    """A respx-mocked API answering ``{"n": <call number>, "echo": <request body>}``."""
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(
            200, json={"n": len(calls), "echo": json.loads(request.content or b"{}")}
        )

    with respx.mock(assert_all_called=False) as router:
        router.post(url__startswith="https://api.example.test").mock(side_effect=answer)
        yield calls


CLIENT = httpx.Client()  # one SSL context for the whole module


def post(content: str = "Hi", url: str = URL, headers=None, **extra) -> dict:
    response = CLIENT.post(url, json=_body(content, **extra), headers=headers or {})
    return response.json()


# ---------------------------------------------------------------- modes


def test_once_records_a_new_cassette_then_replays_it(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once") as first:
        assert post("Hi")["n"] == 1
        assert post("Bye")["n"] == 2
    assert len(first.recorded) == 2 and len(api) == 2
    assert [
        i["request"]["body"]["json"]["messages"][0]["content"]
        for i in load_cassette(path)["interactions"]
    ] == ["Hi", "Bye"]

    with cassette(path, mode="once") as second:
        assert post("Hi")["n"] == 1
        assert post("Bye")["n"] == 2
    assert len(api) == 2  # nothing reached the server
    assert second.play_count == 2 and second.all_played and second.recorded == []


def test_once_with_an_existing_cassette_refuses_new_requests(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post("Hi")
    with pytest.raises(CassetteMismatch) as info, cassette(path, mode="once", unplayed="ignore"):
        post("Hello")
    message = str(info.value)
    assert f"cassette: {path} (mode 'once')" in message
    assert (
        "closest recorded request: interaction 0, POST https://api.example.test/v1/chat/completions"
        in message
    )
    assert "body.messages[0].content: 'Hi' -> 'Hello'" in message
    assert 'mode="new_episodes"' in message and "--myna-record-mode=new_episodes" in message
    assert len(api) == 1


def test_none_never_reaches_the_network_and_names_the_fix(tmp_path, api, offline):
    path = tmp_path / "missing.yaml"
    with pytest.raises(CassetteMismatch) as info, cassette(path, mode="none"):
        post("Hi")
    message = str(info.value)
    assert message.startswith(
        "myna: no recorded interaction matches POST https://api.example.test/v1/chat/completions"
    )
    assert "(mode 'none')" in message and "does not exist yet" in message
    assert "--myna-record-mode=once" in message
    assert api == [] and offline == []
    assert not path.exists()
    assert isinstance(info.value, AssertionError) and isinstance(info.value, MynaError)


def test_none_miss_shows_a_field_level_diff_of_the_closest_request(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post("What is the weather in Paris?", temperature=0.2)
        post("Something else entirely", url=URL.replace("chat/completions", "embeddings"))
    with pytest.raises(CassetteMismatch) as info, cassette(path, mode="none", unplayed="ignore"):
        post("What is the weather in Rome?", temperature=0.5, top_p=1)
    message = str(info.value)
    assert "closest recorded request: interaction 0" in message
    assert "differences (recorded -> actual):" in message
    assert (
        "body.messages[0].content: 'What is the weather in Paris?' -> 'What is the weather in Rome?'"
        in message
    )
    assert "body.temperature: 0.2 -> 0.5" in message
    assert "body.top_p: (missing) -> 1" in message
    assert "to record it: run pytest with --myna-record-mode=new_episodes" in message


def test_new_episodes_replays_matches_and_appends_the_rest(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post("Hi")
    with cassette(path, mode="new_episodes") as session:
        assert post("Hi")["n"] == 1  # replayed
        assert post("New")["n"] == 2  # recorded
    assert session.play_count == 1 and len(session.recorded) == 1
    contents = [
        i["request"]["body"]["json"]["messages"][0]["content"]
        for i in load_cassette(path)["interactions"]
    ]
    assert contents == ["Hi", "New"]


def test_all_rerecords_everything_even_over_a_broken_file(tmp_path, api):
    path = tmp_path / "c.yaml"
    path.write_text("interactions: [unclosed\n")
    with cassette(path, mode="all"):
        post("Fresh")
    interactions = load_cassette(path)["interactions"]
    assert len(interactions) == 1 and interactions[0]["response"]["body"]["json"]["n"] == 1


def test_identical_requests_replay_in_recorded_order(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        assert [post("Same")["n"] for _ in range(3)] == [1, 2, 3]
    with cassette(path, mode="none"):
        assert [post("Same")["n"] for _ in range(3)] == [1, 2, 3]
    with pytest.raises(CassetteMismatch) as info, cassette(path, mode="none"):
        for _ in range(4):
            post("Same")
    assert "recorded 3 time(s) and already replayed" in str(info.value)
    assert "allow_playback_repeats=True" in str(info.value)
    with cassette(path, mode="none", allow_playback_repeats=True):
        assert [post("Same")["n"] for _ in range(5)] == [1, 2, 3, 3, 3]


def test_default_mode_follows_ci(monkeypatch, tmp_path):
    assert default_record_mode() == "once"
    monkeypatch.setenv("CI", "true")
    assert default_record_mode() == "none"
    assert cassette(tmp_path / "x.yaml").mode == "none"
    monkeypatch.setenv("CI", "0")
    assert default_record_mode() == "once"
    monkeypatch.setenv("MYNA_RECORD_MODE", "new_episodes")
    assert default_record_mode() == "new_episodes"
    monkeypatch.setenv("MYNA_RECORD_MODE", "sometimes")
    with pytest.raises(UserError, match="MYNA_RECORD_MODE='sometimes' is not a record mode"):
        default_record_mode()


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(
        UserError, match="mode='replay' is not a record mode; use one of none, once"
    ):
        cassette(tmp_path / "x.yaml", mode="replay")
    with pytest.raises(UserError, match="unplayed='maybe' must be one of fail, warn, ignore"):
        cassette(tmp_path / "x.yaml", unplayed="maybe")
    with pytest.raises(UserError, match="match_on=\\['verb'\\] has unknown part"):
        cassette(tmp_path / "x.yaml", match_on=["verb"])
    with pytest.raises(UserError, match="before_record_request= must be a function"):
        cassette(tmp_path / "x.yaml", before_record_request="nope")


# ---------------------------------------------------------------- matching


def test_volatile_fields_and_headers_are_not_matched(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post(
            "Hi",
            user="alice",
            stream_options={"include_usage": True},
            metadata={"user_id": "u1"},
            headers={"user-agent": "sdk/1.0", "x-stainless-retry-count": "0"},
        )
    with cassette(path, mode="none"):
        reply = post(
            "Hi",
            user="bob",
            stream_options={"include_usage": False},
            metadata={"user_id": "u2"},
            headers={"user-agent": "sdk/2.0", "x-stainless-retry-count": "3"},
        )
    assert reply["n"] == 1


def test_ignore_adds_fields_and_defaults_can_be_turned_off(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post("Hi", metadata={"run": "1"}, user="alice")
    with pytest.raises(CassetteMismatch, match=r"body.metadata.run: '1' -> '2'"):
        with cassette(path, mode="none", unplayed="ignore"):
            post("Hi", metadata={"run": "2"}, user="alice")
    with cassette(path, mode="none", ignore=["metadata.*"]):
        assert post("Hi", metadata={"run": "2"}, user="alice")["n"] == 1
    with pytest.raises(CassetteMismatch, match=r"body.user: 'alice' -> 'bob'"):
        with cassette(path, mode="none", ignore_defaults=False, unplayed="ignore"):
            post("Hi", metadata={"run": "1"}, user="bob")


def test_tool_call_ids_sent_back_are_ignored(tmp_path, api):
    def convo(call_id):
        return [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": "w", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call_id, "content": "sunny"},
        ]

    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        httpx.post(URL, json={"model": "m", "messages": convo("call_1")})
    with cassette(path, mode="none"):
        assert httpx.post(URL, json={"model": "m", "messages": convo("call_9")}).json()["n"] == 1


def test_query_order_and_credentials_do_not_matter(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post("Hi", url=URL + "?b=2&a=1&key=AIzaSyDUMMYDUMMYDUMMYDUMMYDUMMYDUMMY123")
    assert "key=" not in path.read_text()
    with cassette(path, mode="none"):
        assert post("Hi", url=URL + "?a=1&b=2&key=other")["n"] == 1
    with pytest.raises(CassetteMismatch, match=r"query.a: '1' -> '3'"):
        with cassette(path, mode="none", unplayed="ignore"):
            post("Hi", url=URL + "?a=3&b=2")


def test_match_on_can_drop_the_body(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post("Hi")
    with cassette(path, mode="none", match_on=["method", "host", "path"]):
        assert post("Completely different")["n"] == 1


# ---------------------------------------------------------------- unplayed


def test_unplayed_interactions_fail_in_none_mode(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post("Hi")
        post("Second")
    with pytest.raises(UnplayedInteractions) as info, cassette(path, mode="none"):
        post("Hi")
    message = str(info.value)
    assert message.startswith(
        f"myna: 1 of 2 recorded interaction(s) in {path} were never requested (mode 'none'):"
    )
    assert "interaction 1: POST https://api.example.test/v1/chat/completions" in message
    assert "unplayed='warn'" in message
    assert isinstance(info.value, AssertionError)


def test_unplayed_can_warn_or_be_ignored(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post("Hi")
    with pytest.warns(CassetteWarning, match="1 of 1 recorded interaction"):
        with cassette(path, mode="none", unplayed="warn"):
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with cassette(path, mode="none", unplayed="ignore"):
            pass
        with cassette(path, mode="new_episodes"):
            pass  # ignored by default while recording


def test_a_failing_test_body_is_not_masked_by_unplayed(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post("Hi")
    with pytest.raises(ZeroDivisionError), cassette(path, mode="none"):
        1 / 0  # noqa: B018


# ---------------------------------------------------------------- decorator, nesting, state


def test_decorator_runs_each_call_in_a_fresh_session(tmp_path, api):
    path = tmp_path / "c.yaml"

    @cassette(path, mode="once")
    def call(content):
        return post(content)["n"]

    assert call("Hi") == 1
    assert call("Hi") == 1  # replayed by a new session
    assert call.__name__ == "call"
    assert len(api) == 1


async def test_async_decorator_and_context(tmp_path, api):
    path = tmp_path / "c.yaml"

    @cassette(path, mode="once")
    async def call(content):
        async with httpx.AsyncClient() as client:
            return (await client.post(URL, json=_body(content))).json()["n"]

    assert await call("Hi") == 1
    assert await call("Hi") == 1
    assert len(api) == 1


def test_inner_cassette_wins_and_outer_resumes(tmp_path, api):
    outer, inner = tmp_path / "outer.yaml", tmp_path / "inner.yaml"
    with cassette(outer, mode="once"):
        post("Outer")
        with cassette(inner, mode="once"):
            post("Inner")
        post("Outer again")
    assert len(load_cassette(outer)["interactions"]) == 2
    assert len(load_cassette(inner)["interactions"]) == 1


def test_a_session_is_not_reentrant(tmp_path):
    session = Cassette(tmp_path / "c.yaml", mode="once")
    with (
        session,
        pytest.raises(CassetteError, match="already active; a Cassette session is not reentrant"),
    ):
        session.start()


def test_transports_are_restored_after_exit(tmp_path):
    original = httpx.HTTPTransport.handle_request
    with cassette(tmp_path / "c.yaml", mode="once"):
        assert httpx.HTTPTransport.handle_request is not original
    assert httpx.HTTPTransport.handle_request is original


def test_a_failed_request_is_not_recorded(tmp_path):
    with respx.mock() as router:
        router.post(URL).mock(side_effect=httpx.ConnectError("refused"))
        with (
            cassette(tmp_path / "c.yaml", mode="once") as session,
            pytest.raises(httpx.ConnectError),
        ):
            post("Hi")
    assert session.recorded == [] and not (tmp_path / "c.yaml").exists()


def test_usage_is_logged_for_prune(tmp_path, api):
    log = tmp_path / "used.log"
    set_usage_log(log, reset=True)
    try:
        with cassette(tmp_path / "a.yaml", mode="once"):
            post("Hi")
    finally:
        set_usage_log(None)
    assert log.read_text().splitlines()[1:] == [str((tmp_path / "a.yaml").resolve())]


# ---------------------------------------------------------------- bodies


def test_gzip_responses_are_stored_decoded_and_replayed_with_the_right_length(tmp_path):
    payload = json.dumps({"id": "r1", "text": "compressed hello"}).encode()
    with respx.mock() as router:
        router.post(URL).mock(
            return_value=httpx.Response(
                200,
                content=gzip.compress(payload),
                headers={"content-encoding": "gzip", "content-type": "application/json"},
            )
        )
        with cassette(tmp_path / "c.yaml", mode="once"):
            live = httpx.post(URL, json=_body())
    stored = load_cassette(tmp_path / "c.yaml")["interactions"][0]["response"]
    assert stored["body"] == {"json": {"id": "r1", "text": "compressed hello"}}
    assert "content-encoding" not in stored["headers"]
    with cassette(tmp_path / "c.yaml", mode="none"):
        replayed = httpx.post(URL, json=_body())
    assert replayed.json() == live.json()
    assert replayed.headers["content-length"] == str(len(replayed.content))


def test_deflate_responses_are_stored_decoded(tmp_path):
    payload = json.dumps({"text": "deflated hello"}).encode()
    with respx.mock() as router:
        router.post(URL).mock(
            return_value=httpx.Response(
                200,
                content=zlib.compress(payload),
                headers={"content-encoding": "deflate", "content-type": "application/json"},
            )
        )
        with cassette(tmp_path / "c.yaml", mode="once"):
            CLIENT.post(URL, json=_body())
    stored = load_cassette(tmp_path / "c.yaml")["interactions"][0]["response"]
    assert stored["body"] == {"json": {"text": "deflated hello"}}
    with cassette(tmp_path / "c.yaml", mode="none"):
        assert CLIENT.post(URL, json=_body()).json() == {"text": "deflated hello"}


def test_binary_and_text_bodies_round_trip(tmp_path):
    blob = bytes(range(256))
    with respx.mock() as router:
        router.post(URL).mock(
            return_value=httpx.Response(
                200, content=blob, headers={"content-type": "application/octet-stream"}
            )
        )
        router.get(URL).mock(
            return_value=httpx.Response(
                404, text="no such thing\nat all", headers={"content-type": "text/plain"}
            )
        )
        with cassette(tmp_path / "c.yaml", mode="once"):
            httpx.post(URL, content=b"\x00\x01raw")
            httpx.get(URL)
    text = (tmp_path / "c.yaml").read_text()
    assert "base64:" in text and "text: |-" in text
    with cassette(tmp_path / "c.yaml", mode="none"):
        assert httpx.post(URL, content=b"\x00\x01raw").content == blob
        missing = httpx.get(URL)
    assert missing.status_code == 404 and missing.text == "no such thing\nat all"


# ---------------------------------------------------------------- hooks and secrets


def test_hooks_edit_or_drop_interactions(tmp_path, api):
    def request_hook(request):
        request["headers"]["x-tenant"] = "scrubbed"
        return request

    def response_hook(response):
        if response["body"]["json"]["echo"]["messages"][0]["content"] == "Drop me":
            return None
        response["body"]["json"]["note"] = "edited"
        return response

    path = tmp_path / "c.yaml"
    with cassette(
        path, mode="once", before_record_request=request_hook, before_record_response=response_hook
    ):
        assert post("Keep me", headers={"x-tenant": "acme"})["n"] == 1
        assert post("Drop me")["n"] == 2  # the live response is untouched
    interactions = load_cassette(path)["interactions"]
    assert len(interactions) == 1
    assert interactions[0]["request"]["headers"]["x-tenant"] == "scrubbed"
    assert interactions[0]["response"]["body"]["json"]["note"] == "edited"


def test_a_hook_returning_the_wrong_type_is_named(tmp_path, api):
    with pytest.raises(UserError, match="before_record_response must return the response dict"):
        with cassette(tmp_path / "c.yaml", mode="once", before_record_response=lambda r: "oops"):
            post("Hi")


def test_secrets_are_scrubbed_before_writing(tmp_path, api, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-live-998877665544")
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post(
            "My key is sk-proj-abcdefghijklmnopqrstuvwxyz0123456789 and tok-live-998877665544",
            headers={
                "authorization": "Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
                "cookie": "session=1",
            },
        )
    text = path.read_text()
    assert "sk-proj" not in text and "tok-live" not in text and "session=1" not in text
    assert "authorization" not in text and "cookie" not in text
    assert "My key is REDACTED and REDACTED" in text
    # the live request is scrubbed the same way before matching, so it still replays
    with cassette(path, mode="none"):
        assert (
            post(
                "My key is sk-proj-abcdefghijklmnopqrstuvwxyz0123456789 and tok-live-998877665544"
            )["n"]
            == 1
        )


def test_a_secret_that_survives_refuses_the_write(tmp_path, api):
    def sneaky(response):
        response["headers"]["x-api-key"] = "put back by a hook"
        response["body"]["json"]["leak"] = "AIza" + "B" * 35
        return response

    path = tmp_path / "c.yaml"
    with pytest.raises(CassetteSecretError) as info:
        with cassette(path, mode="once", before_record_response=sneaky):
            post("Hi")
    message = str(info.value)
    assert message.startswith(
        f"myna: refusing to write {path}: it still holds secret-shaped values:"
    )
    assert "interaction 0 response.headers.x-api-key (secret-header)" in message
    assert "interaction 0 response.body.json.leak (google-api-key)" in message
    assert "AIzaBBB" not in message
    assert not path.exists()


def test_redact_removes_extra_values(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once", redact=["acme-internal", re.compile(r"cust-\d+")]):
        post("Customer cust-12345 of acme-internal")
    assert "Customer REDACTED of REDACTED" in path.read_text()


# ---------------------------------------------------------------- broken files


def test_a_broken_cassette_is_an_error_never_a_rerecord(tmp_path, api):
    path = tmp_path / "c.yaml"
    with cassette(path, mode="once"):
        post("Hi")
    broken = path.read_text().replace("    status: 200", "    status: [200")
    path.write_text(broken)
    for mode in ("once", "new_episodes", "none"):
        with pytest.raises(CassetteError, match=rf"{re.escape(str(path))}, line \d+: broken YAML"):
            with cassette(path, mode=mode):
                post("Hi")
    assert path.read_text() == broken and len(api) == 1


def test_a_wrong_shape_names_the_line_and_field(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "version: 1\ninteractions:\n- request:\n    method: POST\n    url: https://x.test/\n"
        "  response:\n    status: 999\n"
    )
    with pytest.raises(CassetteError) as info, cassette(path, mode="once"):
        pass
    assert str(info.value).startswith(
        f"{path}, line 7: not a valid myna cassette at interactions[0].response.status: "
        "status must be an HTTP code, got 999."
    )


def test_a_response_broken_by_hand_fails_when_replayed(tmp_path):
    sse = b'data: {"delta": "a"}\n\ndata: {"delta": "b"}\n\n'
    path = tmp_path / "c.yaml"
    with respx.mock() as router:
        router.post(URL).mock(
            return_value=httpx.Response(
                200, content=sse, headers={"content-type": "text/event-stream"}
            )
        )
        with cassette(path, mode="once"):
            CLIENT.post(URL, json=_body())
    broken = path.read_text().replace('- data: {"delta": "b"}', '- dat: {"delta": "b"}')
    path.write_text(broken)
    with pytest.raises(
        CassetteError,
        match=r"line \d+: not a valid myna cassette at interactions\[0\]\.response\.body\.sse\[1\]\.dat",
    ):
        with cassette(path, mode="once", unplayed="ignore"):
            CLIENT.post(URL, json=_body())
    assert path.read_text() == broken


def test_a_miss_swallowed_by_the_code_under_test_still_fails(tmp_path, api):
    """The official SDKs wrap transport exceptions in their own connection error."""
    with pytest.raises(CassetteMismatch, match="does not exist yet") as info:
        with cassette(tmp_path / "missing.yaml", mode="none") as session:
            try:
                post("Hi")
            except CassetteMismatch:
                pass  # what an SDK's "except Exception: raise APIConnectionError" amounts to
    assert session.misses == [info.value]


def test_an_sdk_call_surfaces_the_miss(tmp_path):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url="https://api.example.test/v1", api_key="k", max_retries=0)
    with pytest.raises(Exception) as info:
        with cassette(tmp_path / "missing.yaml", mode="none"):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    error = info.value
    miss = error if isinstance(error, CassetteMismatch) else error.__cause__  # raised or wrapped
    assert isinstance(miss, CassetteMismatch) and "does not exist yet" in str(miss)
