"""Built-in evaluators. Each is a callable taking an `EvalContext` and returning an `EvalResult`
with a reason that says what was compared, so a failure explains itself.

```python
from myna.evals import evaluators as ev

checks = [ev.contains("sunny", ignore_case=True), ev.tool_called("get_weather", {"city": "Paris"})]
```

Any function of an `EvalContext` is an evaluator too; these are the common ones, and the ones
a dataset file can name (``contains: sunny``, ``judge: {rubric: ..., model: ...}``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import UserError
from ._context import EvalContext, EvalResult

__all__ = [
    "Evaluator",
    "close_to",
    "contains",
    "equals",
    "from_spec",
    "is_json",
    "judge",
    "matches_schema",
    "max_cost",
    "max_latency",
    "max_tokens",
    "no_tool_calls",
    "pairwise",
    "regex",
    "tool_called",
    "trajectory",
]

_EXPECTED = object()
"""Default `value` of comparing evaluators: compare with the case's `expected`."""


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain(value: Any) -> Any:
    """A message as its text, a pydantic model as its dict, anything else as is."""
    text = getattr(value, "text", None)
    if isinstance(text, str) and hasattr(value, "content"):
        return text
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump()
    return value


class Evaluator:
    """Base of the built-ins: a name, a file spec, an optional `min_score`, and `__call__`."""

    name: str = "evaluator"
    min_score: float | None = None
    spec_name: str = ""

    def __init__(self, **spec: Any) -> None:
        self._spec = {k: v for k, v in spec.items() if v is not _EXPECTED and v is not None}

    def __call__(self, ctx: EvalContext) -> Any:  # pragma: no cover - every subclass has one
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name

    def to_spec(self) -> Any:
        """How a dataset file writes this evaluator: ``{name: {args}}`` or just the name."""
        return {self.spec_name: self._spec} if self._spec else self.spec_name

    def _expected(self, ctx: EvalContext, value: Any) -> Any:
        if value is not _EXPECTED:
            return value
        if ctx.expected is None:
            raise UserError(
                f"{self.name}: case {ctx.name!r} has no expected value to compare with; give "
                "the case expected=..., or the evaluator a value."
            )
        return ctx.expected


class equals(Evaluator):
    """The output equals `value` (default: the case's `expected`).

    Messages compare by text and pydantic models by their fields; `ignore_case` and `strip`
    normalise strings.
    """

    spec_name = "equals"

    def __init__(self, value: Any = _EXPECTED, *, ignore_case: bool = False, strip: bool = True):
        super().__init__(
            value=value, ignore_case=ignore_case or None, strip=None if strip else False
        )
        self.value, self.ignore_case, self.strip = value, ignore_case, strip
        self.name = "equals" if value is _EXPECTED else f"equals({_short(value, 40)})"

    def _norm(self, value: Any) -> Any:
        value = _plain(value)
        if isinstance(value, str):
            if self.strip:
                value = value.strip()
            if self.ignore_case:
                value = value.casefold()
        return value

    def __call__(self, ctx: EvalContext) -> EvalResult:
        expected = self._expected(ctx, self.value)
        actual = self._norm(ctx.output)
        if actual == self._norm(expected):
            return EvalResult(True)
        return EvalResult(False, reason=f"expected {_short(expected)}, got {_short(actual)}")


class contains(Evaluator):
    """The output's text contains `value` (default: `expected`); a list needs all of them,
    or any of them with ``mode="any"``."""

    spec_name = "contains"

    def __init__(self, value: Any = _EXPECTED, *, ignore_case: bool = False, mode: str = "all"):
        if mode not in ("all", "any"):
            raise UserError(f"contains(mode={mode!r}): use 'all' or 'any'.")
        super().__init__(
            value=value, ignore_case=ignore_case or None, mode=None if mode == "all" else mode
        )
        self.value, self.ignore_case, self.mode = value, ignore_case, mode
        self.name = "contains" if value is _EXPECTED else f"contains({_short(value, 40)})"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        wanted = self._expected(ctx, self.value)
        needles = [wanted] if isinstance(wanted, str) else list(wanted)
        text = ctx.text
        if self.ignore_case:
            text = text.casefold()
        missing = [n for n in needles if (n.casefold() if self.ignore_case else n) not in text]
        found = len(needles) - len(missing)
        ok = not missing if self.mode == "all" else found > 0
        if ok:
            return EvalResult(True)
        what = f"missing {_short(missing)}" if self.mode == "all" else f"none of {_short(needles)}"
        return EvalResult(False, reason=f"{what} in {_short(ctx.text)}")


