"""Request keys, ignore patterns and diffs."""

from __future__ import annotations

import pytest

from myna.cassettes._match import DEFAULT_IGNORE, Matcher, diff_views, format_diff, split_url
from myna.exceptions import UserError


def _key(matcher, body, url="https://api.test/v1/chat", method="post"):
    return matcher.key(matcher.view(method, url, {"json": body}))


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "https://API.test:443/v1/x?b=2&a=1",
            ("https://api.test", "/v1/x", (("a", "1"), ("b", "2"))),
        ),
        ("http://127.0.0.1:8080/api/chat", ("http://127.0.0.1:8080", "/api/chat", ())),
        (
            "https://g.test/v1beta/m:streamGenerateContent?alt=sse&key=AIzaXYZ",
            ("https://g.test", "/v1beta/m:streamGenerateContent", (("alt", "sse"),)),
        ),
        ("https://x.test", ("https://x.test", "/", ())),
    ],
)
def test_split_url_normalises(url, expected):
    assert split_url(url) == expected


def test_equal_requests_have_equal_keys_whatever_the_key_order():
    matcher = Matcher()
    assert _key(matcher, {"a": 1, "b": [1, {"x": 1, "y": 2}]}) == _key(
        matcher, {"b": [1, {"y": 2, "x": 1}], "a": 1}
    )
    assert _key(matcher, {"a": 1}) != _key(matcher, {"a": 2})
    assert _key(matcher, {"a": 1}) != _key(matcher, {"a": 1}, method="GET")


@pytest.mark.parametrize(
    "pattern, body, kept",
    [
        ("metadata.*", {"metadata": {"a": 1, "b": 2}, "x": 1}, {"metadata": {}, "x": 1}),
        (
            "messages.*.name",
            {"messages": [{"name": "a", "c": 1}, {"name": "b"}]},
            {"messages": [{"c": 1}, {}]},
        ),
        (
            "**.seed",
            {"seed": 1, "deep": {"seed": 2, "list": [{"seed": 3, "k": 0}]}},
            {"deep": {"list": [{"k": 0}]}},
        ),
        ("messages.0", {"messages": ["first", "second"]}, {"messages": ["second"]}),
        ("absent.path", {"x": 1}, {"x": 1}),
    ],
)
def test_ignore_patterns(pattern, body, kept):
    matcher = Matcher(ignore=[pattern], ignore_defaults=False)
    assert matcher.view("POST", "https://x.test/", {"json": body}).body == kept


