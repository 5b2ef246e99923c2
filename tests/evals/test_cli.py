"""``myna eval run | compare | show | schema``, called in-process like the ``myna`` script."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from myna.cli import main
from myna.evals import Case, Dataset, Report
from myna.evals._schema import dataset_schema, report_schema

FIXTURES = Path(__file__).parents[2] / "fixtures" / "evals"
WEATHER = str(FIXTURES / "cli-weather.yaml")

WEATHER_APP = """
def answer(city):
    if city == "Oslo":
        return "Snow in Oslo."
    return f"It is sunny in {city}."
"""

_names = itertools.count()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], str]]:
    """Writes a target module into the current directory (tmp_path); returns its name."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    written: list[str] = []

    def write(source: str) -> str:
        name = f"evalapp_{next(_names)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), "utf-8")
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------------- myna eval run


def test_run_passing_gate_exits_0_and_writes_the_files(
    app: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(WEATHER_APP)
    code, out, err = _run(
        capsys,
        "eval",
        "run",
        WEATHER,
        "--target",
        f"{module}:answer",
        "--json",
        "out/report.json",
        "--junit",
        "out/junit.xml",
        "--results",
        "out/runs.jsonl",
        "--repeat",
        "2",
    )
    assert (code, err) == (0, "")
    assert "weather: PASSED · 3/3 cases passed" in out.replace("\n", " ")
    assert "json report: out/report.json" in out
    report = Report.load(tmp_path / "out" / "report.json")
    assert report.passed and report.total == 3 and report.runs == 6
    assert report.settings["target"] == f"{module}:answer"
    junit = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert sorted(c.get("name") for c in junit.iter("testcase")) == ["oslo", "paris", "rome"]
    lines = (tmp_path / "out" / "runs.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 1 + 6


def test_run_writes_the_html_report(
    app: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(WEATHER_APP)
    code, out, _ = _run(
        capsys, "eval", "run", WEATHER, "--target", f"{module}:answer", "--report", "out/r.html"
    )
    assert code == 0
    assert "html report: out/r.html" in out
    html = (tmp_path / "out" / "r.html").read_text("utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert all(name in html for name in ("paris", "rome", "oslo"))


def test_run_failing_gate_exits_1_and_prints_the_worst_first(
    app: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(
        """
        def answer(city):
            if city == "Rome":
                raise RuntimeError("no weather for Rome")
            return f"It is sunny in {city}."
        """
    )
    code, out, _ = _run(capsys, "eval", "run", WEATHER, "--target", f"{module}:answer")
    assert code == 1
    assert out.index("rome") < out.index("oslo") < out.index("paris")  # error, fail, pass
    assert "no weather for Rome" in out
    assert "FAILED" in out


def test_run_gate_options_turn_a_failure_into_a_pass(
    app: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(
        """
        calls = {}

        def answer(city):
            calls[city] = calls.get(city, 0) + 1
            if city == "Rome":
                raise RuntimeError("no weather for Rome")
            if city == "Paris" and calls[city] % 4 == 0:
                return "Cloudy."
            return "sunny" if city != "Oslo" else "snow"
        """
    )
    args = ["eval", "run", WEATHER, "--target", f"{module}:answer", "--repeat", "4"]
    args += ["--concurrency", "1"]
    assert _run(capsys, *args)[0] == 1
    code, out, _ = _run(capsys, *args, "--min-pass-rate", "0.6", "--max-error-rate", "0.34")
    assert code == 0, out
    assert "flaky" not in out  # 3 of 4 passes meet 0.6: a pass


def test_run_async_targets_and_chat_models(
    app: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(
        """
        import asyncio
        from myna.fakes import FakeChatModel

        async def answer(city):
            await asyncio.sleep(0)
            return "snow" if city == "Oslo" else "sunny"

        model = FakeChatModel(["It is sunny."], cycle=True)
        """
    )
    assert _run(capsys, "eval", "run", WEATHER, "--target", f"{module}:answer")[0] == 0
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        "cases:\n- name: q1\n  inputs: Weather in Paris?\n  expected: sunny\n"
        "  evaluators: [contains]\n- name: q2\n  inputs: And Lima?\n  expected: rain\n"
        "  evaluators: [contains]\n"
    )
    code, _, _ = _run(
        capsys, "eval", "run", str(questions), "--target", f"{module}:model", "--json", "q.json"
    )
    assert code == 1
    report = Report.load(tmp_path / "q.json")
    assert [(c.name, c.status) for c in report.cases] == [("q1", "pass"), ("q2", "fail")]
    assert report.case("q2").reasons == ["repeat 0: contains: missing ['rain'] in 'It is sunny.'"]


def test_run_passes_every_option_to_evaluate(
    app: Callable[[str], str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import myna.evals as runner

    seen: dict[str, Any] = {}
    real = runner.evaluate

    def recording(target: Any, dataset: Any, **options: Any) -> Report:
        seen.update(options, target=target, dataset=dataset)
        return real(target, dataset, **options)

    monkeypatch.setattr(runner, "evaluate", recording)
    module = app(WEATHER_APP)
    code, _, _ = _run(
        capsys,
        "eval",
        "run",
        WEATHER,
        "--target",
        f"{module}:answer",
        "--repeat=3",
        "--min-pass-rate=0.5",
        "--max-error-rate=0.25",
        "--concurrency=4",
        "--timeout=2.5",
        "--seed=7",
        "--results=r.jsonl",
        "--no-progress",
    )
    assert code == 0
    assert seen["target"].__name__ == "answer"
    assert isinstance(seen["dataset"], Dataset) and seen["dataset"].name == "weather"
    del seen["target"], seen["dataset"]
    assert seen == {
        "repeat": 3,
        "min_pass_rate": 0.5,
        "max_error_rate": 0.25,
        "max_concurrency": 4,
        "timeout": 2.5,
        "progress": False,
        "results_path": "r.jsonl",
        "resume": False,
        "retry_errors": False,
        "seed": 7,
    }
    _run(capsys, "eval", "run", WEATHER, "--target", f"{module}:answer")
    assert seen["progress"] is None  # a bar only on a terminal (evaluate decides)


def test_run_timeout_makes_a_slow_case_an_error(
    app: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(
        """
        import asyncio

        async def answer(city):
            if city == "Oslo":
                await asyncio.sleep(5)
            return "sunny"
        """
    )
    code, out, _ = _run(
        capsys, "eval", "run", WEATHER, "--target", f"{module}:answer", "--timeout", "0.05"
    )
    assert code == 1
    assert "TimeoutError" in out and "0.05s" in out


def test_resume_keeps_finished_runs_and_retries_errors(
    app: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "calls.log"
    source = f"""
        def answer(city):
            with open({str(log)!r}, "a") as handle:
                handle.write(city + "\\n")
            if city == "Oslo" and {{broken}}:
                raise RuntimeError("Oslo is down")
            return "snow" if city == "Oslo" else "sunny"
        """
    broken = app(source.format(broken=True))
    fixed = app(source.format(broken=False))
    base = ["eval", "run", WEATHER, "--results", "runs.jsonl", "--repeat", "2"]
    assert _run(capsys, *base, "--target", f"{broken}:answer")[0] == 1
    assert sorted(log.read_text().split()) == ["Oslo"] * 2 + ["Paris"] * 2 + ["Rome"] * 2
    log.write_text("")
    code, out, _ = _run(capsys, *base, "--target", f"{fixed}:answer", "--retry-errors")
    assert code == 0, out
    assert log.read_text().split() == ["Oslo", "Oslo"]  # only the runs that errored
    log.write_text("")
    assert _run(capsys, *base, "--target", f"{fixed}:answer", "--resume")[0] == 0
    assert log.read_text() == ""


def test_run_against_a_baseline(
    app: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = app(WEATHER_APP)
    worse = app(
        """
        def answer(city):
            return "snow" if city == "Oslo" else "Cloudy."
        """
    )
    base = ["eval", "run", WEATHER, "--repeat", "3"]
    assert _run(capsys, *base, "--target", f"{good}:answer", "--json", "base.json")[0] == 0
    code, out, _ = _run(capsys, *base, "--target", f"{good}:answer", "--baseline", "base.json")
    assert code == 0
    assert "vs baseline: OK" in out.replace("\n", " ")
    # the gate alone would pass (min pass rate 0), the regression fails the run
    code, out, _ = _run(
        capsys,
        *base,
        "--target",
        f"{worse}:answer",
        "--min-pass-rate",
        "0",
        "--baseline",
        "base.json",
        "--json",
        "new.json",
    )
    assert code == 1
    assert "PASSED" in out and "not ok:" in out
    assert Report.load(tmp_path / "new.json").passed


def test_a_missing_baseline_fails_before_running(
    app: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "ran"
    module = app(f"def answer(city):\n    open({str(log)!r}, 'w').close()\n    return 'sunny'\n")
    code, out, err = _run(
        capsys, "eval", "run", WEATHER, "--target", f"{module}:answer", "--baseline", "nope.json"
    )
    assert (code, out) == (2, "")
    assert err == "myna: No eval report at nope.json.\n"
    assert not log.exists()


# ------------------------------------------------------------------------------ usage errors


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{m}", "--target '{m}' must be module:function, e.g. app:answer for the function answer"),
        ("{m}:", "--target '{m}:' must be module:function"),
        (
            "{m}:answr",
            "--target '{m}:answr': module '{m}' has no attribute 'answr'. Did you mean 'answer'?",
        ),
        (
            "{m}:Agent.rn",
            "--target '{m}:Agent.rn': 'Agent' has no attribute 'rn'. Did you mean 'run'?",
        ),
        ("{m}:CONFIG", "--target '{m}:CONFIG' is a dict, not a function or a chat model."),
        (
            "nowhere_to_be_found:answer",
            "--target 'nowhere_to_be_found:answer': no module named 'nowhere_to_be_found' (looked in {cwd}",
        ),
        (
            "{m}.sub:answer",
            "--target '{m}.sub:answer': no module named '{m}.sub' (looked in {cwd} and on sys.path).",
        ),
    ],
)
def test_bad_targets(
    app: Callable[[str], str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    target: str,
    message: str,
) -> None:
    module = app(
        """
        CONFIG = {"a": 1}

        def answer(city):
            return city

        class Agent:
            @staticmethod
            def run(city):
                return city
        """
    )
    code, out, err = _run(capsys, "eval", "run", WEATHER, "--target", target.format(m=module))
    assert (code, out) == (2, "")
    assert err.startswith("myna: " + message.format(m=module, cwd=tmp_path)), err


def test_a_target_module_that_fails_to_import(
    app: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    raising = app("raise RuntimeError('missing API settings')\n")
    code, _, err = _run(capsys, "eval", "run", WEATHER, "--target", f"{raising}:answer")
    assert code == 2
    assert err == (
        f"myna: --target '{raising}:answer': importing '{raising}' raised RuntimeError: "
        "missing API settings\n"
    )
    needs = app("import a_package_nobody_installed\n")
    code, _, err = _run(capsys, "eval", "run", WEATHER, "--target", f"{needs}:answer")
    assert code == 2
    assert err == (
        f"myna: --target '{needs}:answer': importing '{needs}' failed: No module named "
        "'a_package_nobody_installed'.\n"
    )


def test_a_target_nested_in_an_object(
    app: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(
        """
        class Agent:
            def __init__(self, style):
                self.style = style

            def answer(self, city):
                return "snow" if city == "Oslo" else self.style

        agent = Agent("sunny")
        """
    )
    assert _run(capsys, "eval", "run", WEATHER, "--target", f"{module}:agent.answer")[0] == 0


def test_a_bad_dataset_is_a_usage_error(
    app: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(WEATHER_APP)
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases:\n  - name: a\n    repeat: 0\n")
    code, out, err = _run(capsys, "eval", "run", str(bad), "--target", f"{module}:answer")
    assert (code, out) == (2, "")
    assert err == f"myna: {bad}:3: case 'a': field 'repeat' must be a whole number >= 1 (got 0).\n"


def test_resume_needs_results(
    app: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(WEATHER_APP)
    for flag in ("--resume", "--retry-errors"):
        code, _, err = _run(capsys, "eval", "run", WEATHER, "--target", f"{module}:a", flag)
        assert code == 2
        assert err == (
            f"myna: {flag} needs --results FILE: the runs to keep are read from that JSONL file.\n"
        )


def test_argument_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["eval", "run", WEATHER],  # no --target
        ["eval", "run", WEATHER, "--target", "a:b", "--min-pass-rate", "most"],
        ["eval"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "the following arguments are required: --target" in err
    assert "'most' is not a number (e.g. 0.8)" in err


def test_a_bad_rate_is_a_myna_error(
    app: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(WEATHER_APP)
    code, _, err = _run(
        capsys, "eval", "run", WEATHER, "--target", f"{module}:answer", "--min-pass-rate", "80"
    )
    assert code == 2
    assert err.startswith("myna: min_pass_rate=80.0 must be a fraction between 0 and 1")


# ------------------------------------------------------------------- compare, show, schema


def _report(tmp_path: Path, name: str, statuses: dict[str, list[bool]]) -> Path:
    from myna.evals import evaluate

    def target(case: str) -> str:
        return case

    def check(ctx: Any) -> bool:
        return statuses[ctx.output][ctx.repeat_index]

    repeats = len(next(iter(statuses.values())))
    dataset = Dataset([Case(n, n) for n in statuses], name="cmp")
    report = evaluate(target, dataset, evaluators=[check], repeat=repeats)
    return report.to_json(tmp_path / name)


def test_compare_exits_1_on_a_significant_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _report(tmp_path, "base.json", {f"c{i}": [True] * 3 for i in range(8)})
    same = _report(tmp_path, "same.json", {f"c{i}": [True] * 3 for i in range(8)})
    worse = _report(tmp_path, "worse.json", {f"c{i}": [i > 0] * 3 for i in range(8)})
    code, out, _ = _run(capsys, "eval", "compare", str(base), str(same))
    assert code == 0 and "OK" in out
    written = tmp_path / "cmp" / "c.json"
    code, out, _ = _run(capsys, "eval", "compare", str(base), str(worse), "--json", str(written))
    assert code == 1
    assert "c0" in out and "not ok:" in out
    assert f"comparison: {written}" in out
    data = json.loads(written.read_text("utf-8"))
    assert data["ok"] is False
    # the order matters: the other way round, c0 improved
    assert _run(capsys, "eval", "compare", str(worse), str(base))[0] == 0


def test_compare_a_missing_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _report(tmp_path, "base.json", {"a": [True]})
    code, _, err = _run(capsys, "eval", "compare", str(base), str(tmp_path / "nope.json"))
    assert code == 2
    assert err == f"myna: No eval report at {tmp_path / 'nope.json'}.\n"


def test_show_prints_the_worst_cases_or_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statuses = {f"case-{i:02d}": [i != 3] for i in range(25)}
    path = _report(tmp_path, "r.json", statuses)
    code, out, _ = _run(capsys, "eval", "show", str(path))
    assert code == 0
    assert out.index("case-03") < out.index("case-00")  # the failing case first
    assert "case-24" not in out  # 20 rows: the passing case-24 sorts last
    code, out, _ = _run(capsys, "eval", "show", str(path), "--full")
    assert all(f"case-{i:02d}" in out for i in range(25))
    not_a_report = tmp_path / "x.json"
    not_a_report.write_text("{}")
    code, _, err = _run(capsys, "eval", "show", str(not_a_report))
    assert code == 2 and "is not a myna eval report" in err


def test_schema_prints_or_writes_the_schemas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "eval", "schema")
    assert code == 0 and json.loads(out) == dataset_schema()
    code, out, _ = _run(capsys, "eval", "schema", "--report")
    assert code == 0 and json.loads(out) == report_schema()
    target = tmp_path / "evals" / "myna-dataset.schema.json"
    code, out, err = _run(capsys, "eval", "schema", "-o", str(target))
    assert (code, out, err) == (0, "", f"wrote {target}\n")
    assert json.loads(target.read_text("utf-8")) == dataset_schema()


def test_schema_in_a_real_subprocess() -> None:
    src = Path(__file__).parents[2] / "src"
    done = subprocess.run(
        [sys.executable, "-m", "myna.cli", "eval", "schema"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == Dataset.schema()
