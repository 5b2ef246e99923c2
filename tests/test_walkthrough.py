"""The README's walk-through runs as written: its files in a fresh folder, its commands in
subprocesses (the emulator on a free port instead of 8765), offline and with no key."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TITLE = "### Walk-through: record once against `myna serve`, replay in CI with no key"


def walkthrough() -> tuple[dict[str, str], list[str]]:
    """The section's files (name -> text) and its shell commands, in order."""
    text = README.read_text(encoding="utf-8")
    assert TITLE in text, "the README lost its walk-through"
    section = text.split(TITLE, 1)[1].split("\n## ", 1)[0]
    files = dict(
        re.findall(r"^`([\w./-]+)`[^\n`]*:\n\n```[a-z]*\n(.*?)```", section, flags=re.S | re.M)
    )
    commands = [c.strip() for c in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]
    return files, commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The environment of a new user's shell: no keys, no CI, no outer myna run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MYNA_", "OPENAI_", "PYTEST_"))
        and k != "CI"
        and not k.endswith("_API_KEY")
    }
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def command(line: str, port: int) -> tuple[list[str], dict[str, str]]:
    """A shown command as argv plus its ``NAME=value`` prefixes, on the free port."""
    words = shlex.split(line.replace("8765", str(port)))
    env = clean_env()
    while words and re.match(r"^[A-Z_]+=", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    if words[0] == "python":
        words[0] = sys.executable
    return words, env


def run(line: str, port: int, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv, env = command(line, port)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_walkthrough_has_its_parts() -> None:
    files, commands = walkthrough()
    assert set(files) == {"weather.py", "tests/test_weather.py", "script.yaml", "pyproject.toml"}
    assert [c.split()[0] for c in commands] == [
        "myna",
        "OPENAI_BASE_URL=http://127.0.0.1:8765/v1",
        "CI=true",
    ]
    assert "@pytest.mark.myna_cassette" in files["tests/test_weather.py"]
    assert "def test_forecast():" in files["tests/test_weather.py"]  # the marker, no fixture


def test_the_walkthrough_runs(tmp_path: Path) -> None:
    if shutil.which("myna", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("the myna command is not installed next to this Python")
    files, (serve, record, ci) = walkthrough()
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    port = free_port()
    argv, env = command(serve, port)
    server = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == f"http://127.0.0.1:{port}"  # it is up
        recorded = run(record, port, tmp_path)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert recorded.returncode == 0, recorded.stdout[-3000:] + recorded.stderr[-3000:]
    assert "1 passed" in recorded.stdout
    cassette = tmp_path / "tests" / "cassettes" / "test_weather" / "test_forecast.yaml"
    text = cassette.read_text(encoding="utf-8")
    assert f"127.0.0.1:{port}" in text and "Sunny in Paris" in text
    assert "test-key" not in text

    # the server is gone; CI has no key and no network
    replayed = run(ci, port, tmp_path)
    assert replayed.returncode == 0, replayed.stdout[-3000:] + replayed.stderr[-3000:]
    assert "myna: record mode none, network blocked" in replayed.stdout
    assert "1 passed" in replayed.stdout
    assert "cassettes: 1 replayed, 0 recorded, 0 missing" in replayed.stdout

    # as the README says: a changed prompt fails, naming the cassette and the field
    app = tmp_path / "weather.py"
    app.write_text(app.read_text().replace("in one line?", "in two lines?"), encoding="utf-8")
    changed = run(ci, port, tmp_path)
    assert changed.returncode == 1
    assert "CassetteMismatch" in changed.stdout and "test_forecast.yaml" in changed.stdout
    assert "body.messages[0].content:" in changed.stdout and "host:" not in changed.stdout
