"""The eval runner: targets of every kind, gates, repeats, errors, concurrency, resume."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from myna.evals import Case, Dataset, EvalResult, aevaluate, evaluate
from myna.evals import evaluators as ev
from myna.exceptions import RateLimitError, UserError
from myna.fakes import FakeChatModel, FunctionChatModel
from myna.models import InMemoryRateLimiter, RetryPolicy


def shout_dataset(n: int = 5, bad: int = 0) -> Dataset:
    cases = [Case(f"c{i}", f"hello {i}", expected=f"HELLO {i}") for i in range(n)]
    cases += [Case(f"bad{i}", f"x{i}", expected="nope") for i in range(bad)]
    return Dataset(cases, evaluators=[ev.equals()], name="shout")


async def ashout(text: str) -> str:
    await asyncio.sleep(0)
    return text.upper()


@pytest.mark.parametrize("target", [str.upper, ashout], ids=["sync", "async"])
def test_targets_sync_and_async_give_the_same_report(target):
    report = evaluate(target, shout_dataset(4, bad=1), min_pass_rate=0.8)
    assert report.counts == {"pass": 4, "flaky": 0, "fail": 1, "error": 0}
    assert report.passed and report.pass_rate == 0.8
    assert [c.name for c in report.cases] == ["c0", "c1", "c2", "c3", "bad0"]
    assert report.case("bad0").reasons == ["repeat 0: equals: expected 'nope', got 'X0'"]


async def test_aevaluate_matches_evaluate():
    dataset = shout_dataset(3, bad=1)
    async_report = await aevaluate(ashout, dataset)
    sync_report = evaluate(str.upper, dataset)
    assert not async_report.passed
    assert async_report.fingerprint == sync_report.fingerprint


async def test_evaluate_works_inside_a_running_event_loop():
    report = evaluate(str.upper, shout_dataset(2))
    assert report.passed


def test_dict_inputs_are_keyword_arguments_and_others_one_argument():
    seen = []

    def target(city, unit="C"):
        seen.append((city, unit))
        return f"{city}:{unit}"

    dataset = Dataset(
        [Case("kw", {"city": "Paris", "unit": "F"}, expected="Paris:F"), Case("one", "Oslo")]
    )
    report = evaluate(target, dataset, evaluators=[ev.contains(":")])
    assert report.passed
    assert sorted(seen) == [("Oslo", "C"), ("Paris", "F")]


def test_chat_model_target_records_calls_usage_and_cost():
    model = FakeChatModel(["Sunny in Paris.", "Rainy in Oslo."])
    dataset = Dataset([Case("paris", "Weather in Paris?"), Case("oslo", "Weather in Oslo?")])
    seen_calls = []

    def one_call(ctx):
        seen_calls.append(len(ctx.calls))
        return ctx.usage["total_tokens"] > 0 and ctx.calls[0].messages[-1].text == ctx.inputs

    report = evaluate(model, dataset, evaluators=[one_call], max_concurrency=1)
    assert report.passed, report.summary()
    assert seen_calls == [1, 1]
    assert report.case("paris").usage["total_tokens"] > 0
    assert report.cost == 0.0  # fakes are free, not unknown
    run = report.case("paris").runs[0]
    assert run.calls[0]["model"].startswith("fake")
    assert run.calls[0]["output"] == "Sunny in Paris."


def test_unknown_price_is_none_not_zero():
    model = FakeChatModel(["ok"])
    model.provider = "acme"  # a provider with no price entry
    report = evaluate(model, Dataset([Case("a", "hi")]), evaluators=[lambda c: True])
    assert report.cost is None
    assert "cost unknown" in report.headline()


def test_judge_calls_are_split_from_the_target():
    target_model = FakeChatModel(["Paris is sunny."])
    judge_model = FakeChatModel(["pass"])

    def judged(ctx):
        verdict = judge_model.invoke(f"Is this good? {ctx.text}").text
        return verdict == "pass"

    report = evaluate(target_model, Dataset([Case("p", "Weather?")]), evaluators=[judged])
    case = report.case("p")
    assert case.status == "pass"
    assert case.usage["total_tokens"] > 0 and case.judge_usage["total_tokens"] > 0
    assert len(case.runs[0].calls) == 1  # only the target's call is in the run's calls
    assert report.judge_usage == case.judge_usage


# -- what evaluators return -------------------------------------------------------------------


def test_evaluator_return_values():
    def many(ctx):
        return {"length": 0.9, "label": "short", "ok": True}

    def scored(ctx):
        return EvalResult(score=0.3, reason="too terse")

    dataset = Dataset([Case("a", "hi")])
    report = evaluate(str.upper, dataset, evaluators=[many, scored])
    run = report.cases[0].runs[0]
    by_name = {r.name: r for r in run.results}
    assert by_name["many.length"].passed and by_name["many.length"].score == 0.9
    assert by_name["many.label"].status == "info" and by_name["many.label"].label == "short"
    assert by_name["scored"].passed is False and by_name["scored"].reason == "too terse"
    assert report.cases[0].status == "fail"
    assert report.cases[0].scores == {"many.length": 0.9, "many.ok": 1.0, "scored": 0.3}


def test_min_score_on_an_evaluator_sets_its_threshold():
    def lenient(ctx):
        return 0.3

    lenient.min_score = 0.25
    report = evaluate(str.upper, Dataset([Case("a", "hi")]), evaluators=[lenient])
    assert report.passed


@pytest.mark.parametrize("bad", [1.5, float("nan"), -0.1, object()])
def test_bad_evaluator_values_are_errors_not_scores(bad):
    report = evaluate(str.upper, Dataset([Case("a", "hi")]), evaluators=[lambda c: bad])
    case = report.cases[0]
    assert case.status == "error"
    assert case.scores == {}
    assert "lambda" in case.errors[0]


def test_raising_evaluator_errors_the_case_and_other_evaluators_still_run():
    def broken(ctx):
        raise RuntimeError("judge offline")

    report = evaluate(str.upper, shout_dataset(1), evaluators=[broken])
    case = report.cases[0]
    assert case.status == "error"
    assert case.errors == ["repeat 0: broken: RuntimeError: judge offline"]
    assert case.scores == {"equals": 1.0}  # the dataset's evaluator still scored
    assert not report.passed and report.errors == [case]


async def test_async_evaluators_are_awaited():
    async def slow_ok(ctx):
        await asyncio.sleep(0.001)
        return ctx.output == ctx.expected

    report = await aevaluate(str.upper, shout_dataset(3), evaluators=[slow_ok])
    assert report.passed and set(report.scores) == {"equals", "slow_ok"}


def test_target_errors_are_isolated_per_case():
    def sometimes(text):
        if text == "hello 1":
            raise ValueError("bad input")
        return text.upper()

    report = evaluate(sometimes, shout_dataset(3))
    assert report.counts["error"] == 1 and report.counts["pass"] == 2
    assert report.case("c1").errors == [
        "repeat 0: target: ValueError: bad input (at test_runner.py:178 in sometimes)"
    ]
    assert not report.passed
    tolerant = evaluate(sometimes, shout_dataset(3), min_pass_rate=0.6, max_error_rate=0.34)
    assert tolerant.passed


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_timeout_errors_the_slow_run(kind):
    if kind == "sync":

        def target(text):
            time.sleep(0.5 if text == "hello 0" else 0)
            return text.upper()
    else:

        async def target(text):
            await asyncio.sleep(0.5 if text == "hello 0" else 0)
            return text.upper()

    report = evaluate(target, shout_dataset(2), timeout=0.05)
    assert report.case("c0").status == "error"
    assert "timeout=0.05s" in report.case("c0").errors[0]
    assert report.case("c1").status == "pass"


# -- repeats and gates ------------------------------------------------------------------------


def flaky_model() -> FunctionChatModel:
    # seeded per run: the same runs pass and fail every time the eval is run
    return FunctionChatModel(
        lambda messages, info: "right" if random.Random(info.seed).random() < 0.5 else "wrong"
    )


def test_seeded_flaky_fake_gives_flaky_and_the_same_fingerprint_twice():
    dataset = Dataset([Case(f"q{i}", f"question {i}", expected="right") for i in range(6)])
    first = evaluate(flaky_model(), dataset, evaluators=[ev.equals()], repeat=5)
    second = evaluate(flaky_model(), dataset, evaluators=[ev.equals()], repeat=5)
    assert first.fingerprint == second.fingerprint
    assert [c.passes for c in first.cases] == [c.passes for c in second.cases]
    assert first.counts["flaky"] >= 1
    flaky = next(c for c in first.cases if c.status == "flaky")
    assert 0 < flaky.passes < 5
    assert f"{flaky.passes}/5 runs passed" in flaky.summary()
    assert "equals: expected 'right', got 'wrong'" in flaky.summary()
    other_seed = evaluate(flaky_model(), dataset, evaluators=[ev.equals()], repeat=5, seed=1)
    assert other_seed.fingerprint != first.fingerprint


def test_k_of_n_gate_per_case():
    outcomes = iter([True, True, False, True, True])

    def four_of_five(ctx):
        return next(outcomes)

    dataset = Dataset([Case("a", "hi")])
    report = evaluate(
        str.upper,
        dataset,
        evaluators=[four_of_five],
        repeat=5,
        min_pass_rate=0.8,
        max_concurrency=1,
    )
    case = report.cases[0]
    assert (case.status, case.passes, case.repeats) == ("pass", 4, 5)
    assert case.pass_at(1) == pytest.approx(0.8)
    assert case.pass_pow(2) == pytest.approx(0.6)
    low, high = case.interval
    assert low < 0.8 < high


def test_case_repeat_overrides_run_repeat():
    calls = []
    dataset = Dataset([Case("once", "a", repeat=1), Case("thrice", "b")])
    report = evaluate(
        lambda x: calls.append(x) or x, dataset, evaluators=[lambda c: True], repeat=3
    )
    assert sorted(calls) == ["a", "b", "b", "b"]
    assert report.case("once").repeats == 1 and report.case("thrice").repeats == 3
    assert report.runs == 4


def test_case_evaluators_add_to_dataset_evaluators():
    dataset = Dataset(
        [Case("a", "hi", expected="HI", evaluators=[ev.contains("H")])], evaluators=[ev.equals()]
    )
    report = evaluate(str.upper, dataset, evaluators=[ev.is_json()])
    names = [r.name for r in report.cases[0].runs[0].results]
    assert names == ["is_json", "equals", "contains('H')"]


def test_duplicate_evaluator_names_are_made_unique():
    report = evaluate(str.upper, shout_dataset(1), evaluators=[ev.equals(), ev.equals()])
    assert set(report.scores) == {"equals", "equals#2", "equals#3"}


# -- concurrency, rate limits, retries --------------------------------------------------------


async def test_concurrency_is_bounded():
    in_flight = 0
    peak = 0

    async def target(x):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return x

    dataset = Dataset([Case(f"c{i}", i) for i in range(40)])
    report = await aevaluate(target, dataset, evaluators=[lambda c: True], max_concurrency=7)
    assert report.passed and peak == 7


def test_slow_sync_targets_move_to_threads_and_run_concurrently():
    threads = set()
    lock = threading.Lock()

    def target(x):
        with lock:
            threads.add(threading.get_ident())
        time.sleep(0.02)
        return x

    dataset = Dataset([Case(f"c{i}", i) for i in range(20)])
    started = time.perf_counter()
    report = evaluate(target, dataset, evaluators=[lambda c: True], max_concurrency=10)
    assert report.passed
    assert len(threads) > 1
    assert time.perf_counter() - started < 20 * 0.02  # not one after another


def test_rate_limiter_is_acquired_once_per_run():
    class Counting(InMemoryRateLimiter):
        count = 0

        async def aacquire(self, *, blocking: bool = True) -> bool:
            Counting.count += 1
            return True

    evaluate(str.upper, shout_dataset(3), repeat=2, rate_limiter=Counting(requests_per_second=100))
    assert Counting.count == 6


def test_retry_policy_retries_retryable_target_errors():
    attempts = []

    def target(text):
        attempts.append(text)
        if len(attempts) == 1:
            raise RateLimitError("slow down", status_code=429, retry_after=0.0)
        return text.upper()

    report = evaluate(target, shout_dataset(1), retry=RetryPolicy(max_retries=2))
    assert report.passed and len(attempts) == 2
    attempts.clear()
    without = evaluate(target, shout_dataset(1))
    assert without.counts["error"] == 1 and "RateLimitError" in without.cases[0].errors[0]


def test_progress_callback_sees_every_run():
    seen = []
    evaluate(
        str.upper,
        shout_dataset(3),
        repeat=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(i, 6) for i in range(1, 7)]


# -- results file and resume ------------------------------------------------------------------


def test_results_stream_to_jsonl_and_the_report_reads_them_back(tmp_path):
    path = tmp_path / "runs.jsonl"
    report = evaluate(str.upper, shout_dataset(3, bad=1), repeat=2, results_path=path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["type"] == "header"
    assert sorted((line["case"], line["repeat"]) for line in lines[1:]) == sorted(
        (name, r) for name in ("c0", "c1", "c2", "bad0") for r in (0, 1)
    )
    assert [c.name for c in report.cases] == ["c0", "c1", "c2", "bad0"]
    assert report.case("bad0").status == "fail" and report.case("c0").expected == "HELLO 0"
    in_memory = evaluate(str.upper, shout_dataset(3, bad=1), repeat=2)
    assert report.fingerprint == in_memory.fingerprint


KILLED_RUN = """
import os, signal, sys
sys.path.insert(0, {src!r})
from myna.evals import Case, Dataset, evaluate, evaluators as ev

