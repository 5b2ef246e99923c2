"""LLM judges: verdicts from fakes, verdicts recorded against the emulator and replayed from a
committed cassette (offline, no key), replay misses that name what changed, pairwise judging
in both orders, and the judge's usage kept apart from the target's."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from myna import init_chat_model
from myna.cassettes import Cassette, load_cassette
from myna.emulators import emulate
from myna.evals import Case, Dataset, EvalContext, Judge, Pairwise, aevaluate, evaluate
from myna.evals import evaluators as ev
from myna.evals._verdicts import JUDGE_PROMPT_VERSION, _parse_prompt, _prompt
from myna.exceptions import UserError
from myna.fakes import FakeChatModel, FunctionChatModel

CASSETTES = Path(__file__).parent / "cassettes"
WEATHER = CASSETTES / "weather-judge.yaml"
RUBRIC = "The answer names the weather in the city asked about."
CHOICES = {"pass": 1.0, "partial": 0.5, "fail": 0.0}
OUTPUTS = {"Paris": "Sunny in Paris.", "Oslo": "It is a city in Norway."}
VERDICTS = [  # paris repeats 0, 1, 2, then oslo repeats 0, 1, 2 (recorded one at a time)
    {"reason": "Names sunny weather for Paris.", "choice": "pass"},
    {"reason": "Says sunny, the city is right.", "choice": "pass"},
    {"reason": "Sunny, but no temperature given.", "choice": "partial"},
    {"reason": "No weather at all.", "choice": "fail"},
    {"reason": "Talks about Norway, not the weather.", "choice": "fail"},
    {"reason": "The weather is missing.", "choice": "fail"},
]


def weather_dataset() -> Dataset:
    return Dataset(
        [
            Case("paris", {"city": "Paris"}, expected="sunny"),
            Case("oslo", {"city": "Oslo"}, expected="rain"),
        ],
        name="weather",
    )


def weather_app(city: str) -> str:
    return OUTPUTS[city]


def weather_judge(path: Path, mode: str, **options: Any) -> Judge:
    options = {"model": "openai:gpt-4.1-mini", "name": "helpful", **options}
    return ev.judge(RUBRIC, choices=CHOICES, cassette=path, mode=mode, **options)


def record_weather(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Record the weather verdicts against the OpenAI emulator (how the committed file is made)."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-emulated")  # the emulator wants some key
    with emulate("openai", script=VERDICTS) as server:
        report = evaluate(
            weather_app,
            weather_dataset(),
            evaluators=[weather_judge(path, "all")],
            repeat=3,
            max_concurrency=1,  # the script answers in request order
        )
    monkeypatch.delenv("OPENAI_API_KEY")
    assert len(server.requests) == 6
    return report


@pytest.fixture
def offline(offline: list[Any]) -> list[Any]:
    """No socket may connect (and no provider key is set: see the autouse clean_environ)."""
    assert "OPENAI_API_KEY" not in os.environ
    return offline


@pytest.fixture(autouse=True)
def _no_record_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test names its record mode; the environment's must not leak in."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MYNA_RECORD_MODE", raising=False)
    monkeypatch.delenv("MYNA_CASSETTE_LOG", raising=False)


def grader(rules: dict[str, str], seen: list[str] | None = None) -> FunctionChatModel:
    """A fake judge: the choice of the first rule whose word is in the judged output."""

    def fn(messages: Any, info: Any) -> dict[str, str]:
        prompt = messages[-1].text
        if seen is not None:
            seen.append(prompt)
        output = _parse_prompt(prompt)["output"]  # type: ignore[index]
        for word, choice in rules.items():
            if word in output:
                return {"reason": f"the output says {word!r}", "choice": choice}
        return {"reason": "nothing matched", "choice": "fail"}

    return FunctionChatModel(fn)


def context(output: Any, name: str = "paris", repeat: int = 0, **more: Any) -> EvalContext:
    case = Case(name, more.pop("inputs", {"city": "Paris"}), expected=more.pop("expected", None))
    return EvalContext(
        case=case,
        inputs=case.inputs,
        expected=case.expected,
        output=output,
        calls=[],
        usage={},
        cost=0.0,
        latency=0.0,
        repeat_index=repeat,
        metadata={},
    )


# -- verdicts from fakes ------------------------------------------------------------------------


def test_pass_fail_and_partial_map_choices_to_scores():
    judge = ev.judge(RUBRIC, model=grader({"Sunny": "pass", "Cloudy": "partial"}), choices=CHOICES)
    dataset = Dataset(
        [Case("paris", "Paris"), Case("london", "London"), Case("oslo", "Oslo")],
        evaluators=[judge],
    )
    answers = {"Paris": "Sunny.", "London": "Cloudy.", "Oslo": "Rain."}
    report = evaluate(answers.get, dataset)
    results = {c.name: c.runs[0].results[0] for c in report.cases}
    assert {n: (r.label, r.score, r.status) for n, r in results.items()} == {
        "paris": ("pass", 1.0, "pass"),
        "london": ("partial", 0.5, "pass"),  # min_score 0.5: partial passes by default
        "oslo": ("fail", 0.0, "fail"),
    }
    assert results["london"].reason == "the output says 'Cloudy'"
    assert results["paris"].name == "judge"


def test_min_score_one_makes_partial_fail():
    judge = ev.judge(RUBRIC, model=grader({"Cloudy": "partial"}), choices=CHOICES, min_score=1)
    report = evaluate(lambda city: "Cloudy.", [Case("london", "London")], evaluators=[judge])
    result = report.cases[0].runs[0].results[0]
    assert (result.label, result.score, result.passed) == ("partial", 0.5, False)
    assert report.cases[0].status == "fail"


def test_default_choices_are_pass_and_fail():
    seen: list[str] = []
    judge = ev.judge(RUBRIC, model=grader({"Sunny": "pass"}, seen))
    assert judge.choices == {"pass": 1.0, "fail": 0.0}
    report = evaluate(str, [Case("a", "Sunny"), Case("b", "Rain")], evaluators=[judge])
    assert [c.status for c in report.cases] == ["pass", "fail"]
    assert all(prompt.endswith("Choices: pass, fail") for prompt in seen)


def test_a_choice_not_offered_is_an_error_naming_it_never_a_zero():
    judge = ev.judge(RUBRIC, model=FakeChatModel([{"reason": "hmm", "choice": "maybe"}]))
    report = evaluate(str, [Case("paris", "Sunny")], evaluators=[judge])
    case = report.cases[0]
    result = case.runs[0].results[0]
    assert case.status == "error" and result.status == "error"
    assert result.score is None and result.passed is None
    assert result.error == (
        "judge answered 'maybe' for case 'paris' repeat 0, which is not one of its choices "
        "(pass, fail); a stronger judge model or a clearer rubric helps."
    )


def test_an_answer_that_is_not_a_verdict_is_an_error():
    judge = ev.judge(RUBRIC, model=FakeChatModel(["I think it is fine."]), name="helpful")
    result = evaluate(str, [Case("paris", "x")], evaluators=[judge]).cases[0].runs[0].results[0]
    assert result.status == "error"
    assert result.error.startswith("judge 'helpful' gave no verdict for case 'paris' repeat 0: ")


def test_a_judge_needs_a_model_and_says_how_to_pass_a_fake():
    with pytest.raises(UserError) as info:
        ev.judge(RUBRIC)
    message = str(info.value)
    assert "needs model=" in message and "FakeChatModel([{'reason'" in message
    assert "'openai:gpt-4.1-mini'" in message
    with pytest.raises(UserError, match="needs baseline="):
        ev.pairwise(RUBRIC, model=FakeChatModel([]))
    with pytest.raises(UserError, match="needs model="):
        ev.pairwise(RUBRIC, baseline={})


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"model": "fake:x", "choices": {"pass": 1.0}}, "at least two choice names"),
        ({"model": "fake:x", "choices": {"pass": 1.0, "fail": 2}}, "score of 'fail' is 2"),
        ({"model": "fake:x", "min_score": 1.5}, r"min_score=1.5\) must be in \[0, 1\]"),
        ({"model": "fake:x", "cassette": "x.yaml", "mode": "sometimes"}, "not a record mode"),
        ({"model": 42}, "a judge model is a model string"),
        ({"model": "nosuchprovider:m"}, "nosuchprovider"),
    ],
)
def test_bad_options_are_user_errors(options, match):
    with pytest.raises(UserError, match=match):
        ev.judge(RUBRIC, **options)
    with pytest.raises(UserError, match="needs a rubric"):
        ev.judge("  ", model="fake:x")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_sync_and_async_targets_are_judged_alike(kind):
    async def async_app(city: str) -> str:
        return weather_app(city)

    target = weather_app if kind == "sync" else async_app
    judge = ev.judge(RUBRIC, model=grader({"Sunny": "pass"}))
    report = evaluate(target, weather_dataset(), evaluators=[judge], repeat=2)
    assert [(c.name, c.status, c.passes) for c in report.cases] == [
        ("paris", "pass", 2),
        ("oslo", "fail", 0),
    ]


async def test_await_judge_and_evaluate_sync_give_the_same_result():
    judge = ev.judge(RUBRIC, model=grader({"Sunny": "pass"}), name="sunny")
    ctx = context("Sunny in Paris.")
    awaited = await judge(ctx)
    direct = judge.evaluate_sync(ctx)
    assert (awaited.label, awaited.score, awaited.passed, awaited.reason) == (
        direct.label,
        direct.score,
        direct.passed,
        direct.reason,
    )
    assert awaited.label == "pass" and direct.name == "sunny" and awaited.name == ""
    bad = ev.judge(RUBRIC, model=FakeChatModel([{"reason": "?", "choice": "maybe"}] * 2))
    assert (await bad(ctx)).status == "error" and bad.evaluate_sync(ctx).status == "error"


def test_the_prompt_holds_what_the_verdict_depends_on():
    seen: list[str] = []
    judge = ev.judge(RUBRIC, model=grader({}, seen), choices=CHOICES)
    dataset = Dataset([Case("paris", {"city": "Paris"}, expected="sunny")])
    evaluate(lambda city: "Sunny.", dataset, evaluators=[judge], repeat=2, max_concurrency=1)
    fields = [_parse_prompt(p) for p in seen]
    assert [f["repeat"] for f in fields] == [0, 1]  # each repeat is its own request
    assert fields[0] == {
        "kind": "judge",
        "version": JUDGE_PROMPT_VERSION,
        "case": "paris",
        "repeat": 0,
        "model": "fake:fake-function",
        "rubric": RUBRIC,
        "input": '{\n  "city": "Paris"\n}',
        "expected": "sunny",
        "output": "Sunny.",
        "output_a": None,
        "output_b": None,
        "choices": "pass, partial, fail",
    }
    seen.clear()
    quiet = ev.judge(RUBRIC, model=grader({}, seen), include_input=False, include_expected=False)
    evaluate(lambda city: "Sunny.", dataset, evaluators=[quiet])
    assert "<input>" not in seen[0] and "<expected>" not in seen[0]


def test_a_prompt_reads_back_even_with_tags_in_the_output():
    fields = {"case": 'a "b" | c', "repeat": 2, "model": "openai:m", "rubric": "R"}
    fields |= {"input": "in\n</input>\n\n<rubric>\n", "expected": None}
    fields["output"] = "x\n</output>\n\n<rubric>\nChoices: y"
    parsed = _parse_prompt(_prompt("judge", fields, "pass, fail"))
    assert parsed is not None
    assert {k: parsed[k] for k in fields} == fields


def test_judge_usage_is_split_from_the_target_usage():
    target_model = FakeChatModel(["Sunny in Paris."])
    judge = ev.judge(RUBRIC, model=FakeChatModel([{"reason": "ok", "choice": "pass"}]))
    report = evaluate(target_model, [Case("paris", "Weather in Paris?")], evaluators=[judge])
    case = report.cases[0]
    target_call = target_model.calls[0]
    assert case.usage == dict(target_call.reply.usage_metadata)
    assert case.judge_usage["total_tokens"] > 0
    assert case.judge_usage != case.usage
    assert [c["output"] for c in case.runs[0].calls] == ["Sunny in Paris."]  # no judge call


def test_to_spec_round_trips_a_judge_given_by_model_string():
    judge = ev.judge(RUBRIC, model="openai:gpt-4.1-mini", choices=CHOICES, name="helpful")
    spec = judge.to_spec()
    assert spec == {
        "judge": {
            "rubric": RUBRIC,
            "model": "openai:gpt-4.1-mini",
            "choices": CHOICES,
            "name": "helpful",
        }
    }
    again = ev.from_spec(spec)
    assert isinstance(again, Judge) and again.choices == CHOICES and again.name == "helpful"
    with pytest.raises(UserError, match="cannot hold"):
        ev.judge(RUBRIC, model=FakeChatModel([])).to_spec()


# -- verdicts recorded against the emulator, replayed from cassettes ------------------------


def _verdict_pairs(path: Path) -> list[tuple[Any, Any]]:
    """(prompt, answer) of each interaction: what the committed file is compared on."""
    pairs = []
    for interaction in load_cassette(path)["interactions"]:
        request = interaction["request"]["body"]["json"]
        answer = interaction["response"]["body"]["json"]["choices"][0]["message"]["content"]
        pairs.append((request, json.loads(answer)))
    return pairs


def test_the_committed_cassette_is_what_recording_against_the_emulator_gives(tmp_path, monkeypatch):
    fresh = tmp_path / "weather-judge.yaml"
    report = record_weather(fresh, monkeypatch)
    assert [c.status for c in report.cases] == ["pass", "fail"]
    if os.environ.get("MYNA_REGENERATE_CASSETTES"):
        shutil.copyfile(fresh, WEATHER)
    assert _verdict_pairs(WEATHER) == _verdict_pairs(fresh), (
        "tests/evals/cassettes/weather-judge.yaml is stale (the judge prompt changed?); "
        "regenerate it: MYNA_REGENERATE_CASSETTES=1 pytest tests/evals/test_judge.py"
    )
    text = fresh.read_text()
    assert "sk-emulated" not in text and "authorization" not in text.lower()


@pytest.mark.parametrize("api", ["sync", "async"])
async def test_replay_from_the_committed_cassette_offline_without_a_key(offline, api):
    judge = weather_judge(WEATHER, "none")
    if api == "sync":
        report = evaluate(weather_app, weather_dataset(), evaluators=[judge], repeat=3)
    else:
        report = await aevaluate(weather_app, weather_dataset(), evaluators=[judge], repeat=3)
    assert offline == []
    paris, oslo = report.cases
    assert (paris.status, oslo.status) == ("pass", "fail")
    # three repeats, three distinct recorded verdicts, each replayed for its own repeat
    replayed = [(r.results[0].label, r.results[0].reason) for r in paris.runs]
    assert replayed == [(v["choice"], v["reason"]) for v in VERDICTS[:3]]
    assert paris.scores == {"helpful": pytest.approx((1.0 + 1.0 + 0.5) / 3)}
    assert [r.results[0].reason for r in oslo.runs] == [v["reason"] for v in VERDICTS[3:]]
    assert paris.judge_usage["total_tokens"] > 0 and paris.usage == {}


def test_a_changed_output_is_a_replay_miss_naming_the_change(offline):
    def rainy(city: str) -> str:
        return "Rainy in Paris." if city == "Paris" else weather_app(city)

    report = evaluate(rainy, weather_dataset(), evaluators=[weather_judge(WEATHER, "none")])
    paris = report.case("paris")
    assert paris.status == "error"
    result = paris.runs[0].results[0]
    assert result.status == "error" and result.score is None
    assert result.error == (
        f"judge 'helpful': no recorded verdict for case 'paris' repeat 0 in {WEATHER}: the "
        "judged output changed ('Sunny in Paris.' -> 'Rainy in Paris.'). To record it: "
        "Judge(..., mode='new_episodes') or MYNA_RECORD_MODE=new_episodes (the mode is "
        "'none'); to re-record every verdict: mode='all'."
    )
    assert report.case("oslo").status == "fail"  # the unchanged case still replays
    assert offline == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"rubric": "Is it short?"}, "the rubric changed ('The answer names the weather in"),
        ({"model": "openai:gpt-4.1"}, "the judge model changed ('openai:gpt-4.1-mini' -> "),
        ({"choices": {"pass": 1.0, "fail": 0.0}}, "the choices changed ('pass, partial, fa"),
        ({"include_expected": False}, "the expected output changed ('sunny' -> None)"),
    ],
)
def test_each_part_of_the_key_is_named_when_it_changes(offline, change, why):
    options = {"choices": CHOICES, **change}
    judge = ev.judge(
        options.pop("rubric", RUBRIC),
        model=options.pop("model", "openai:gpt-4.1-mini"),
        name="helpful",
        cassette=WEATHER,
        mode="none",
        **options,
    )
    report = evaluate(weather_app, weather_dataset(), evaluators=[judge])
    error = report.case("paris").runs[0].results[0].error
    assert error is not None and why in error, error


def test_a_new_repeat_or_case_is_a_named_miss(offline):
    dataset = Dataset([*weather_dataset().cases, Case("rome", {"city": "Paris"})])
    report = evaluate(weather_app, dataset, evaluators=[weather_judge(WEATHER, "none")], repeat=4)
    paris_errors = report.case("paris").errors
    assert len(paris_errors) == 1 and paris_errors[0].startswith("repeat 3: helpful: ")
    assert (
        "this repeat was never recorded (recorded repeats of this case: 0, 1, 2)"
        in (paris_errors[0])
    )
    assert "case 'rome' repeat 0" in report.case("rome").errors[0]
    assert "no verdict was ever recorded for this case" in report.case("rome").errors[0]


def test_a_renamed_case_is_named(offline):
    dataset = Dataset([Case("paris-fr", {"city": "Paris"}, expected="sunny")])
    report = evaluate(weather_app, dataset, evaluators=[weather_judge(WEATHER, "none")])
    assert "the case was renamed ('paris' -> 'paris-fr')" in report.cases[0].errors[0]


def test_once_records_a_missing_file_then_replays_it(tmp_path, monkeypatch, offline):
    path = tmp_path / "verdicts" / "judge.yaml"
    judge = ev.judge(RUBRIC, model="openai:gpt-4.1-mini", cassette=path, mode="once")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-emulated")
    dataset = Dataset([Case("paris", "Paris")])
    with emulate("openai", script=[{"reason": "fine", "choice": "pass"}] * 2):
        first = evaluate(str, dataset, evaluators=[judge], repeat=2)
    monkeypatch.delenv("OPENAI_API_KEY")
    assert first.passed and len(load_cassette(path)["interactions"]) == 2
    # a later run (here: the file under another name, not recorded by this process) finds
    # the file: replay only, offline, no key
    later = tmp_path / "later.yaml"
    shutil.copyfile(path, later)
    again = ev.judge(RUBRIC, model="openai:gpt-4.1-mini", cassette=later, mode="once")
    second = evaluate(str, dataset, evaluators=[again], repeat=2)
    assert second.passed and second.fingerprint == first.fingerprint
    missing = evaluate(str, [Case("oslo", "Oslo")], evaluators=[again])
    assert "no verdict was ever recorded for this case" in missing.cases[0].errors[0]
    assert "(the mode is 'once')" in missing.cases[0].errors[0]


def test_mode_comes_from_the_environment(tmp_path, monkeypatch, offline):
    path = tmp_path / "judge.yaml"
    monkeypatch.setenv("MYNA_RECORD_MODE", "none")
    judge = ev.judge(RUBRIC, model="openai:gpt-4.1-mini", cassette=path)
    result = evaluate(str, [Case("paris", "x")], evaluators=[judge]).cases[0].errors[0]
    assert "the cassette file does not exist yet" in result and "(the mode is 'none')" in result
    assert not path.exists()


def test_new_episodes_adds_the_missing_verdicts(tmp_path, monkeypatch):
    path = tmp_path / "judge.yaml"
    shutil.copyfile(WEATHER, path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-emulated")
    dataset = Dataset([*weather_dataset().cases, Case("rome", {"city": "Paris"})])
    with emulate("openai", script=[{"reason": "new", "choice": "partial"}] * 3) as server:
        report = evaluate(
            weather_app, dataset, evaluators=[weather_judge(path, "new_episodes")], repeat=3
        )
    assert len(server.requests) == 3  # only rome's three repeats were asked
    assert [r.results[0].label for r in report.case("rome").runs] == ["partial"] * 3
    assert len(load_cassette(path)["interactions"]) == 9


def test_the_judge_cassette_serves_only_the_judge(tmp_path, monkeypatch):
    """The target talks to an emulator (recorded by an outer cassette) while the judge replays
    from its own: neither sees the other's requests."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-emulated")
    target = init_chat_model("openai:gpt-4.1-mini")

    async def app(city: str) -> str:
        if city == "Oslo":
            await asyncio.sleep(0.005)  # ask while Paris is judged (the runs overlap)
        return (await target.ainvoke(f"Weather in {city}?")).text

    outer = tmp_path / "target.yaml"
    replies = [OUTPUTS["Paris"], OUTPUTS["Oslo"]]
    with emulate("openai", script=replies) as server, Cassette(outer, mode="all"):
        report = evaluate(app, weather_dataset(), evaluators=[weather_judge(WEATHER, "none")])
    assert [c.status for c in report.cases] == ["pass", "fail"], report.summary()
    assert [r.last_message.text for r in server.requests] == [
        "Weather in Paris?",
        "Weather in Oslo?",
    ]
    recorded = load_cassette(outer)["interactions"]
    assert len(recorded) == 2 and "myna judge" not in yaml.safe_dump(recorded)
    assert report.cases[0].usage["total_tokens"] > 0  # the target's, from the emulator
    assert report.cases[0].judge_usage["total_tokens"] > 0  # the judge's, from the cassette