def test_default_ignores_cover_volatile_fields_only():
    matcher = Matcher()
    body = {
        "model": "m",
        "user": "u",
        "metadata": {"user_id": "u1", "tag": "kept"},
        "stream_options": {"include_usage": True},
        "messages": [
            {"role": "assistant", "tool_calls": [{"id": "call_1", "function": {"name": "f"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "id": "x"}],
            },
        ],
    }
    assert matcher.view("POST", "https://x.test/", {"json": body}).body == {
        "model": "m",
        "metadata": {"tag": "kept"},
        "messages": [
            {"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]},
            {"role": "tool", "content": "ok"},
            {"role": "user", "content": [{"type": "tool_result"}]},
        ],
    }
    assert "metadata.user_id" in DEFAULT_IGNORE and "metadata.*" not in DEFAULT_IGNORE


def test_non_json_bodies_match_exactly():
    matcher = Matcher()
    view = matcher.view("POST", "https://x.test/", {"text": "a=1"})
    assert matcher.key(view) == matcher.key(
        matcher.view("POST", "https://x.test/", {"text": "a=1"})
    )
    assert matcher.key(view) != matcher.key(
        matcher.view("POST", "https://x.test/", {"text": "a=2"})
    )
    assert matcher.key(matcher.view("GET", "https://x.test/", None))[-1] is None


def test_diff_lists_fields_that_differ():
    matcher = Matcher()
    old = matcher.view(
        "POST", "https://x.test/v1?a=1", {"json": {"m": [1, 2], "t": 0.1, "gone": True}}
    )
    new = matcher.view(
        "POST", "https://y.test/v1?a=2", {"json": {"m": [1, 3, 4], "t": 0.1, "new": "x"}}
    )
    assert format_diff(diff_views(old, new)) == [
        "  host: 'https://x.test' -> 'https://y.test'",
        "  query.a: '1' -> '2'",
        "  body.m[1]: 2 -> 3",
        "  body.m[2]: (missing) -> 4",
        "  body.gone: true -> (missing)",
        "  body.new: (missing) -> 'x'",
    ]


def test_long_diffs_are_cut():
    matcher = Matcher()
    old = matcher.view("POST", "https://x.test/", {"json": {f"k{i}": i for i in range(20)}})
    new = matcher.view("POST", "https://x.test/", {"json": {f"k{i}": -i - 1 for i in range(20)}})
    lines = format_diff(diff_views(old, new))
    assert len(lines) == 13 and lines[-1] == "  ... and 8 more difference(s)"


def test_bad_patterns_are_named():
    with pytest.raises(UserError, match=r"ignore='\.' is not a field path"):
        Matcher(ignore=["."])


def test_diff_shows_only_the_parts_compared():
    matcher = Matcher(match_on=["method", "path", "body"])
    old = matcher.view("POST", "http://127.0.0.1:8123/v1?a=1", {"json": {"t": 0.1}})
    new = matcher.view("POST", "https://api.openai.com/v1?a=2", {"json": {"t": 0.2}})
    assert format_diff(diff_views(old, new, matcher.match_on)) == ["  body.t: 0.1 -> 0.2"]


def test_long_strings_show_where_they_differ():
    prompt = "You are a travel assistant. " * 8
    matcher = Matcher()
    old = matcher.view("POST", "https://x.test/", {"json": {"p": prompt + "Answer in French."}})
    new = matcher.view("POST", "https://x.test/", {"json": {"p": prompt + "Answer in German."}})
    [line] = format_diff(diff_views(old, new))
    assert line == (
        "  body.p: ...istant. You are a travel assistant. Answer in French.' -> "
        "...istant. You are a travel assistant. Answer in German.'"
    )
    # a difference near the start of a long value: its head, then the cut
    old = matcher.view("POST", "https://x.test/", {"json": {"p": "A" + prompt}})
    new = matcher.view("POST", "https://x.test/", {"json": {"p": "B" + prompt}})
    [line] = format_diff(diff_views(old, new))
    assert line == (
        "  body.p: 'AYou are a travel assistant. You are a travel assistant. You are a tr... -> "
        "'BYou are a travel assistant. You are a travel assistant. You are a tr..."
    )
    # structured values are compared as JSON text, the same way
    old = matcher.view("POST", "https://x.test/", {"json": {"m": [{"t": prompt, "n": 1}]}})
    new = matcher.view("POST", "https://x.test/", {"json": {"m": [{"t": prompt, "n": 2}]}})
    assert format_diff(diff_views(old, new)) == ["  body.m[0].n: 1 -> 2"]


@pytest.mark.parametrize(
    ("part", "match_on"),
    [
        ("host", "['method', 'path', 'query', 'body']"),
        ("query", "['method', 'host', 'path', 'body']"),
        ("port", "['method', 'path', 'query', 'body']"),
        ("uri", "['method', 'body']"),
    ],
)
def test_ignore_naming_a_request_part_points_to_match_on(part, match_on):
    with pytest.raises(UserError) as info:
        Matcher(ignore=[part])
    assert str(info.value).startswith(
        f"ignore=[{part!r}] names a part of the request, but ignore= lists JSON body fields. "
        f"To stop comparing it pass match_on={match_on}"
    )
    assert "'body." + part + "'" in str(info.value)


def test_ignore_headers_says_headers_are_never_compared():
    with pytest.raises(UserError, match=r"headers are never compared"):
        Matcher(ignore=["headers"])


def test_a_body_field_named_like_a_request_part():
    matcher = Matcher(ignore=["body.query"])
    a = matcher.view("POST", "https://x.test/", {"json": {"query": "a", "k": 1}})
    b = matcher.view("POST", "https://x.test/", {"json": {"query": "b", "k": 1}})
    assert matcher.key(a) == matcher.key(b)
