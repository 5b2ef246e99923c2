"""The cassette YAML writer and its fast reader agree with PyYAML on everything written."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from myna.cassettes._yaml import Flow, Lazy, emit, fast_load


def _pyyaml(text: str):
    return yaml.load(text, Loader=yaml.CSafeLoader)


def _unflow(value):
    if isinstance(value, Flow):
        return _unflow(value.value)
    if isinstance(value, dict):
        return {k: _unflow(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unflow(v) for v in value]
    return value


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "yes",
            "no",
            "null",
            "~",
            "1e5",
            "0x1F",
            "2024-01-01",
            "- item",
            "a: b",
            "a #b",
            "#c",
            "line\nbreak",
            "trailing\n",
            "two\n\n",
            " lead",
            "tab\tin",
            "\u2028",
            "\x85",
            "é ü",
            "😀",
            "key:",
            "*star",
            "&anchor",
            "!tag",
            "|",
            ">",
            "@at",
            "`tick",
            "%pct",
            "",
            " ",
        ]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=8) | st.sampled_from(["yes", "1", "a b", "a: b", ""]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
flowing = st.recursive(
    json_values,
    lambda children: st.builds(
        Flow,
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=10), flowing, min_size=1, max_size=5))
def test_both_readers_read_back_what_was_written(document):
    text = emit(document)
    expected = _unflow(document)
    assert _pyyaml(text) == expected
    assert fast_load(text) == expected


def test_the_layout_is_block_yaml_with_flow_events():
    text = emit(
        {
            "request": {
                "method": "POST",
                "body": {"json": {"messages": [{"role": "user", "content": "Hi"}]}},
            },
            "events": [{"event": "delta", "data": Flow({"text": "Hel", "n": 1.5})}],
            "multi": "line one\nline two\n",
            "tags": ["a", "b"],
            "empty": {},
        }
    )
    assert text == (
        "request:\n"
        "  method: POST\n"
        "  body:\n"
        "    json:\n"
        "      messages:\n"
        "      - role: user\n"
        "        content: Hi\n"
        "events:\n"
        "- event: delta\n"
        '  data: {"text": "Hel", "n": 1.5}\n'
        "multi: |\n"
        "  line one\n"
        "  line two\n"
        'tags: ["a", "b"]\n'
        "empty: {}\n"
    )


@pytest.mark.parametrize(
    "value, written",
    [
        ("yes", '"yes"'),
        ("1e5", '"1e5"'),
        ("a: b", '"a: b"'),
        ("https://x.test/a?b=c", "https://x.test/a?b=c"),
        (1e-05, "1.0e-05"),
        (1e20, "1.0e+20"),
        (2.0, "2.0"),
        (math.inf, ".inf"),
        ("\u2028", '"\\u2028"'),
    ],
    ids=lambda v: repr(v),
)
def test_scalars_are_written_so_yaml_reads_the_same_value(value, written):
    text = emit({"v": value})
    assert text == f"v: {written}\n"
    assert _pyyaml(text) == {"v": value}


def test_flow_values_yaml_would_misread_fall_back_to_block():
    text = emit({"data": Flow({"tiny": 1e-07})})
    assert "{" not in text
    assert fast_load(text) == _pyyaml(text) == {"data": {"tiny": 1e-07}}


@pytest.mark.parametrize(
    "text",
    [
        "a: 1 # comment\n",
        "a: 'single'\n",
        "a: &x 1\nb: *x\n",
        "a: {b: 1}\n",
        "a: 1e5\n",
        "a: yes\n",
        "a: 2024-01-01\n",
        "a: 1\na: 2\n",
        "a: >\n  folded\n",
        "---\na: 1\n",
        "a:\n  - 1\n   - 2\n",
    ],
)
def test_anything_outside_the_subset_is_left_to_pyyaml(text):
    with pytest.raises(ValueError, match="not in the subset myna writes"):
        fast_load(text)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "request": json_values,
                "response": st.dictionaries(st.text(max_size=6), flowing, min_size=1, max_size=4)
                | json_values,
            }
        ),
        max_size=4,
    )
)
def test_lazy_blocks_read_back_the_same(items):
    text = emit({"version": 1, "interactions": items})
    data = fast_load(text, lazy=("response", 2))
    for item in data["interactions"]:
        if isinstance(item["response"], Lazy):
            item["response"] = item["response"].value()
    assert data == _pyyaml(text) == _unflow({"version": 1, "interactions": items})


def test_lazy_top_reads_first_level_keys_only():
    text = emit(
        {
            "interactions": [
                {
                    "request": {"m": "GET"},
                    "response": {"status": 200, "body": {"json": {"status": 1}}},
                }
            ]
        }
    )
    lazy = fast_load(text, lazy=("response", 2))["interactions"][0]["response"]
    assert isinstance(lazy, Lazy)
    assert lazy.top() == {"status": "200", "body": ""}
