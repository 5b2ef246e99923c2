"""`Report.to_html`: one self-contained page, checked as text and rendered in headless Chromium.

The Chromium tests need Debian's `chromium` (`apt-get install -y chromium`); without it they
fail, they do not skip. `MYNA_DOCS_SCREENSHOT=1` makes `test_screenshot` refresh
docs/eval-report.png.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import struct
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from myna.evals import (
    CaseResult,
    Dataset,
    EvalResult,
    Report,
    RunResult,
    _html,
    aevaluate,
    evaluate,
)
from myna.fakes import FunctionChatModel

ROOT = Path(__file__).resolve().parents[2]
XSS = "<script>alert(1)</script>"
PWN = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"

# -- reports --------------------------------------------------------------------------------


def _run(
    case: str,
    repeat: int,
    question: str,
    answer: str,
    results: list[EvalResult],
    *,
    rng: random.Random,
    error: str | None = None,
    tool: dict | None = None,
) -> RunResult:
    tokens_in, tokens_out = rng.randint(180, 420), rng.randint(40, 160)
    usage = {
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
    }
    call = {
        "model": "openai:gpt-4.1-mini",
        "input": question,
        "messages": 2,
        "output": "" if tool else answer,
        "usage": usage,
    }
    calls = [call]
    if tool:
        call["tool_calls"] = [tool]
        calls.append({**call, "messages": 4, "output": answer, "tool_calls": []})
        del calls[1]["tool_calls"]
    if error:
        calls = [{"model": "openai:gpt-4.1-mini", "input": question, "messages": 2, "error": error}]
    judge = 320 if results and not error else 0
    return RunResult(
        case=case,
        repeat=repeat,
        output=None if error else answer,
        results=[] if error else results,
        error=error,
        latency=rng.uniform(0.35, 1.6),
        usage={} if error else usage,
        judge_usage={"input_tokens": judge - 20, "output_tokens": 20, "total_tokens": judge}
        if judge
        else {},
        cost=0.0 if error else round(tokens_in * 4e-7 + tokens_out * 1.6e-6, 7),
        judge_cost=round(judge * 5e-7, 7),
        calls=calls,
        seed=1000 + repeat,
    )


def _verdicts(
    keyword: bool, verdict: str, reason: str, latency_ok: bool = True
) -> list[EvalResult]:
    score = {"pass": 1.0, "partial": 0.5, "fail": 0.0}[verdict]
    return [
        EvalResult(
            passed=keyword,
            score=1.0 if keyword else 0.0,
            name="contains",
            reason=None if keyword else "expected 'refund' in the reply",
        ),
        EvalResult(
            passed=verdict == "pass", score=score, label=verdict, reason=reason, name="judge"
        ),
        EvalResult(passed=latency_ok, score=1.0 if latency_ok else 0.0, name="max_latency"),
    ]


_GOOD = "Accurate, polite, and answers the question in full."
_CASES = [
    # name, question, answer, verdicts per repeat ("p" pass, "h" half, "f" fail, "e" error)
    (
        "refund-policy",
        "Can I get a refund after 20 days?",
        "Yes: refunds are open for 30 days.",
        "ppppp",
    ),
    (
        "reset-password",
        "How do I reset my password?",
        "Use 'Forgot password' on the sign-in page.",
        "ppppp",
    ),
    (
        "shipping-times",
        "How long does shipping take to Lyon?",
        "3 to 5 business days within the EU.",
        "ppppp",
    ),
    ("cancel-subscription", "How do I cancel?", "Settings > Billing > Cancel plan.", "pppph"),
    ("order-status", "Where is order #4821?", "Order #4821 left the warehouse yesterday.", "ppppp"),
    ("greeting", "hi!", "Hello! How can I help you today?", "ppppp"),
    (
        "invoice-copy",
        "I need a copy of my March invoice.",
        "It is under Billing > Invoices.",
        "ppppp",
    ),
    (
        "upgrade-plan",
        "What do I get with Pro?",
        "Pro adds SSO, audit logs and priority support.",
        "pfppf",
    ),
    (
        "warranty-claim",
        "My kettle broke after 14 months.",
        "Sorry to hear that! Try descaling it.",
        "fffff",
    ),
    (
        "price-match",
        "Do you match a competitor's price?",
        "We match prices within 14 days.",
        "fpfpf",
    ),
    ("international-returns", "Can I return from Canada?", "Yes, with a prepaid label.", "ppepp"),
    ("gift-cards", "Do gift cards expire?", "Gift cards never expire.", "ppppp"),
    (
        "data-export",
        "How do I export my data?",
        "Settings > Privacy > Export gives a ZIP.",
        "ppppp",
    ),
    (
        "store-hours",
        "Are you open on Sunday?",
        "Our stores open 10:00 to 16:00 on Sundays.",
        "ppppp",
    ),
]
_REASONS = {
    "h": ("partial", "Correct steps but omits that the plan stays active until the period ends."),
    "f": (
        "fail",
        "Does not answer the question; the customer asked about coverage, not care tips.",
    ),
}


def realistic_report() -> Report:
    """14 cases x 5 repeats of a support bot: passes, a flaky, a failing and an erroring case."""
    rng = random.Random(7)
    cases = []
    for name, question, answer, plan in _CASES:
        runs = []
        for repeat, mark in enumerate(plan):
            tool = None
            if name == "order-status":
                tool = {"name": "lookup_order", "args": {"order_id": "4821"}}
            if mark == "e":
                runs.append(
                    _run(
                        name,
                        repeat,
                        question,
                        answer,
                        [],
                        rng=rng,
                        error="TimeoutError: the target took longer than 30 s",
                    )
                )
                continue
            if mark == "p":
                results = _verdicts(True, "pass", _GOOD)
            else:
                verdict, reason = _REASONS[mark]
                keyword = name != "warranty-claim"
                reply = answer if mark == "h" or name != "upgrade-plan" else "It's better."
                results = _verdicts(keyword, verdict, reason, latency_ok=name != "upgrade-plan")
                runs.append(_run(name, repeat, question, reply, results, rng=rng, tool=tool))
                continue
            runs.append(_run(name, repeat, question, answer, results, rng=rng, tool=tool))
        cases.append(
            CaseResult(
                name,
                runs,
                min_pass_rate=0.8,
                inputs={"question": question, "customer_tier": "pro" if len(name) % 2 else "free"},
                expected={"mentions": ["refund"]} if name == "refund-policy" else None,
                metadata={"topic": name.split("-")[0]},
            )
        )
    report = Report(
        cases,
        name="support-bot",
        min_pass_rate=0.8,
        settings={
            "target": "support_app.bot:answer",
            "dataset": "evals/support.yaml",
            "repeat": 5,
            "max_concurrency": 10,
            "timeout": 30.0,
            "seed": 0,
            "evaluators": ["contains", "judge", "max_latency"],
        },
    )
    report.wall_time = 4.2
    return report


def hostile_report() -> Report:
    """User strings that would run as markup if any of them reached the page unescaped."""
    run = RunResult(
        case=f"name {PWN}",
        repeat=0,
        output=XSS,
        results=[
            EvalResult(passed=False, score=0.2, name=f"judge {PWN}", reason=PWN, label=XSS),
            EvalResult(name="checker", error=f"ValueError: {XSS}"),
        ],
        calls=[
            {
                "model": f"fake:{XSS}",
                "input": PWN,
                "output": XSS,
                "tool_calls": [{"name": XSS, "args": {"x": PWN}}],
                "error": PWN,
            }
        ],
    )
    case = CaseResult(
        run.case, [run], inputs={"q": XSS}, expected=PWN, metadata={"tag": "</script><b>x</b>"}
    )
    ok = CaseResult(
        "plain",
        [RunResult("plain", 0, output="fine", results=[EvalResult(True, 1.0, name="checker")])],
    )
    return Report([case, ok], name=f"eval {XSS}", settings={"target": PWN, "dataset": XSS})


def many_cases(n: int, *, runs: int = 1, fail_every: int = 7) -> Report:
    """`n` small cases; every `fail_every`-th fails, every 50th errors."""
    cases = []
    for i in range(n):
        name = f"case-{i:05d}"
        run_list = []
        for repeat in range(runs):
            ok = (i + repeat) % fail_every != 0
            err = "RuntimeError: boom" if i % 50 == 3 else None
            run_list.append(
                RunResult(
                    name,
                    repeat,
                    output=f"answer {i} " * 5,
                    results=[
                        EvalResult(ok, 1.0 if ok else 0.0, name="equals"),
                        EvalResult(True, 0.5 + (i % 5) / 10, name="similar"),
                    ],
                    error=err,
                    latency=0.001 * (i % 13),
                    calls=[{"model": "fake:m", "input": f"question {i}", "output": "x" * 80}],
                )
            )
        cases.append(CaseResult(name, run_list, inputs={"i": i}, expected=i))
    return Report(cases, name="many")


# -- the page as text ---------------------------------------------------------------------------


def embedded(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="myna-data">(.*?)</script>', page, re.S)
    assert match, "the page embeds its data"
    return json.loads(match.group(1))


def test_page_is_one_self_contained_file(tmp_path: Path) -> None:
    path = realistic_report().to_html(tmp_path / "out" / "report.html")
    assert path == tmp_path / "out" / "report.html"
    page = path.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # nothing is fetched: no external scripts, styles, fonts, images or links
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # and the CSP forbids any fetch anyway
    assert page.count("<script") == 2  # the data and the inline script, nothing else


def test_headline_charts_and_data(tmp_path: Path) -> None:
    report = realistic_report()
    page = report.to_html(tmp_path / "r.html").read_text("utf-8")
    assert 'class="verdict failed">FAILED<' in page
    assert f"{report.pass_rate:.1%}" in page and "80% required" in page
    assert report.fingerprint in page
    assert "support_app.bot:answer" in page and "contains, judge, max_latency" in page
    assert page.count('class="score-bar"') == 3
    assert page.count('<g class="case-bar ') == 14
    data = embedded(page)
    assert data["evaluators"] == ["contains", "judge", "max_latency"]
    names = [row["n"] for row in data["cases"]]
    # worst first: the error, the fail, the flaky ones (lowest pass rate first), then passes
    assert names[:4] == ["international-returns", "warranty-claim", "price-match", "upgrade-plan"]
    assert {row["s"] for row in data["cases"][4:]} == {"pass"}
    warranty = data["cases"][1]
    assert warranty["p"] == 0 and warranty["r"] == 5 and warranty["sc"][1] == 0.0
    assert warranty["w"].startswith("repeat 0: contains: expected 'refund'")
    run = warranty["d"]["runs"][0]
    assert run["calls"][0]["model"] == "openai:gpt-4.1-mini"
    assert run["res"][1] == {
        "name": "judge",
        "status": "fail",
        "score": 0.0,
        "label": "fail",
        "reason": _REASONS["f"][1],
    }


def test_user_strings_are_escaped_in_the_markup(tmp_path: Path) -> None:
    page = hostile_report().to_html(tmp_path / "x.html").read_text("utf-8")
    markup, _, rest = page.partition('<script type="application/json"')
    assert XSS not in markup and "<img" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup  # the name and the settings
    data = rest.partition("</script>")[0]
    assert "<" not in data.partition(">")[2]  # no tag can open (or close) inside the JSON
    assert XSS in json.dumps(embedded(page))  # ... and the strings survive it intact


def test_histogram_when_there_are_many_cases(tmp_path: Path) -> None:
    report = many_cases(_html.HISTOGRAM_ABOVE + 1, runs=5)
    page = report.to_html(tmp_path / "h.html").read_text("utf-8")
    assert 'class="case-bar' not in page
    assert page.count('<g class="hist-bin"') == 11
    binned = re.findall(r"<title>([^<]*): (\d+) cases", page)
    assert sum(int(n) for _, n in binned) == report.total
    rates = [case.pass_rate for case in report.cases]
    assert dict(binned)["80\u201389%"] == str(sum(1 for r in rates if 0.8 <= r < 0.9)) != "0"
    assert dict(binned)["100%"] == str(rates.count(1.0)) != "0"
    assert dict(binned)["0\u20139%"] == str(sum(1 for r in rates if r < 0.1)) != "0"


def test_large_report_embeds_details_only_where_needed(tmp_path: Path) -> None:
    report = many_cases(10_000)
    page = report.to_html(tmp_path / "big.html").read_text("utf-8")
    data = embedded(page)
    rows = data["cases"]
    assert len(rows) == 10_000
    detailed = [row for row in rows if "d" in row]
    not_passing = sum(1 for row in rows if row["s"] != "pass")
    assert len(detailed) == _html.DETAILED + sum(
        1 for row in rows[_html.DETAILED :] if row["s"] != "pass"
    )
    assert not_passing == report.total - report.counts["pass"]
    assert all("d" in row for row in rows if row["s"] != "pass")
    assert data["omitted"] == 10_000 - len(detailed)
    assert f"{data['omitted']:,} cases have only their summary" in page
    assert len(page.encode()) < 5_000_000


def test_details_stop_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_html, "DETAILED", 2)
    monkeypatch.setattr(_html, "DETAILED_MAX", 5)
    report = many_cases(40, fail_every=3)  # 14 cases fail or error
    page = report.to_html(tmp_path / "cap.html").read_text("utf-8")
    rows = embedded(page)["cases"]
    assert ["d" in row for row in rows] == [True] * 5 + [False] * 35  # worst first: the failures
    assert "35 cases have only their summary here" in page


def test_details_cap_and_long_strings(tmp_path: Path) -> None:
    long = "y" * 10_000
    run = RunResult("long", 0, output=long, results=[EvalResult(False, 0.0, name="e")])
    page = Report([CaseResult("long", [run])]).to_html(tmp_path / "l.html").read_text("utf-8")
    output = embedded(page)["cases"][0]["d"]["runs"][0]["o"]
    assert output == "y" * 4000 + "… (6,000 more characters)"


def test_empty_report(tmp_path: Path) -> None:
    page = Report(name="nothing").to_html(tmp_path / "e.html").read_text("utf-8")
    assert "No evaluator gave a score." in page and "No cases." in page
    assert embedded(page)["cases"] == []


def test_loaded_report_gives_the_same_page(tmp_path: Path) -> None:
    report = realistic_report()
    loaded = Report.load(report.to_json(tmp_path / "r.json"))
    first = embedded(report.to_html(tmp_path / "a.html").read_text("utf-8"))
    second = embedded(loaded.to_html(tmp_path / "b.html").read_text("utf-8"))
    for row in first["cases"] + second["cases"]:
        row.pop("l")  # the mean of latencies rounded to µs in the JSON may differ in the last digit
    assert first == second


def _shout_dataset() -> Dataset:
    from myna.evals import Case

    return Dataset(
        [
            Case("hello", {"text": "hello"}, expected="HELLO"),
            Case("bye", {"text": "bye"}, expected="BYE!"),
        ],
        name="shout",
    )


def _model() -> FunctionChatModel:
    return FunctionChatModel(lambda messages, info: messages[-1].text.upper())


def _check_evaluated(report: Report, tmp_path: Path) -> None:
    page = report.to_html(tmp_path / "run.html").read_text("utf-8")
    rows = {row["n"]: row for row in embedded(page)["cases"]}
    assert rows["bye"]["s"] == "fail" and rows["hello"]["s"] == "pass"
    call = rows["bye"]["d"]["runs"][0]["calls"][0]
    assert call["input"] == "bye" and call["output"] == "BYE"
    assert call["model"].startswith("fake")


def test_evaluated_report_shows_the_model_calls(tmp_path: Path) -> None:
    model = _model()

    def shout(text: str) -> str:
        return model.invoke(text).text

    report = evaluate(shout, _shout_dataset(), evaluators=[lambda ctx: ctx.output == ctx.expected])
    _check_evaluated(report, tmp_path)


def test_evaluated_report_shows_the_model_calls_async(tmp_path: Path) -> None:
    import asyncio

    model = _model()

    async def shout(text: str) -> str:
        return (await model.ainvoke(text)).text

    async def same(ctx) -> bool:
        return ctx.output == ctx.expected

    # streamed to a results file, so the report reads its cases back from there
    report = asyncio.run(
        aevaluate(shout, _shout_dataset(), evaluators=[same], results_path=tmp_path / "r.jsonl")
    )
    _check_evaluated(report, tmp_path)


# -- the page in Chromium ------------------------------------------------------------------------


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Headless Chromium is needed to test the HTML report and is not installed; "
            "run `apt-get install -y chromium` (Debian) and re-run.",
            pytrace=False,
        )
    return found


def browse(page: Path, profile: Path, *args: str, fragment: str = "") -> str:
    """Open `page` in headless Chromium with `args`; returns its stdout (e.g. the DOM)."""
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
        page.as_uri() + fragment,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(
            "Chromium did not finish in 120 s. A JavaScript dialog (alert) blocks --dump-dom, "
            "so a script injected through a user string may have run.",
            pytrace=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dom(page: Path, tmp_path: Path, fragment: str = "") -> str:
    """The page's DOM after its scripts ran, without the embedded data."""
    html = browse(page, tmp_path / "profile", "--dump-dom", fragment=fragment)
    assert '<script type="application/json" id="myna-data">' in html
    return re.sub(r'(id="myna-data">).*?</script>', r"\1</script>", html, flags=re.S)