def target(text):
    if text == "hello 6":
        os.kill(os.getpid(), signal.SIGKILL)   # killed half way, mid-run
    return text.upper()

dataset = Dataset([Case(f"c{{i}}", f"hello {{i}}", expected=f"HELLO {{i}}") for i in range(12)],
                  evaluators=[ev.equals()])
evaluate(target, dataset, results_path={path!r}, max_concurrency=1)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_resume_after_a_run_killed_half_way(tmp_path):
    path = tmp_path / "runs.jsonl"
    src = str(Path(__file__).resolve().parents[2] / "src")
    script = textwrap.dedent(KILLED_RUN.format(src=src, path=str(path)))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode != 0  # it really died
    finished = [json.loads(line)["case"] for line in path.read_text().splitlines()[1:]]
    assert finished == [f"c{i}" for i in range(6)]
    with open(path, "a") as handle:
        handle.write('{"case": "c6", "repe')  # a torn last line, as a kill mid-write leaves

    ran = []
    report = evaluate(
        lambda text: ran.append(text) or text.upper(),
        Dataset(
            [Case(f"c{i}", f"hello {i}", expected=f"HELLO {i}") for i in range(12)],
            evaluators=[ev.equals()],
        ),
        results_path=path,
        resume=True,
    )
    assert sorted(ran) == sorted(f"hello {i}" for i in range(6, 12))
    assert report.passed and report.total == 12
    for line in path.read_text().splitlines():
        json.loads(line)  # the torn line was cut before appending