class regex(Evaluator):
    """The output's text matches `pattern` somewhere (``re.search``)."""

    spec_name = "regex"

    def __init__(self, pattern: str, *, ignore_case: bool = False):
        try:
            self.pattern = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise UserError(f"regex({pattern!r}) is not a valid pattern: {exc}.") from None
        super().__init__(pattern=pattern, ignore_case=ignore_case or None)
        self.name = f"regex({pattern!r})"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        if self.pattern.search(ctx.text):
            return EvalResult(True)
        return EvalResult(
            False, reason=f"no match for {self.pattern.pattern!r} in {_short(ctx.text)}"
        )


def _as_json(output: Any) -> Any:
    """The output as JSON data: parsed from text (a Markdown fence is tolerated), or as is."""
    value = _plain(output)
    if isinstance(value, (dict, list)):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__}, not JSON text")
    text = value.strip()
    fenced = re.match(r"^```(?:json)?\s*\n(.*?)\n?```$", text, re.DOTALL)
    return json.loads(fenced.group(1) if fenced else text)


class is_json(Evaluator):
    """The output is valid JSON (text that parses, or already a dict or list)."""

    spec_name = "is_json"
    name = "is_json"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        try:
            _as_json(ctx.output)
        except ValueError as exc:
            return EvalResult(False, reason=f"not JSON: {exc}")
        return EvalResult(True)


class matches_schema(Evaluator):
    """The output validates against a pydantic model, a TypedDict or a JSON schema; a failure
    names each failing field."""

    spec_name = "matches_schema"

    def __init__(self, schema: Any):
        from ..schema import OutputSchema

        self.schema = OutputSchema.from_any(schema)
        super().__init__(schema=schema if isinstance(schema, dict) else self.schema.json_schema)
        self.name = f"matches_schema({self.schema.name})"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        from ..exceptions import OutputParserError

        value = ctx.output
        if hasattr(value, "content") and isinstance(getattr(value, "text", None), str):
            value = value.text
        try:
            self.schema.parse(value)
        except OutputParserError as exc:
            return EvalResult(False, reason="; ".join(exc.errors or [str(exc)]))
        return EvalResult(True)