def test_table_and_charts_render_in_chromium(tmp_path: Path) -> None:
    report = realistic_report()
    page = report.to_html(tmp_path / "r.html")
    html = dom(page, tmp_path, fragment="#case=" + quote("warranty-claim"))
    rows = re.findall(r'<tr class="row (\w+)[^"]*"[^>]*data-case="([^"]+)"', html)
    assert [name for _, name in rows] == [row["n"] for row in embedded(page.read_text())["cases"]]
    assert [status for status, _ in rows][:4] == ["error", "fail", "flaky", "flaky"]
    assert "Showing 14 of 14 cases" in html
    headers = re.findall(r"<th[^>]*data-key[^>]*><span[^>]*>([^<]+)</span></th>", html)
    assert headers == [
        "Status", "Case", "Runs", "95% interval", "contains", "judge", "max_latency",
        "Latency", "Tokens", "Cost",
    ]  # fmt: skip
    assert len(re.findall(r'<g class="score-bar"', html)) == 3
    assert len(re.findall(r'<g class="case-bar (pass|flaky|fail|error)"', html)) == 14
    # the case opened by the link shows its five runs, the judge's reasons and the model calls
    assert html.count('<details class="run ') == 5
    assert html.count('<span class="label-tag">fail</span>' + _REASONS["f"][1]) == 5
    assert html.count('<div class="call">') == 5
    assert "My kettle broke after 14 months." in html


