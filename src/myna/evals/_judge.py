"""LLM judges: `Judge` grades an output against a rubric, `Pairwise` prefers it or a baseline's.

A judge answers with a structured verdict ``{reason, choice}``, one of a few discrete choices
mapped to scores (more stable than asking for a float). Its verdicts can be frozen in the repo:
with ``cassette=...`` the judge's own HTTP traffic is recorded once (against the real provider,
or an emulator) and replayed offline afterwards. The prompt carries everything a verdict
depends on (prompt version, case, repeat index, judge model, rubric, input, expected, output),
so the recorded request is keyed on all of it: a changed output is a replay miss that names
what changed, never a stale verdict.

The cassette is *scoped*: only the judge's requests reach it, so the target's own traffic
(a fake, an emulator, another cassette) runs beside it undisturbed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..exceptions import UserError
from ._context import DEFAULT_MIN_SCORE, EvalContext, EvalResult
from ._verdicts import (
    _REPLAY_KEY,
    JUDGE_PROMPT_VERSION,
    _explain_miss,
    _prompt,
    _render,
    _VerdictError,
    _Verdicts,
)
from .evaluators import Evaluator

__all__ = ["JUDGE_PROMPT_VERSION", "Judge", "Pairwise"]


DEFAULT_CHOICES: dict[str, float] = {"pass": 1.0, "fail": 0.0}

_JUDGE_SYSTEM = """\
You are an impartial judge grading the output of an AI application against a rubric.
Judge only what the rubric asks. Use the input and the expected answer, when given, as \
context. Do not reward length or style the rubric does not ask for.
Reply with JSON: "reason", one or two sentences explaining your decision, then "choice", \
exactly one of the choices listed at the end of the message."""

_PAIRWISE_SYSTEM = """\
You are an impartial judge comparing two outputs, A and B, given for the same input, against \
a rubric. Their order says nothing about them: do not let the position or the length of an \
output sway you.
Reply with JSON: "reason", one or two sentences explaining your decision, then "choice": \
"A" if output A is better, "B" if output B is better, "tie" if neither is better."""

_PAIRWISE_CHOICES = ("A", "B", "tie")
_OUTCOME_SCORE = {"win": 1.0, "tie": 0.5, "lose": 0.0}

# -- the shared machinery ----------------------------------------------------------------------


def _model_id(model: Any) -> str:
    """``provider:model`` of a chat model (or of the model under a bound one)."""
    inner = model
    for _ in range(5):
        name = getattr(inner, "model", None)
        if name is None or isinstance(name, str):
            break
        inner = name
    provider = getattr(inner, "provider", None) or "custom"
    name = getattr(inner, "model", None)
    return f"{provider}:{name if isinstance(name, str) and name else type(inner).__name__}"


def _schema(name: str, choices: list[str]) -> dict[str, Any]:
    return {
        "title": name,
        "type": "object",
        "properties": {
            "reason": {"type": "string", "description": "One or two sentences: why this choice."},
            "choice": {"type": "string", "enum": choices},
        },
        "required": ["reason", "choice"],
        "additionalProperties": False,
    }


def _check_min_score(min_score: Any, owner: str) -> float:
    if min_score is None:
        return DEFAULT_MIN_SCORE
    if isinstance(min_score, bool) or not isinstance(min_score, (int, float)):
        raise UserError(f"{owner}(min_score={min_score!r}) must be a number in [0, 1].")
    if not 0.0 <= min_score <= 1.0:
        raise UserError(f"{owner}(min_score={min_score!r}) must be in [0, 1].")
    return float(min_score)


class _LLMJudge(Evaluator):
    """What `Judge` and `Pairwise` share: the model, the cassette, asking and parsing."""

    kind = "judge"
    system = _JUDGE_SYSTEM
    schema_name = "Verdict"

    def _setup(
        self,
        owner: str,
        rubric: Any,
        model: Any,
        choice_names: list[str],
        name: str | None,
        cassette: str | Path | None,
        mode: str | None,
        include_input: bool,
        include_expected: bool,
    ) -> None:
        if not isinstance(rubric, str) or not rubric.strip():
            raise UserError(
                f"{owner}() needs a rubric: the question the judge answers about each output, "
                f"e.g. {owner}('The answer names the weather in the city asked about.', ...)."
            )
        if model is None:
            raise UserError(
                f"{owner}() needs model=: a model string like 'openai:gpt-4.1-mini' or any "
                "myna chat model. In tests pass a fake that scripts the verdicts, e.g. "
                f"model=FakeChatModel([{{'reason': 'names the weather', 'choice': "
                f"'{choice_names[0]}'}}]) (from myna.fakes), or record real verdicts once "
                "with cassette='cassettes/judge.yaml'."
            )
        if isinstance(model, str):
            from ..models import parse_model_string

            provider, model_name = parse_model_string(model)  # a bad string fails here, early
            self.model_id = f"{provider}:{model_name}"
        elif hasattr(model, "with_structured_output"):
            self.model_id = _model_id(model)
        else:
            raise UserError(
                f"{owner}(model={model!r}): a judge model is a model string like "
                "'openai:gpt-4.1-mini' or a myna chat model (anything with "
                "with_structured_output)."
            )
        if name is not None and (not isinstance(name, str) or not name):
            raise UserError(f"{owner}(name={name!r}) must be a non-empty string.")
        self.rubric = rubric
        self.model = model
        self.name = name or owner
        self.include_input = include_input
        self.include_expected = include_expected
        self.verdicts = _Verdicts(cassette, mode) if cassette is not None else None
        self._choice_names = choice_names
        self._runnable: Any = None
        self._lock = threading.Lock()

    # -- naming ----------------------------------------------------------------------------

    def _who(self) -> str:
        return self.name if self.name == self.kind else f"{self.kind} {self.name!r}"

    def _where(self, ctx: EvalContext) -> str:
        return f"case {ctx.name!r} repeat {ctx.repeat_index}"

    def to_spec(self) -> Any:
        if not isinstance(self.model, str):
            raise UserError(
                f"{self._who()} has a model object, which a dataset file cannot hold; give "
                "it as a string (model='openai:gpt-4.1-mini') to save it in a file."
            )
        return super().to_spec()

    # -- asking ----------------------------------------------------------------------------

    def _structured(self) -> Any:
        with self._lock:
            if self._runnable is None:
                model = self.model
                if isinstance(model, str):
                    from ..models import init_chat_model

                    replaying = self.verdicts is not None and self.verdicts.plan() == "none"
                    options = {"api_key": _REPLAY_KEY} if replaying else {}
                    model = init_chat_model(model, **options)
                self._runnable = model.with_structured_output(
                    _schema(self.schema_name, self._choice_names), include_raw=True
                )
            return self._runnable

    def _fields(self, ctx: EvalContext) -> dict[str, Any]:
        expected = None
        if self.include_expected and ctx.expected is not None:
            expected = _render(ctx.expected)
        return {
            "kind": self.kind,
            "version": JUDGE_PROMPT_VERSION,
            "case": ctx.name,
            "repeat": ctx.repeat_index,
            "model": self.model_id,
            "rubric": self.rubric,
            "input": _render(ctx.inputs) if self.include_input else None,
            "expected": expected,
            "choices": ", ".join(self._choice_names),
        }

    def _messages(self, fields: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [("system", self.system), ("human", _prompt(self.kind, fields, fields["choices"]))]

    @contextlib.contextmanager
    def _frozen(self, ctx: EvalContext, fields: Mapping[str, Any]) -> Iterator[None]:
        """Run one judge call in its cassette session; turn a replay miss into a named error."""
        if self.verdicts is None:
            yield
            return
        session = None
        try:
            with self.verdicts.session() as session:
                yield
        except Exception:
            if session is not None and session.misses:
                raise self._miss(ctx, fields, session) from None
            raise
        if session.misses:  # the model's client swallowed the miss: still a miss
            raise self._miss(ctx, fields, session)

    def _miss(self, ctx: EvalContext, fields: Mapping[str, Any], session: Any) -> _VerdictError:
        assert self.verdicts is not None
        if session.path.exists():
            why = _explain_miss(session.interactions, fields)
        else:
            why = "the cassette file does not exist yet"
        return _VerdictError(
            f"{self._who()}: no recorded verdict for {self._where(ctx)} in {session.path}: "
            f"{why}. {self.verdicts.hint(type(self).__name__)}."
        )

    def _choice(self, answer: Any, ctx: EvalContext) -> tuple[str, str]:
        """(choice, reason) from the structured answer; a bad or missing choice raises."""
        parsed, error = answer.get("parsed"), answer.get("parsing_error")
        if parsed is not None:
            return str(parsed["choice"]), str(parsed.get("reason") or "")
        raw = answer.get("raw")
        choice: Any = None
        try:
            data = json.loads(raw.text) if raw is not None else None
            if isinstance(data, Mapping):
                choice = data.get("choice")
        except ValueError:
            pass
        if choice is not None and choice not in self._choice_names:
            raise _VerdictError(
                f"{self._who()} answered {choice!r} for {self._where(ctx)}, which is not one of "
                f"its choices ({', '.join(self._choice_names)}); a stronger judge model or a "
                "clearer rubric helps."
            )
        raise _VerdictError(f"{self._who()} gave no verdict for {self._where(ctx)}: {error}")

    async def _ask(self, ctx: EvalContext, fields: dict[str, Any]) -> tuple[str, str]:
        runnable = self._structured()
        with self._frozen(ctx, fields):
            answer = await runnable.ainvoke(self._messages(fields))
        return self._choice(answer, ctx)

    def _ask_sync(self, ctx: EvalContext, fields: dict[str, Any]) -> tuple[str, str]:
        runnable = self._structured()
        with self._frozen(ctx, fields):
            answer = runnable.invoke(self._messages(fields))
        return self._choice(answer, ctx)


class Judge(_LLMJudge):
    """An LLM judge: grades each output against `rubric` with one of a few discrete choices.

    ```python
    from myna.evals import evaluate, evaluators as ev

    polite = ev.judge(
        "The answer is polite and names the weather.",
        model="openai:gpt-4.1-mini",
        choices={"pass": 1.0, "partial": 0.5, "fail": 0.0},
        cassette="tests/cassettes/evals/weather-judge.yaml",  # verdicts frozen in the repo
        name="polite",
    )
    report = evaluate(app, dataset, evaluators=[polite])
    ```

    The judge model answers ``{reason, choice}`` (structured output, the choice an enum of
    `choices`); the result has ``label=choice``, ``score=choices[choice]``, ``reason`` and
    ``passed = score >= min_score``. A choice that is not one of `choices` is an error (status
    ``error``, never a score of 0) naming the bad choice.

    **Frozen verdicts.** With ``cassette=path`` the judge's HTTP traffic is recorded to that
    YAML cassette and replayed from it, offline and with no API key (a judge model given as a
    string gets a placeholder key while it only replays). `mode` is the record mode, as for
    `myna.cassettes.Cassette`; default ``MYNA_RECORD_MODE``, else ``"none"`` when ``CI`` is
    set, else ``"once"``:

    - ``"once"``: record every verdict if the file does not exist at the process's first
      judge call (the rest of the process then keeps recording to it), else replay only;
    - ``"none"``: replay only; ``"new_episodes"``: replay, and record what is missing;
    - ``"all"``: re-record every verdict (the file is emptied at the process's first call).

    A relative `cassette` path is relative to the working directory. The pytest option
    ``--myna-record-mode`` does not reach judges: set ``MYNA_RECORD_MODE`` (or `mode`).

    To record: run once with a key (``OPENAI_API_KEY=... MYNA_RECORD_MODE=once pytest``) or
    against an emulator scripting the verdicts (``with myna.emulators.emulate("openai",
    script=[{"reason": "...", "choice": "pass"}, ...]):``); then commit the cassette. The
    request is keyed on the prompt version, case name, repeat index, judge model, rubric,
    choices, input, expected and output, so each repeat has its own verdict and a changed
    output is a replay miss, an error naming what changed. Only the judge's own requests reach
    the cassette (it is scoped to the judge call), not the target's.

    Args:
        rubric: what the judge checks, in plain words.
        model: a model string for `myna.models.init_chat_model` or any myna chat model
            (a fake in tests: ``FakeChatModel([{"reason": "...", "choice": "pass"}])``).
        choices: choice name -> score in [0, 1]; default ``{"pass": 1.0, "fail": 0.0}``.
        min_score: a score at or above it passes; default 0.5 (as for every evaluator), so
            ``partial: 0.5`` passes; use ``min_score=1.0`` to make it fail.
        include_input, include_expected: show the case's inputs / expected to the judge.
        name: the result's name (default ``"judge"``).
        cassette, mode: where verdicts are frozen, and the record mode (above).

    Calling: ``await judge(ctx)`` (the runner does it, so many cases are judged at once) or
    ``judge.evaluate_sync(ctx)`` outside an event loop.
    """

    spec_name = "judge"

    def __init__(
        self,
        rubric: str,
        model: Any = None,
        *,
        choices: Mapping[str, float] | None = None,
        min_score: float | None = None,
        include_input: bool = True,
        include_expected: bool = True,
        name: str | None = None,
        cassette: str | Path | None = None,
        mode: str | None = None,
    ) -> None:
        super().__init__(
            rubric=rubric,
            model=model,
            choices=dict(choices) if choices is not None else None,
            min_score=min_score,
            include_input=None if include_input else False,
            include_expected=None if include_expected else False,
            name=name,
            cassette=str(cassette) if cassette is not None else None,
            mode=mode,
        )
        self.choices = self._check_choices(choices)
        self.min_score = _check_min_score(min_score, "judge")
        self._setup(
            "judge",
            rubric,
            model,
            list(self.choices),
            name,
            cassette,
            mode,
            include_input,
            include_expected,
        )

    @staticmethod
    def _check_choices(choices: Mapping[str, float] | None) -> dict[str, float]:
        if choices is None:
            return dict(DEFAULT_CHOICES)
        if not isinstance(choices, Mapping) or len(choices) < 2:
            raise UserError(
                f"judge(choices={choices!r}) must map at least two choice names to scores, "
                "e.g. {'pass': 1.0, 'partial': 0.5, 'fail': 0.0}."
            )
        checked: dict[str, float] = {}
        for key, score in choices.items():
            if not isinstance(key, str) or not key.strip():
                raise UserError(f"judge(choices=...): choice names are non-empty strings: {key!r}.")
            if (
                isinstance(score, bool)
                or not isinstance(score, (int, float))
                or not 0.0 <= score <= 1.0
            ):
                raise UserError(
                    f"judge(choices=...): the score of {key!r} is {score!r}; scores are "
                    "numbers in [0, 1]."
                )
            checked[key] = float(score)
        return checked

    def _result(self, choice: str, reason: str) -> EvalResult:
        score = self.choices[choice]
        return EvalResult(passed=score >= self.min_score, score=score, reason=reason, label=choice)

    def _judged(self, ctx: EvalContext) -> dict[str, Any]:
        return {**self._fields(ctx), "output": _render(ctx.output)}

    async def __call__(self, ctx: EvalContext) -> EvalResult:
        """Grade `ctx.output` (awaited by the runner; use `evaluate_sync` without a loop)."""
        try:
            return self._result(*await self._ask(ctx, self._judged(ctx)))
        except _VerdictError as exc:
            return EvalResult(error=str(exc))

    def evaluate_sync(self, ctx: EvalContext) -> EvalResult:
        """Grade `ctx.output` with the model's sync API (no event loop needed)."""
        try:
            result = self._result(*self._ask_sync(ctx, self._judged(ctx)))
        except _VerdictError as exc:
            return EvalResult(name=self.name, error=str(exc))
        return EvalResult(result.passed, result.score, result.reason, result.label, self.name)


class Pairwise(_LLMJudge):
    """An LLM judge comparing each output with a baseline's, asked in both orders.

    ```python
    from myna.evals import Report, evaluators as ev

    better = ev.pairwise(
        "The answer is more helpful to a traveller.",
        model="openai:gpt-4.1-mini",
        baseline=Report.load("reports/main.json"),   # or {case name: output}, or a function
        cassette="tests/cassettes/evals/pairwise.yaml",
    )
    ```

    The judge sees the output as A and the baseline's as B, then the other way round. The
    outcome is ``win`` (score 1), ``tie`` (0.5) or ``lose`` (0) when both orders agree. When
    they disagree (position bias: the judge preferred whatever came first, say), the label is
    ``"inconsistent"``, the score 0.5 (as a tie) and the reason says so and gives both
    answers. ``passed = score >= min_score``: by default, not worse than the baseline; pass
    ``min_score=1.0`` to require a win. An output identical to the baseline's is a tie without
    asking the judge.

    Args:
        rubric: what "better" means, in plain words.
        model: a model string or a myna chat model (see `Judge`).
        baseline: the output to beat: a function of the `EvalContext` (sync or async), a
            mapping case name -> output, a `Report` (its run outputs; the same repeat, else
            its first) or the path of a saved report.
        min_score, include_input, include_expected, name, cassette, mode: as for `Judge`.
    """

    spec_name = "pairwise"
    kind = "pairwise"
    system = _PAIRWISE_SYSTEM
    schema_name = "Preference"

    def __init__(
        self,
        rubric: str,
        model: Any = None,
        *,
        baseline: Any = None,
        min_score: float | None = None,
        include_input: bool = True,
        include_expected: bool = True,
        name: str | None = None,
        cassette: str | Path | None = None,
        mode: str | None = None,
    ) -> None:
        super().__init__(
            rubric=rubric,
            model=model,
            baseline=str(baseline) if isinstance(baseline, (str, Path)) else None,
            min_score=min_score,
            include_input=None if include_input else False,
            include_expected=None if include_expected else False,
            name=name,
            cassette=str(cassette) if cassette is not None else None,
            mode=mode,
        )
        if baseline is None:
            raise UserError(
                "pairwise() needs baseline=: the outputs to compare with, as a function of the "
                "EvalContext, a mapping case name -> output, a Report, or a saved report's path."
            )
        if not (
            callable(baseline)
            or isinstance(baseline, (Mapping, str, Path))
            or hasattr(baseline, "cases")
        ):
            raise UserError(
                f"pairwise(baseline={baseline!r}): use a function of the EvalContext, a mapping "
                "case name -> output, a Report, or a saved report's path."
            )
        self.baseline = baseline
        self._outputs: dict[str, dict[int, Any]] | None = None
        self.min_score = _check_min_score(min_score, "pairwise")
        self._setup(
            "pairwise",
            rubric,
            model,
            list(_PAIRWISE_CHOICES),
            name,
            cassette,
            mode,
            include_input,
            include_expected,
        )

    def to_spec(self) -> Any:
        if not isinstance(self.baseline, (str, Path)):
            raise UserError(
                f"{self._who()} has a baseline object, which a dataset file cannot hold; give "
                "it as the path of a saved report to save it in a file."
            )
        return super().to_spec()

    # -- the baseline ----------------------------------------------------------------------

    def _report_outputs(self) -> dict[str, dict[int, Any]]:
        with self._lock:
            if self._outputs is None:
                report = self.baseline
                if isinstance(report, (str, Path)):
                    from ._report import Report

                    report = Report.load(report)
                self._outputs = {
                    case.name: {run.repeat: run.output for run in case.runs if run.error is None}
                    for case in report.cases
                }
            return self._outputs

    def _missing(self, ctx: EvalContext) -> _VerdictError:
        return _VerdictError(
            f"{self._who()}: the baseline has no output for case {ctx.name!r}; add it to the "
            "baseline, or give the case its own evaluators."
        )

    def _from_table(self, ctx: EvalContext) -> Any:
        if isinstance(self.baseline, Mapping):
            if ctx.name not in self.baseline:
                raise self._missing(ctx)
            return self.baseline[ctx.name]
        runs = self._report_outputs().get(ctx.name)
        if not runs:
            raise self._missing(ctx)
        return runs.get(ctx.repeat_index, runs[min(runs)])

    def _is_function(self) -> bool:
        return callable(self.baseline) and not isinstance(self.baseline, Mapping)

    # -- judging ---------------------------------------------------------------------------

    def _orders(self, ctx: EvalContext, other: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        fields = self._fields(ctx)
        mine, theirs = _render(ctx.output), _render(other)
        first = {**fields, "output_a": mine, "output_b": theirs}
        second = {**fields, "output_a": theirs, "output_b": mine}
        first["roles"] = {"output_a": "the judged output", "output_b": "the baseline output"}
        second["roles"] = {"output_a": "the baseline output", "output_b": "the judged output"}
        return first, second

    def _result(self, first: tuple[str, str], second: tuple[str, str]) -> EvalResult:
        one = {"A": "win", "B": "lose", "tie": "tie"}[first[0]]
        two = {"A": "lose", "B": "win", "tie": "tie"}[second[0]]
        reason = f"output as A: {one} ({first[1]}); output as B: {two} ({second[1]})"
        if one == two:
            label, score = one, _OUTCOME_SCORE[one]
        else:
            label, score = "inconsistent", 0.5
            reason += "; the two orders disagree (position bias), counted as a tie"
        return EvalResult(passed=score >= self.min_score, score=score, reason=reason, label=label)

    def _identical(self, ctx: EvalContext, other: Any) -> EvalResult | None:
        if _render(ctx.output) != _render(other):
            return None
        return EvalResult(
            passed=0.5 >= self.min_score,
            score=0.5,
            reason="the output is identical to the baseline's (not judged)",
            label="tie",
        )

    async def __call__(self, ctx: EvalContext) -> EvalResult:
        """Compare `ctx.output` with the baseline's, in both orders, concurrently."""
        try:
            if self._is_function():
                other = self.baseline(ctx)
                if inspect.isawaitable(other):
                    other = await other
            else:
                other = self._from_table(ctx)
            same = self._identical(ctx, other)
            if same is not None:
                return same
            first, second = self._orders(ctx, other)
            answers = await asyncio.gather(self._ask(ctx, first), self._ask(ctx, second))
            return self._result(*answers)
        except _VerdictError as exc:
            return EvalResult(error=str(exc))

    def evaluate_sync(self, ctx: EvalContext) -> EvalResult:
        """Compare `ctx.output` with the baseline's using the model's sync API."""
        try:
            if self._is_function():
                other = self.baseline(ctx)
                if inspect.isawaitable(other):
                    if inspect.iscoroutine(other):
                        other.close()
                    raise UserError(
                        f"{self._who()}: the baseline function is async; await "
                        "pairwise(ctx) (as evaluate() does) instead of evaluate_sync."
                    )
            else:
                other = self._from_table(ctx)
            result = self._identical(ctx, other)
            if result is None:
                first, second = self._orders(ctx, other)
                result = self._result(self._ask_sync(ctx, first), self._ask_sync(ctx, second))
        except _VerdictError as exc:
            return EvalResult(name=self.name, error=str(exc))
        return EvalResult(result.passed, result.score, result.reason, result.label, self.name)
