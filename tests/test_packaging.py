"""Packaging: a plain ``pip install myna`` runs the whole test harness (fakes, emulators,
cassettes, the pytest plugin, assertions); optional parts sit behind named extras and say
which one to install; ``constraints.txt`` pins everything; ``python -m myna`` works."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "myna"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
CORE = {canonicalize_name(Requirement(r).name) for r in PROJECT["dependencies"]}
EXTRAS = {
    extra: {canonicalize_name(Requirement(r).name) for r in requirements}
    for extra, requirements in PROJECT["optional-dependencies"].items()
}

HARNESS = ["emulators", "cassettes", "testing", "fakes", "pytest_plugin"]
"""What a plain install must run: these import only core dependencies (or OPTIONAL ones)."""

OPTIONAL = {
    # module: the extra that brings it, or None for what myna never installs
    "hypothesis": "hypothesis",  # fakes of regex-constrained strings; the error names the extra
    "rich": "rich",  # colour in `myna cassettes`; plain text without it
    "httpcore2": None,  # emulators patch httpx2 when the app's SDK brought it
    "aiohttp": None,  # emulators and cassettes patch aiohttp when the app's client brought it
    "brotli": None,  # cassettes decode such recorded bodies when the codec is installed
    "brotlicffi": None,
    "zstandard": None,
    "pytest": None,  # the plugin and the fixtures run under pytest, which loads them
}

DISTRIBUTION_OF = {
    "yaml": "pyyaml",
    "httpx_sse": "httpx-sse",
    "typing_extensions": "typing-extensions",
}
"""Modules whose distribution has another name (the rest: found by importlib.metadata)."""


def third_party_imports(path: Path) -> dict[str, set[str]]:
    """Top-level modules imported anywhere under `path` (in functions too) -> files."""
    found: dict[str, set[str]] = {}
    files = [path] if path.is_file() else sorted(path.rglob("*.py"))
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in ("myna", "__future__"):
                    found.setdefault(top, set()).add(str(file.relative_to(SRC)))
    return found


def distribution_of(module: str) -> str:
    if module in DISTRIBUTION_OF:
        return DISTRIBUTION_OF[module]
    names = metadata.packages_distributions().get(module) or [module]
    return canonicalize_name(names[0])


def closure(names: set[str]) -> set[str]:
    """These distributions and everything they require here (markers evaluated, no extras)."""
    environment = default_environment()
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here (a marker for another Python): nothing to import
        for line in requirements:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(
                {**environment, "extra": ""}
            ):
                todo.append(requirement.name)
    return seen


def modules_of(distributions: set[str]) -> set[str]:
    """The top-level modules these installed distributions provide."""
    return {
        module
        for module, owners in metadata.packages_distributions().items()
        if any(canonicalize_name(owner) in distributions for owner in owners)
    }


# -- what a plain install brings --------------------------------------------------------------


@pytest.mark.parametrize("part", HARNESS)
def test_the_harness_imports_only_core_dependencies(part: str) -> None:
    missing = []
    for module, files in sorted(third_party_imports(SRC / part).items()):
        if module in OPTIONAL:
            extra = OPTIONAL[module]
            if extra is not None:
                assert distribution_of(module) in EXTRAS.get(extra, set()), (
                    f"{module} is optional in {part} but no extra [{extra}] brings it"
                )
            continue
        if distribution_of(module) not in CORE:
            missing.append(f"{module} (imported by {', '.join(sorted(files))})")
    assert not missing, (
        f"myna.{part.removesuffix('.py')} imports what `pip install myna` does not install; add "
        f"to [project] dependencies: {'; '.join(missing)}"
    )


HARNESS_RUN = '''
import importlib.abc, json, os, sys, tempfile
from pathlib import Path

BLOCKED = set(json.loads(sys.argv[1]))


class OnlyCoreDependencies(importlib.abc.MetaPathFinder):
    """The modules of installed distributions a plain install lacks are "not installed"."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not a core dependency)", name=name)
        return None


sys.meta_path.insert(0, OnlyCoreDependencies())

from myna import init_chat_model
from myna.cassettes import cassette
from myna.emulators import emulate, serve
from myna.fakes import example_value, tool_call
from myna.testing import assert_tool_call