def _shown_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="row [^"]*"[^>]*data-case="([^"]+)"', html)


def test_filter_and_sort_from_the_link_in_chromium(tmp_path: Path) -> None:
    page = realistic_report().to_html(tmp_path / "r.html")
    # only fail and flaky, best judge score first
    html = dom(page, tmp_path, fragment="#status=fail,flaky&sort=-judge")
    assert _shown_rows(html) == ["upgrade-plan", "price-match", "warranty-claim"]
    assert "Showing 3 of 3 matching cases" in html
    assert re.search(r'aria-pressed="false"><i></i>Pass', html)
    assert re.search(r'aria-sort="descending"[^>]*><span class="ev">judge<', html)
    # a search matches names and reasons; ascending latency puts the fastest first
    html = dom(page, tmp_path, fragment="#q=" + quote("not care tips") + "&sort=latency")
    rows = {row["n"]: row for row in embedded(page.read_text())["cases"]}
    expected = sorted(  # the three cases where the judge gave that reason, in any repeat
        ("warranty-claim", "price-match", "upgrade-plan"), key=lambda name: rows[name]["l"]
    )
    assert _shown_rows(html) == expected
    assert re.search(r'<input type="search" id="filter"', html)


def test_script_injection_is_inert_in_chromium(tmp_path: Path) -> None:
    page = hostile_report().to_html(tmp_path / "x.html")
    # every case opened: outputs, reasons, labels, errors and calls are all in the DOM
    html = dom(page, tmp_path, fragment="#open=all")
    assert html.count('<details class="run ') == 2
    assert "data-pwned" not in html.split("<body", 1)[1].split(">", 1)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html
    body = html.split("<body", 1)[1]
    # the only elements are ours: two scripts, and no <img> at all
    assert len(re.findall(r"<script\b", body)) == 2 and "<img" not in body
    assert "<b>x</b>" not in body


def test_more_rows_on_demand_in_chromium(tmp_path: Path) -> None:
    page = many_cases(250).to_html(tmp_path / "m.html")
    html = dom(page, tmp_path)
    assert len(re.findall(r'<tr class="row ', html)) == 200
    assert "Showing 200 of 250 cases" in html
    assert re.search(r'<button type="button" id="more">Show 50 more</button>', html)
    assert len(re.findall(r'<g class="hist-bin"', html)) == 11


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_screenshot(tmp_path: Path) -> None:
    page = realistic_report().to_html(tmp_path / "r.html")
    shot = tmp_path / "eval-report.png"
    browse(
        page,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1400,1800",
        "--force-device-scale-factor=1",
        fragment="#case=" + quote("price-match"),
    )
    assert _png_size(shot) == (1400, 1800)
    assert shot.stat().st_size > 50_000  # a blank page compresses to a few kB
    if os.environ.get("MYNA_DOCS_SCREENSHOT"):
        target = ROOT / "docs" / "eval-report.png"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, target)