def test_resume_with_retry_errors_reruns_only_errored_runs(tmp_path):
    path = tmp_path / "runs.jsonl"
    broken = {"hello 1"}

    def target(text):
        if text in broken:
            raise ConnectionError("network blip")
        return text.upper()

    first = evaluate(target, shout_dataset(3), results_path=path)
    assert first.counts["error"] == 1
    broken.clear()
    ran = []

    def counting(text):
        ran.append(text)
        return target(text)

    kept = evaluate(counting, shout_dataset(3), results_path=path, resume=True)
    assert ran == [] and kept.counts["error"] == 1
    retried = evaluate(
        counting, shout_dataset(3), results_path=path, resume=True, retry_errors=True
    )
    assert ran == ["hello 1"] and retried.passed


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"repeat": 0}, "repeat=0 must be a whole number >= 1"),
        ({"min_pass_rate": 1.5}, "min_pass_rate=1.5 must be a fraction between 0 and 1"),
        ({"max_concurrency": 0}, "max_concurrency=0"),
        ({"timeout": -1}, "timeout=-1"),
        ({"resume": True}, "needs results_path"),
        ({"evaluators": [42]}, "evaluator 42 is not callable"),
        ({"rate_limiter": object()}, "is not a rate limiter"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace("[", r"\[")):
        evaluate(str.upper, shout_dataset(1), **kwargs)