with emulate("openai", ["Hello.", tool_call("get_weather", city="Paris")]) as server:
    model = init_chat_model("openai:gpt-4.1-mini", api_key="sk-test")
    assert model.invoke("Hi").text == "Hello."
    tools = [{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    reply = model.bind_tools(tools).invoke("Weather?")
    assert_tool_call(reply, "get_weather", {"city": "Paris"})
assert len(server.requests) == 2

path = Path(tempfile.mkdtemp()) / "hello.yaml"
with serve("anthropic", ["Recorded once."]) as server:
    model = init_chat_model(
        "anthropic:claude-haiku-4-5", base_url=server.base_url, api_key="sk-ant-test"
    )
    with cassette(path, mode="once"):
        recorded = [c.text for c in model.stream("Hi")]
with cassette(path, mode="none"):
    assert [c.text for c in model.stream("Hi")] == recorded

assert example_value({"type": "object", "properties": {"n": {"type": "integer"}}})

os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
import pytest

tests = Path(tempfile.mkdtemp())
(tests / "pytest.ini").write_text("[pytest]\\n")
(tests / "test_app.py").write_text("""
import pytest
from myna import init_chat_model
from myna.testing import assert_usage


@pytest.mark.myna_script(["Sunny."])
def test_fake(fake_model, model_calls):
    assert fake_model.invoke("Weather?").text == "Sunny."
    assert_usage(model_calls, max_total=10_000)


def test_emulator(emulator):
    emulator("anthropic", script=["Hello!"])
    model = init_chat_model("anthropic:claude-haiku-4-5", api_key="sk-ant-test")
    assert model.invoke("Hi").text == "Hello!"


@pytest.mark.myna_cassette
@pytest.mark.myna_model("openai:gpt-4.1-mini")
@pytest.mark.myna_script(["Recorded."])
def test_cassette(chat_model):
    assert chat_model.invoke("Hi").text == "Recorded."
""")
for mode in ("all", "none"):  # record, then replay
    args = [str(tests), "-q", "-p", "myna.pytest_plugin", "-p", "no:cacheprovider"]
    code = pytest.main([*args, f"--myna-record-mode={mode}", "-W", "ignore::pytest.PytestConfigWarning"])
    assert code == 0, f"pytest --myna-record-mode={mode} exited {code}"
print("HARNESS OK")
'''


def test_the_harness_runs_with_only_core_dependencies(tmp_path: Path) -> None:
    # as after `pip install myna pytest`: every other module is blocked as if not installed
    installed = {canonicalize_name(d.metadata["Name"]) for d in metadata.distributions()}
    blocked = modules_of(installed - closure(CORE | {"pytest"})) - {"myna"}
    assert {"hypothesis", "rich", "openai"} <= blocked  # installed here, not in a plain install
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYNA_", "PYTEST_"))}
    env.pop("CI", None)
    env["OPENAI_API_KEY"] = "sk-test"
    result = subprocess.run(
        [sys.executable, "-c", HARNESS_RUN, json.dumps(sorted(blocked))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert "HARNESS OK" in result.stdout, result.stdout[-3000:] + result.stderr[-3000:]


# -- optional parts name their extra ------------------------------------------------------------


def run_without(module: str, code: str) -> str:
    """Run `code` as if `module` were not installed; the error it ends with."""
    probe = f"import sys\nsys.modules[{module!r}] = None\n{code}"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0, f"{code!r} worked without {module}"
    return result.stderr.strip().splitlines()[-1]


def test_strategies_without_hypothesis_name_the_extra() -> None:
    error = run_without("hypothesis", "import myna.strategies")
    assert error.startswith("ModuleNotFoundError: myna.strategies needs hypothesis"), error
    assert "pip install 'myna[hypothesis]'" in error
    assert "hypothesis" in EXTRAS["hypothesis"]


def test_fake_patterns_without_hypothesis_name_the_extra() -> None:
    code = (
        "from myna.fakes import example_value\nexample_value({'type': 'string', 'pattern': '^a+$'})"
    )
    error = run_without("hypothesis", code)
    assert "pip install 'myna[hypothesis]'" in error, error


def test_the_dev_extra_brings_every_extra() -> None:
    # `pip install -e '.[dev]'` (the README, CI) installs what every optional part needs
    (self_reference,) = [
        r for r in PROJECT["optional-dependencies"]["dev"] if r.startswith("myna[")
    ]
    brought = set(Requirement(self_reference).extras)
    # langchain's tests run in tests_langchain/ (their own venv): langchain-core brings
    # langsmith, whose autoloaded pytest plugin would slow every pytest start of dev
    assert brought == set(EXTRAS) - {"dev", "langchain"}


def test_import_myna_stays_light_without_optional_dependencies() -> None:
    # a plain install has no hypothesis, rich or botocore: `import myna` never needs them
    code = "\n".join(f"sys.modules[{m!r}] = None" for m in ("hypothesis", "rich", "botocore"))
    result = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\nimport myna, myna.fakes, myna.testing"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# -- reproducible installs -----------------------------------------------------------------------


def test_constraints_pin_every_declared_dependency() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[canonicalize_name(name)] = version
    assert "myna" not in pins
    declared = set(CORE)
    for extra, names in EXTRAS.items():
        if extra != "langchain":  # pinned with its test environment, below
            declared |= names - {"myna"}
    if sys.version_info >= (3, 11):
        declared.discard("tomli")  # only below 3.11; constraints.txt is resolved on 3.11+
    unpinned = sorted(declared - set(pins))
    assert not unpinned, (
        f"not in constraints.txt: {unpinned}; run `bash .ci/refresh-constraints` and commit it"
    )


def test_the_langchain_extra_is_pinned_by_its_test_environment() -> None:
    # `.[dev]` leaves it out (see test_the_dev_extra_brings_every_extra), so its pins live
    # with tests_langchain/, which .ci/run installs and runs
    requirements = ROOT / "tests_langchain" / "requirements-langchain.txt"
    pins = {
        canonicalize_name(line.partition("==")[0])
        for line in requirements.read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert EXTRAS["langchain"] <= pins


def test_ci_installs_from_the_constraints() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install = [line for line in ci.splitlines() if "pip install" in line]
    assert install and all(re.search(r"\s-c constraints\.txt\s", line) for line in install)


# -- python -m myna -------------------------------------------------------------------------------


def test_python_dash_m_myna_is_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "myna", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: myna "), result.stdout
    assert "cassettes" in result.stdout


def test_python_dash_m_myna_passes_the_exit_code() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "myna", "no-such-command"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "myna" in result.stderr
