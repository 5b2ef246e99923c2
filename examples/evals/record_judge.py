"""Record the judge's verdicts for the eval suite into evals/cassettes/trips-judge.yaml.

This one records against myna's OpenAI emulator (offline, scripted verdicts), so the example
stays free. Against the real judge it is the same run with a real key:

    OPENAI_API_KEY=sk-... MYNA_RECORD_MODE=all python examples/evals/record_judge.py --live

Afterwards the suite replays the verdicts with no key and no network; a changed app output is
a replay miss that names what changed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from planner import planner  # noqa: E402
from weather_app import plan_trip  # noqa: E402

from myna.emulators import emulate  # noqa: E402
from myna.evals import Dataset, evaluate  # noqa: E402
from myna.evals import evaluators as ev  # noqa: E402

RUBRIC = (
    "The advice suits the temperature: sun protection or light clothes when it is warm "
    "(above 18C), warm clothes when it is cold."
)
CASSETTE = HERE / "cassettes" / "trips-judge.yaml"


def advice_judge(mode: str | None = None) -> ev.Evaluator:
    """The suite's judge: verdicts frozen in the cassette, replayed offline."""
    return ev.judge(
        RUBRIC, model="openai:gpt-4.1-mini", cassette=CASSETTE, mode=mode, name="advice"
    )


def app(question: str):
    return plan_trip(question, model=planner())


REPEATS = 2
"""Verdicts are recorded per repeat: a repeated run is judged again, not copied."""

VERDICTS = [  # in call order: case by case, each case's repeats in turn
    {"reason": "21C is warm; sunglasses suit it.", "choice": "pass"},
    {"reason": "Sunglasses fit a warm 21C day.", "choice": "pass"},
    {"reason": "4C is cold; a warm coat suits it.", "choice": "pass"},
    {"reason": "A coat is right for 4C.", "choice": "pass"},
    {"reason": "26C is hot; sunglasses suit it.", "choice": "pass"},
    {"reason": "Sun protection suits 26C.", "choice": "pass"},
    {"reason": "15C is cool; a warm coat is sensible.", "choice": "pass"},
    {"reason": "A coat is reasonable at 15C.", "choice": "pass"},
]

if __name__ == "__main__":
    dataset = Dataset.load(HERE / "trips.yaml")
    if "--live" in sys.argv:
        report = evaluate(
            app, dataset, evaluators=[advice_judge("all")], repeat=REPEATS, max_concurrency=1
        )
    else:
        os.environ.setdefault("OPENAI_API_KEY", "emulator-key")
        with emulate("openai", script=VERDICTS):
            report = evaluate(
                app, dataset, evaluators=[advice_judge("all")], repeat=REPEATS, max_concurrency=1
            )
    report.print()
    sys.exit(0 if report.passed else 1)