def _number(value: Any) -> float:
    value = _plain(value)
    if isinstance(value, bool):
        raise ValueError("a bool, not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise ValueError(f"a {type(value).__name__}, not a number")


class close_to(Evaluator):
    """The output is a number within `abs_tol` (or `rel_tol`) of `value` (default: expected)."""

    spec_name = "close_to"

    def __init__(self, value: Any = _EXPECTED, *, abs_tol: float = 1e-6, rel_tol: float = 0.0):
        super().__init__(
            value=value, abs_tol=None if abs_tol == 1e-6 else abs_tol, rel_tol=rel_tol or None
        )
        self.value, self.abs_tol, self.rel_tol = value, abs_tol, rel_tol
        self.name = "close_to" if value is _EXPECTED else f"close_to({value!r})"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        target = _number(self._expected(ctx, self.value))
        try:
            actual = _number(ctx.output)
        except ValueError as exc:
            return EvalResult(False, reason=f"output is not a number ({exc}): {_short(ctx.output)}")
        if math.isclose(actual, target, rel_tol=self.rel_tol, abs_tol=self.abs_tol):
            return EvalResult(True)
        return EvalResult(
            False, reason=f"{actual!r} is {abs(actual - target):.3g} away from {target!r}"
        )


def _tool_calls(ctx: EvalContext) -> list[dict[str, Any]]:
    """Every tool call the target's model calls asked for, in order; else the output's own."""
    found: list[dict[str, Any]] = []
    for record in ctx.calls or ():
        if record.output is not None:
            found.extend(record.output.tool_calls)
    if not found:
        found.extend(getattr(ctx.output, "tool_calls", None) or ())
    return found


def _args_match(expected: Any, actual: Any, match: str) -> bool:
    if match == "exact":
        return bool(expected == actual)
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return all(k in actual and _args_match(v, actual[k], match) for k, v in expected.items())
    return bool(expected == actual)


def _listing(calls: Sequence[Mapping[str, Any]]) -> str:
    if not calls:
        return "no tool calls"
    return ", ".join(f"{c['name']}({json.dumps(c.get('args'), default=repr)})" for c in calls)


class tool_called(Evaluator):
    """The target called tool `name` (with `args`: a subset of the call's, or all of them
    with ``match="exact"``) in any of its model calls."""

    spec_name = "tool_called"

    def __init__(self, name: str, args: Mapping[str, Any] | None = None, *, match: str = "subset"):
        if match not in ("subset", "exact"):
            raise UserError(f"tool_called(match={match!r}): use 'subset' or 'exact'.")
        super().__init__(name=name, args=args, match=None if match == "subset" else match)
        self.tool, self.args, self.match = name, args, match
        self.name = f"tool_called({name})"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        calls = _tool_calls(ctx)
        named = [c for c in calls if c["name"] == self.tool]
        if not named:
            return EvalResult(False, reason=f"{self.tool} was not called; calls: {_listing(calls)}")
        if self.args is None or any(_args_match(self.args, c["args"], self.match) for c in named):
            return EvalResult(True)
        return EvalResult(
            False,
            reason=f"{self.tool} was called, but not with {self.match} args "
            f"{json.dumps(self.args, default=repr)}; calls: {_listing(named)}",
        )


class no_tool_calls(Evaluator):
    """The target answered without calling any tool."""

    spec_name = "no_tool_calls"
    name = "no_tool_calls"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        calls = _tool_calls(ctx)
        return EvalResult(True) if not calls else EvalResult(False, reason=_listing(calls))


class trajectory(Evaluator):
    """The tools called, in order over all model calls, follow `names`.

    ``mode="exact"``: the same sequence; ``"in_order"``: `names` appear in this order, other
    calls may come between; ``"any_order"``: each of `names` was called (as often as listed).
    """

    spec_name = "trajectory"

    def __init__(self, names: Sequence[str], mode: str = "exact"):
        if mode not in ("exact", "in_order", "any_order"):
            raise UserError(f"trajectory(mode={mode!r}): use 'exact', 'in_order' or 'any_order'.")
        if isinstance(names, str):
            names = [names]
        super().__init__(names=list(names), mode=None if mode == "exact" else mode)
        self.names, self.mode = list(names), mode
        self.name = f"trajectory({mode})"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        actual = [c["name"] for c in _tool_calls(ctx)]
        if self.mode == "exact":
            ok = actual == self.names
        elif self.mode == "in_order":
            remaining = iter(actual)
            ok = all(any(name == seen for seen in remaining) for name in self.names)
        else:
            pool = list(actual)
            ok = True
            for name in self.names:
                if name in pool:
                    pool.remove(name)
                else:
                    ok = False
        if ok:
            return EvalResult(True)
        return EvalResult(False, reason=f"expected {self.names} ({self.mode}), got {actual}")


class max_tokens(Evaluator):
    """The target used at most `limit` tokens over its model calls (``which``: total,
    input or output)."""

    spec_name = "max_tokens"

    def __init__(self, limit: int, *, which: str = "total"):
        if which not in ("total", "input", "output"):
            raise UserError(f"max_tokens(which={which!r}): use 'total', 'input' or 'output'.")
        super().__init__(limit=limit, which=None if which == "total" else which)
        self.limit, self.which = limit, which
        self.name = f"max_tokens({limit})" if which == "total" else f"max_{which}_tokens({limit})"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        used = int(ctx.usage.get(f"{self.which}_tokens", 0))
        if used <= self.limit:
            return EvalResult(True)
        return EvalResult(False, reason=f"{used} {self.which} tokens > {self.limit}")


class max_cost(Evaluator):
    """The target's model calls cost at most `usd` (estimated from usage and prices)."""

    spec_name = "max_cost"

    def __init__(self, usd: float):
        super().__init__(usd=usd)
        self.usd = usd
        self.name = f"max_cost(${usd:g})"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        if ctx.cost is None:
            models = sorted({f"{r.provider}:{r.model}" for r in ctx.calls or ()})
            raise UserError(
                f"the cost of {', '.join(models) or 'a model'} is unknown (no price): add it to "
                "[tool.myna.prices] in pyproject.toml, or pass evaluate(prices=...)."
            )
        if ctx.cost <= self.usd:
            return EvalResult(True)
        return EvalResult(False, reason=f"${ctx.cost:.6f} > ${self.usd:g}")


class max_latency(Evaluator):
    """The target took at most `seconds` (wall time, this run)."""

    spec_name = "max_latency"

    def __init__(self, seconds: float):
        super().__init__(seconds=seconds)
        self.seconds = seconds
        self.name = f"max_latency({seconds:g}s)"

    def __call__(self, ctx: EvalContext) -> EvalResult:
        if ctx.latency <= self.seconds:
            return EvalResult(True)
        return EvalResult(False, reason=f"took {ctx.latency:.3f}s > {self.seconds:g}s")


def judge(rubric: str, model: Any = None, **options: Any) -> Any:
    """An LLM judge grading the output against `rubric` with discrete choices; see
    `myna.evals.Judge`."""
    from ._judge import Judge

    return Judge(rubric, model=model, **options)


def pairwise(rubric: str, model: Any = None, **options: Any) -> Any:
    """An LLM judge preferring the output or a baseline's, asked in both orders; see
    `myna.evals.Pairwise`."""
    from ._judge import Pairwise

    return Pairwise(rubric, model=model, **options)


_BUILTINS: dict[str, Any] = {
    "equals": equals,
    "contains": contains,
    "regex": regex,
    "is_json": is_json,
    "matches_schema": matches_schema,
    "close_to": close_to,
    "tool_called": tool_called,
    "no_tool_calls": no_tool_calls,
    "trajectory": trajectory,
    "max_tokens": max_tokens,
    "max_cost": max_cost,
    "max_latency": max_latency,
    "judge": judge,
    "pairwise": pairwise,
}


def _takes_keywords(factory: Any, args: Mapping[str, Any]) -> bool:
    """Whether a mapping is the factory's keyword arguments (else it is one value, such as a
    JSON schema for matches_schema or a dict to compare with for equals)."""
    import inspect

    target = factory.__init__ if isinstance(factory, type) else factory
    names = set(inspect.signature(target).parameters) - {"self"}
    if "options" in names:  # judge(rubric, model, **options) takes any keywords
        return True
    # a mapping naming any parameter is keywords (so a misspelt one is reported as such)
    return bool(set(args) & names)


def from_spec(spec: Any) -> Any:
    """Build a built-in evaluator from its file form.

    ``"is_json"``; ``{"contains": "sunny"}`` (one argument); ``{"trajectory": [["a", "b"]]}``
    (a list of arguments); ``{"judge": {"rubric": "...", "model": "openai:gpt-4.1-mini"}}``.
    """
    if isinstance(spec, str):
        name, args = spec, None
    elif isinstance(spec, Mapping) and len(spec) == 1:
        ((name, args),) = spec.items()
    else:
        raise UserError(
            f"An evaluator in a dataset file is a name or a one-key mapping like "
            f"{{contains: sunny}}; got {_short(spec)}."
        )
    factory = _BUILTINS.get(name)
    if factory is None:
        import difflib

        close = difflib.get_close_matches(str(name), _BUILTINS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UserError(f"Unknown evaluator {name!r}.{hint} Known: {', '.join(sorted(_BUILTINS))}.")
    try:
        if args is None:
            return factory()
        if isinstance(args, Mapping) and _takes_keywords(factory, args):
            return factory(**args)
        if isinstance(args, list) and name not in ("contains", "equals"):
            return factory(*args)
        return factory(args)
    except TypeError as exc:
        raise UserError(f"Evaluator {name!r}: bad arguments {_short(args)} ({exc}).") from None
