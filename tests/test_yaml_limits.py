"""The YAML alias cap (`myna._yaml_limits`) in every loader of a user's YAML (issue 11).

Ten lines of nested anchors expand to billions of nodes once anything walks the result; the
cassette loader refused them, the loaders of foreign cassettes, eval datasets and fake scripts
did not.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from myna._yaml_limits import ALIAS_LIMIT, alias_expansion, alias_problem
from myna.cassettes import CassetteError, convert_cassette, load_cassette
from myna.evals import Dataset
from myna.exceptions import UserError
from myna.fakes import load_script


def bomb(levels: int) -> str:
    """`levels` lines of anchors, each aliasing the one before nine times: 9**levels nodes."""
    lol = ", ".join(['"lol"'] * 9)
    lines = [f"a0: &a0 [{lol}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


LOADERS = {
    "cassette": (load_cassette, CassetteError),
    "foreign cassette": (lambda p: convert_cassette(p, p.with_name("out.yaml")), CassetteError),
    "dataset": (Dataset.load, UserError),
    "fake script": (load_script, UserError),
}


def test_counting_follows_no_alias():
    assert alias_expansion(bomb(10)) == (81, 4_412_961_486)
    assert alias_expansion(bomb(10).encode()) == (81, 4_412_961_486)
    assert alias_expansion("a: &x [1, 2]\nb: *x\n") == (1, 3)
    assert alias_expansion("no: anchors\n") == (0, 0)
    assert alias_problem("a: &x [1, 2]\nb: *x\n") is None  # a few shared anchors are fine
    assert alias_problem(bomb(5), limit=ALIAS_LIMIT) == (
        "its 36 YAML aliases copy 74,718 nodes, past the limit of 10,000 (an alias bomb?); "
        "write the repeated parts out instead of aliasing them"
    )


@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_every_loader_refuses_a_bomb_fast_naming_the_file(tmp_path, loader):
    load, error = LOADERS[loader]
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(10))
    started = time.perf_counter()
    with pytest.raises(error) as caught:
        load(path)
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert "bomb.yaml" in message and "81 YAML aliases" in message
    assert "4,412,961,486 nodes" in message


@pytest.mark.parametrize("loader", ["dataset", "fake script"])
def test_a_few_anchors_still_load(tmp_path, loader):
    path = tmp_path / "shared.yaml"
    if loader == "dataset":
        path.write_text(
            "cases:\n  - {name: a, inputs: &q {city: Paris}, expected: sunny}\n"
            "  - {name: b, inputs: *q, expected: sunny}\n"
        )
        assert [case.inputs for case in Dataset.load(path).cases] == [{"city": "Paris"}] * 2
    else:
        path.write_text("replies:\n  - &hi Hello!\n  - *hi\n")
        assert len(load_script(path)) == 2


# If the cap regresses, the loaders walk billions of nodes: run them in a child with 1 GiB of
# address space and a timeout, so the test fails instead of taking the machine's memory.
_CHILD = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    from myna.cassettes import convert_cassette
    from myna.evals import Dataset
    from myna.fakes import load_script

    path = Path(sys.argv[1])
    for load in (lambda p: convert_cassette(p, p.with_name("out.yaml")), Dataset.load, load_script):
        try:
            load(path)
        except Exception as exc:
            print(type(exc).__name__)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits")
def test_memory_stays_bounded(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(10))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["CassetteError", "UserError", "UserError"]
