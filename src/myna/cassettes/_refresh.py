"""Re-record stale cassettes in place (``myna cassettes refresh``) and tell their age.

A refresh sends each recorded request again (the API key from the environment, see
`myna.cassettes.verify`), scrubs the new answers like a fresh recording and replaces the file
only once every answer has arrived: the new cassette is written to a temporary file and
renamed over the old one, so a failure (a dropped connection, a missing key, an error answer
where the recording had a success, a secret left after scrubbing) leaves the old file as it
was.

The cassette format keeps no recording date, so a cassette's age is the time of the last git
commit that touched it when git tracks it unchanged (a checkout resets file times), else the
file's modification time. ``[tool.myna] cassette_max_age = "90d"`` in ``pyproject.toml`` sets
when a cassette counts as stale (``myna cassettes list`` flags it; ``refresh`` re-records it).
"""

from __future__ import annotations

import functools
import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import UserError
from ._errors import CassetteError
from ._format import dump_cassette, load_cassette, loads_cassette, new_cassette
from ._scrub import Scrubber
from ._store import cassette_lock, write_atomic
from ._verify import _response_mapping, prepare_request

__all__ = ["RefreshResult", "arefresh", "cassette_age", "cassette_max_age", "parse_age", "refresh"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_age(text: str | float) -> float:
    """Seconds in an age such as ``"90d"``, ``"12h"``, ``"2w"`` or a number of seconds.

    Raises:
        UserError: the text is not an age.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    found = _AGE.match(str(text))
    if not found:
        raise UserError(
            f"{text!r} is not an age; write a number with a unit: 90d, 12h, 30m, 2w (or seconds)."
        )
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


def _pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def cassette_max_age(start: str | Path | None = None) -> float | None:
    """``[tool.myna] cassette_max_age`` of the nearest ``pyproject.toml`` (from `start`, default
    the working directory, upwards), in seconds; None when not set.

    Raises:
        UserError: the value is not an age.
    """
    found = _pyproject(Path(start or Path.cwd()).resolve())
    if found is None:
        return None
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    with open(found, "rb") as handle:
        value = tomllib.load(handle).get("tool", {}).get("myna", {}).get("cassette_max_age")
    if value is None:
        return None
    try:
        return parse_age(value)
    except UserError as exc:
        raise UserError(f"[tool.myna] cassette_max_age in {found}: {exc}") from None


@functools.lru_cache(maxsize=4096)
def _git_time(path: Path, mtime: float) -> float | None:
    """The commit time of the last commit touching `path`, when git tracks it unchanged."""
    del mtime  # part of the cache key: a rewritten file is asked again
    folder = str(path.parent)
    try:
        changed = subprocess.run(
            ["git", "-C", folder, "status", "--porcelain", "--", path.name],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if changed.returncode != 0 or changed.stdout.strip():
            return None  # not a repository, or the file differs from the last commit
        last = subprocess.run(
            ["git", "-C", folder, "log", "-1", "--format=%ct", "--", path.name],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    stamp = last.stdout.strip()
    return float(stamp) if last.returncode == 0 and stamp.isdigit() else None


def cassette_age(path: str | Path, *, now: float | None = None) -> tuple[float, str]:
    """A cassette's age in seconds and where it comes from: ``"git"`` (the last commit of an
    unchanged tracked file) or ``"mtime"`` (the file's modification time)."""
    path = Path(path).resolve()
    now = time.time() if now is None else now
    mtime = path.stat().st_mtime
    committed = _git_time(path, mtime)
    if committed is not None:
        return max(now - committed, 0.0), "git"
    return max(now - mtime, 0.0), "mtime"


@dataclass(frozen=True)
class RefreshResult:
    """A cassette re-recorded by `refresh`.

    Attributes:
        path: the cassette (rewritten in place).
        interactions: how many interactions were re-recorded.
        statuses: the new answers' HTTP statuses, in order.
    """

    path: Path
    interactions: int
    statuses: tuple[int, ...]


def _load(path: Path) -> dict[str, Any]:
    from ._format import read_bytes
    from ._to_script import _is_myna

    if not _is_myna(read_bytes(path)):
        raise CassetteError(
            f"{path} is not a myna cassette; convert it first (myna cassettes convert), then "
            "refresh the converted file."
        )
    return load_cassette(path)


def _new_interaction(
    path: Path, index: int, item: dict[str, Any], response: dict[str, Any], scrubber: Scrubber
) -> dict[str, Any]:
    old = int(item["response"]["status"])
    new = int(response["status"])
    if (old < 400) != (new < 400):
        raise CassetteError(
            f"{path}: interaction #{index} was answered {new} where the recording has {old}; "
            "the old file was kept (check the API key in the environment, or --base-url)."
        )
    return scrubber.interaction({"request": item["request"], "response": response})


def _write(path: Path, cassette: dict[str, Any], interactions: list[dict[str, Any]]) -> None:
    from ._convert import _refuse

    out = new_cassette(interactions)
    _refuse(path, out, Scrubber())
    text = dump_cassette(out)
    loads_cassette(text, str(path))  # what we write must load back
    with cassette_lock(path):
        write_atomic(path, text)


def refresh(
    path: str | Path,
    *,
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
    client: Any = None,
    redact: Sequence[str | re.Pattern[str]] = (),
) -> RefreshResult:
    """Re-record a myna cassette in place with the same requests, scrubbed.

    Args:
        path: the cassette.
        base_url: send to this server instead of the recorded URLs (path and query kept).
        env: where API keys come from (default `os.environ`); never from the cassette.
        client: an `httpx.Client` to send with (default: a new one, 60 s timeout).
        redact: extra strings or regexes to scrub, as for `Cassette`.

    Raises:
        CassetteError: not a myna cassette, or an answer is an error where the recording
            had a success (or the reverse); the old file is kept.
        CassetteSecretError: a secret survived scrubbing; nothing written.
        UserError: the provider's key is not in the environment (live only).
    """
    import httpx

    path = Path(path)
    cassette = _load(path)
    scrubber = Scrubber(redact)
    own = client is None
    client = client or httpx.Client(timeout=60.0)
    interactions, statuses = [], []
    try:
        for index, item in enumerate(cassette["interactions"]):
            method, url, headers, body = prepare_request(
                item, base_url=base_url, env=env, require_key=base_url is None
            )
            try:
                answer = client.request(method, url, headers=headers, content=body)
            except httpx.HTTPError as exc:
                raise CassetteError(
                    f"{path}: interaction #{index} failed ({type(exc).__name__}: {exc}); "
                    "the old file was kept."
                ) from None
            response = _response_mapping(answer.status_code, answer.headers, answer.content)
            interactions.append(_new_interaction(path, index, item, response, scrubber))
            statuses.append(answer.status_code)
    finally:
        if own:
            client.close()
    _write(path, cassette, interactions)
    return RefreshResult(path, len(interactions), tuple(statuses))


async def arefresh(
    path: str | Path,
    *,
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
    client: Any = None,
    redact: Sequence[str | re.Pattern[str]] = (),
) -> RefreshResult:
    """`refresh` with an `httpx.AsyncClient` (`client`, default a new one)."""
    import httpx

    path = Path(path)
    cassette = _load(path)
    scrubber = Scrubber(redact)
    own = client is None
    client = client or httpx.AsyncClient(timeout=60.0)
    interactions, statuses = [], []
    try:
        for index, item in enumerate(cassette["interactions"]):
            method, url, headers, body = prepare_request(
                item, base_url=base_url, env=env, require_key=base_url is None
            )
            try:
                answer = await client.request(method, url, headers=headers, content=body)
            except httpx.HTTPError as exc:
                raise CassetteError(
                    f"{path}: interaction #{index} failed ({type(exc).__name__}: {exc}); "
                    "the old file was kept."
                ) from None
            response = _response_mapping(answer.status_code, answer.headers, answer.content)
            interactions.append(_new_interaction(path, index, item, response, scrubber))
            statuses.append(answer.status_code)
    finally:
        if own:
            await client.aclose()
    _write(path, cassette, interactions)
    return RefreshResult(path, len(interactions), tuple(statuses))