def test_a_scoped_judge_session_leaves_other_contexts_alone(tmp_path, monkeypatch):
    """While a judge's session is open, a request from another context (a thread: a fresh
    context) goes to the outer cassette; one from the judge's context goes to the judge's."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-emulated")
    model = init_chat_model("openai:gpt-4.1-mini")
    judge = weather_judge(WEATHER, "none")
    outer = tmp_path / "target.yaml"
    seen: list[Any] = []
    with emulate("openai", script=["Sunny."]) as server, Cassette(outer, mode="all"):
        with judge.verdicts.session() as session:  # type: ignore[union-attr]
            thread = threading.Thread(target=lambda: seen.append(model.invoke("Weather?")))
            thread.start()
            thread.join()
            with pytest.raises(AssertionError, match="no recorded interaction matches"):
                model.invoke("Not a judge prompt")  # this context: the judge's cassette
    assert [m.text for m in seen] == ["Sunny."] and len(server.requests) == 1
    assert len(session.misses) == 1 and session.play_count == 0
    assert len(load_cassette(outer)["interactions"]) == 1


# -- pairwise -------------------------------------------------------------------------------


def prefers(word: str | None, seen: list[dict[str, Any]] | None = None) -> FunctionChatModel:
    """A fake pairwise judge choosing the output containing `word`; None: always 'A'."""

    def fn(messages: Any, info: Any) -> dict[str, str]:
        fields = _parse_prompt(messages[-1].text)
        assert fields is not None
        if seen is not None:
            seen.append(fields)
        if word is None:
            return {"reason": "the first one reads better", "choice": "A"}
        a, b = word in fields["output_a"], word in fields["output_b"]
        choice = "tie" if a == b else ("A" if a else "B")
        return {"reason": f"{word!r} decides", "choice": choice}

    return FunctionChatModel(fn)


def test_pairwise_asks_both_orders_and_reports_a_win():
    seen: list[dict[str, Any]] = []
    better = ev.pairwise(
        RUBRIC, model=prefers("Sunny", seen), baseline={"paris": "It is Paris.", "oslo": "Oslo."}
    )
    report = evaluate(weather_app, weather_dataset(), evaluators=[better])
    paris = report.case("paris").runs[0].results[0]
    assert (paris.label, paris.score, paris.passed) == ("win", 1.0, True)
    assert paris.reason == "output as A: win ('Sunny' decides); output as B: win ('Sunny' decides)"
    asked = sorted((f["output_a"], f["output_b"]) for f in seen if f["case"] == "paris")
    assert asked == [("It is Paris.", "Sunny in Paris."), ("Sunny in Paris.", "It is Paris.")]
    oslo = report.case("oslo").runs[0].results[0]
    assert (oslo.label, oslo.score, oslo.passed) == ("tie", 0.5, True)


def test_pairwise_position_disagreement_is_reported():
    always_a = ev.pairwise(RUBRIC, model=prefers(None), baseline=lambda ctx: "Cloudy.")
    report = evaluate(weather_app, weather_dataset(), evaluators=[always_a])
    result = report.case("paris").runs[0].results[0]
    assert (result.label, result.score, result.passed) == ("inconsistent", 0.5, True)
    assert result.reason == (
        "output as A: win (the first one reads better); output as B: lose (the first one reads "
        "better); the two orders disagree (position bias), counted as a tie"
    )


def test_pairwise_lose_fails_and_min_score_one_needs_a_win():
    worse = ev.pairwise(RUBRIC, model=prefers("Sunny"), baseline={"oslo": "Sunny in Oslo."})
    report = evaluate(weather_app, [weather_dataset().cases[1]], evaluators=[worse])
    result = report.cases[0].runs[0].results[0]
    assert (result.label, result.score, result.passed) == ("lose", 0.0, False)
    strict = ev.pairwise(RUBRIC, model=prefers("Sunny"), baseline={"oslo": "x"}, min_score=1)
    tie = evaluate(weather_app, [weather_dataset().cases[1]], evaluators=[strict])
    assert tie.cases[0].runs[0].results[0].label == "tie" and tie.cases[0].status == "fail"


async def test_pairwise_baselines_function_async_function_report_and_path(tmp_path):
    async def abase(ctx: EvalContext) -> str:
        return "No idea."

    base = evaluate(lambda city: "No idea.", weather_dataset(), repeat=2)
    saved = tmp_path / "base.json"
    base.to_json(saved)
    for baseline in (lambda ctx: "No idea.", abase, base, saved, str(saved)):
        judge = ev.pairwise(RUBRIC, model=prefers("Sunny"), baseline=baseline)
        report = await aevaluate(weather_app, weather_dataset(), evaluators=[judge], repeat=2)
        labels = [[r.results[0].label for r in c.runs] for c in report.cases]
        assert labels == [["win", "win"], ["tie", "tie"]], baseline


def test_pairwise_evaluate_sync_and_its_errors():
    judge = ev.pairwise(RUBRIC, model=prefers("Sunny"), baseline={"paris": "Rain."}, name="vs")
    assert judge.evaluate_sync(context("Sunny in Paris.")).label == "win"
    missing = judge.evaluate_sync(context("x", name="rome"))
    assert missing.status == "error" and missing.error == (
        "pairwise 'vs': the baseline has no output for case 'rome'; add it to the baseline, "
        "or give the case its own evaluators."
    )

    async def abase(ctx: EvalContext) -> str:
        return "x"

    with pytest.raises(UserError, match="the baseline function is async"):
        ev.pairwise(RUBRIC, model=prefers("x"), baseline=abase).evaluate_sync(context("y"))


def test_pairwise_identical_outputs_tie_without_asking():
    model = FakeChatModel([])
    judge = ev.pairwise(RUBRIC, model=model, baseline={"paris": "Sunny in Paris."})
    result = judge.evaluate_sync(context("Sunny in Paris."))
    assert (result.label, result.score, result.passed) == ("tie", 0.5, True)
    assert model.calls == []


def test_pairwise_replay_miss_names_the_baseline_change(tmp_path, monkeypatch, offline):
    path = tmp_path / "pairwise.yaml"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-emulated")
    verdicts = [{"reason": "first", "choice": "A"}, {"reason": "second", "choice": "B"}]
    dataset = [weather_dataset().cases[0]]

    def judge(baseline: str) -> Pairwise:
        return ev.pairwise(
            RUBRIC,
            model="openai:gpt-4.1-mini",
            baseline={"paris": baseline},
            cassette=path,
            mode="once",
            name="vs",
        )

    with emulate("openai", script=verdicts):
        first = evaluate(weather_app, dataset, evaluators=[judge("Rain.")])
    monkeypatch.delenv("OPENAI_API_KEY")
    assert first.cases[0].runs[0].results[0].label == "win"
    path = shutil.copyfile(path, tmp_path / "later.yaml")  # as a later run finds it
    replayed = evaluate(weather_app, dataset, evaluators=[judge("Rain.")])
    assert replayed.fingerprint == first.fingerprint
    changed = evaluate(weather_app, dataset, evaluators=[judge("Snow.")])
    error = changed.cases[0].runs[0].results[0].error
    assert error.startswith("pairwise 'vs': no recorded verdict for case 'paris' repeat 0 in ")
    assert "the baseline output changed ('Rain.' -> 'Snow.')" in error
    assert "To record it: Pairwise(..., mode='new_episodes')" in error
