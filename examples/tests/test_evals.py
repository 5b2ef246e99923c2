"""The app's eval suite: one test per case of evals/trips.yaml, scored by the dataset's
evaluators, a Python check, and an LLM judge whose verdicts are replayed from a cassette.

Run it with ``pytest examples``; add ``--myna-eval-report=eval-out`` for JSON, HTML and JUnit.
"""

from __future__ import annotations

import sys
from pathlib import Path

from weather_app import plan_trip

from myna.evals import EvalContext, cases, evaluate

EVALS = Path(__file__).resolve().parents[1] / "evals"
sys.path.insert(0, str(EVALS))

from planner import planner  # noqa: E402
from record_judge import advice_judge  # noqa: E402


def right_city(ctx: EvalContext) -> bool:
    """The advice is about the city asked about."""
    return ctx.output.city == ctx.expected["city"]


@cases(EVALS / "trips.yaml", evaluators=[right_city, advice_judge()])
def test_trip_advice(case) -> None:
    case.check(lambda question: plan_trip(question, model=planner()))


def test_the_whole_eval_replays_to_the_same_fingerprint(tmp_path) -> None:
    """A whole eval run is deterministic: fakes plus frozen judge verdicts."""
    runs = [
        evaluate(
            lambda question: plan_trip(question, model=planner()),
            EVALS / "trips.yaml",
            evaluators=[right_city, advice_judge()],
            repeat=2,
        )
        for _ in range(2)
    ]
    assert runs[0].passed, runs[0].summary()
    assert runs[0].fingerprint == runs[1].fingerprint
    assert runs[0].judge_usage["total_tokens"] > 0  # the judge's tokens, kept apart
    html = runs[0].to_html(tmp_path / "trips.html").read_text()
    assert "paris-warm" in html