def test_bad_datasets_are_named():
    with pytest.raises(UserError, match="has no cases"):
        evaluate(str.upper, Dataset([]))
    with pytest.raises(UserError, match="two cases named 'a'"):
        Dataset([Case("a", 1), Case("a", 2)])
    with pytest.raises(UserError, match="non-empty string"):
        Case("", 1)
    with pytest.raises(UserError, match="not a Case"):
        Dataset([{"name": "a"}])
    with pytest.raises(UserError, match="target must be a function or a chat model"):
        evaluate(42, shout_dataset(1))
    with pytest.raises(KeyError, match="Did you mean 'c1'"):
        shout_dataset(2)["c11"]


def test_progress_bar_runs_and_stops(capsys):
    report = evaluate(str.upper, shout_dataset(3), progress=True)
    assert report.passed
    capsys.readouterr()  # the bar drew on the terminal stream and cleaned up


def test_no_progress_bar_by_default_off_a_terminal(capsys):
    evaluate(str.upper, shout_dataset(3))
    assert capsys.readouterr().err == ""


def test_fakes_follow_the_run_seed_so_repeats_differ_and_reruns_do_not():
    from myna.fakes import SchemaChatModel

    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    model = SchemaChatModel().with_structured_output(schema)
    dataset = Dataset([Case("a", "pick a number")])
    first = evaluate(model, dataset, evaluators=[lambda c: True], repeat=4)
    again = evaluate(model, dataset, evaluators=[lambda c: True], repeat=4)
    outputs = [run.output["n"] for run in first.cases[0].runs]
    assert outputs == [run.output["n"] for run in again.cases[0].runs]
    assert len(set(outputs)) > 1
