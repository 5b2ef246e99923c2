"""``myna cassettes``: list, show, scan, scrub, prune, convert, to-script, verify, refresh."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["add_commands", "scan_file"]

_SUFFIXES = (".yaml", ".yml")
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache"}


def _iter_files(paths: Iterable[str], suffixes: tuple[str, ...] = _SUFFIXES) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                parts = child.relative_to(path).parts
                if any(p in _SKIP_DIRS or (p.startswith(".") and p not in (".",)) for p in parts):
                    continue
                if child.is_file() and child.suffix in suffixes:
                    yield child
        elif path.exists():
            yield path
        else:
            from ..cassettes import CassetteError

            raise CassetteError(f"No such file or directory: {path}")


def _is_myna(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(400).decode("utf-8", "replace")
    except OSError:
        return False
    return head.startswith("# myna cassette") or "recorded_with: myna" in head


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count:.1f} GB"


def _console() -> Any:
    try:
        from rich.console import Console
    except ImportError:
        return None
    return Console(highlight=False, soft_wrap=True)


def _print(console: Any, text: str) -> None:
    if console is not None:
        from rich.markup import escape

        console.print(escape(text))
    else:
        print(text)


# ---------------------------------------------------------------- list


def _list(args: argparse.Namespace) -> int:
    from ..cassettes import (
        CassetteError,
        cassette_age,
        cassette_max_age,
        load_parsed,
        provider_of,
    )

    limit = cassette_max_age()
    rows = []
    sources: set[str] = set()
    stale = 0
    now = time.time()
    for path in _iter_files(args.paths):
        if not _is_myna(path):
            continue
        stat = path.stat()
        try:
            requests = load_parsed(path).requests
            count = str(len(requests))
            providers = sorted({provider_of(r["url"]) for r in requests})
            provider = ", ".join(providers) or "-"
        except CassetteError as exc:
            count, provider = "broken", str(exc).split(": ", 1)[-1][:60]
        seconds, source = cassette_age(path, now=now)
        sources.add(source)
        flag = "STALE" if limit is not None and seconds > limit else ""
        stale += bool(flag)
        rows.append((_age(seconds), _size(stat.st_size), count, provider, str(path), flag))
    console = _console()
    if console is not None and console.is_terminal:
        from rich.table import Table

        table = Table("age", "size", "interactions", "provider")
        table.add_column("cassette", overflow="fold")
        table.add_column("stale")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    else:  # piped: one tab-separated line per cassette, easy to grep
        print("age\tsize\tinteractions\tprovider\tcassette\tstale")
        for row in rows:
            print("\t".join(row))
    _print(console, f"{len(rows)} cassette(s)")
    if rows:
        said = {"git": "the last git commit", "mtime": "the file time"}
        _print(console, "age from " + " or ".join(said[s] for s in sorted(sources)))
    if limit is not None:
        _print(
            console,
            f"{stale} older than [tool.myna] cassette_max_age ({_age(limit)})"
            + ("; re-record them with: myna cassettes refresh PATH" if stale else ""),
        )
    return 0


# ---------------------------------------------------------------- show


def _show(args: argparse.Namespace) -> int:
    from ..cassettes import load_cassette, render_cassette

    path = Path(args.file)
    cassette = load_cassette(path)
    console = _console()
    text = render_cassette(cassette, str(path), console=console)
    if console is None:
        print(text)
    return 0


# ---------------------------------------------------------------- scan / scrub


def scan_file(path: Path, scrubber: Any) -> list[str]:
    """Findings in one file as ``path:line: kind`` / ``path: interaction ...`` lines.

    Every line is read with the scrubber's detector; a myna cassette is also read as data
    (`find_secrets`), which sees what a line cannot: header names, query keys, fields named
    like credentials, encoded values and tokens split across stream events. Both ask the one
    detector the scrubber uses, so whatever scrubbing would remove is found here.
    """
    from ..cassettes import CassetteError, find_secrets, load_parsed

    found = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return [f"{path}: cannot read ({exc.strerror or exc})"]
    line_kinds = set()
    for number, line in enumerate(text.splitlines(), 1):
        kind = scrubber.search(line)
        if kind:
            line_kinds.add(kind)
            found.append(f"{path}:{number}: {kind}")
    if _is_myna(path):
        try:
            findings = find_secrets(load_parsed(path).data, scrubber)
        except CassetteError as exc:
            # what cannot be read as data cannot be vouched for (an edited or hostile file)
            return [*found, f"{path}: not checked, it does not load as a cassette: {exc}"]
        structural = {"secret-header", "secret-query-param", "url-password", "secret-field"}
        hidden = ("(percent-encoded)", "base64", "(joined)")
        for finding in findings:
            # a kind the line scan did not see may hide in YAML escapes or folded lines
            if (
                finding.kind in structural
                or finding.path.endswith(hidden)
                or finding.kind not in line_kinds
            ):
                found.append(f"{path}: {finding}")
    return found


def _scan(args: argparse.Namespace) -> int:
    from ..cassettes import Scrubber

    scrubber = Scrubber()
    files = list(_iter_files(args.paths, (*_SUFFIXES, ".json", ".jsonl", ".httprr")))
    findings = []
    for path in files:
        findings.extend(scan_file(path, scrubber))
    console = _console()
    for line in findings:
        _print(console, line)
    if findings:
        _print(
            console,
            f"myna: {len(findings)} finding(s) in {len(files)} file(s); before committing, "
            "remove secrets (myna cassettes scrub PATH) and restore or re-record a cassette "
            "that does not load.",
        )
        return 1
    if not args.quiet:
        _print(console, f"no secrets found in {len(files)} file(s)")
    return 0


def _scrub(args: argparse.Namespace) -> int:
    from ..cassettes import CassetteError, scrub_cassette

    console = _console()
    status = 0
    explicit = {Path(p) for p in args.paths if not Path(p).is_dir()}
    for path in _iter_files(args.paths):
        if not _is_myna(path) and path not in explicit:
            continue
        try:
            changed = scrub_cassette(path)
        except CassetteError as exc:
            _print(console, f"myna: {exc}")
            status = 1
            continue
        _print(
            console, f"{path}: " + (f"scrubbed {changed} interaction(s)" if changed else "clean")
        )
    return status


# ---------------------------------------------------------------- prune


_DEFAULT_LOG = Path(".myna") / "cassettes-used.log"


def _prune(args: argparse.Namespace) -> int:
    from ..cassettes import CassetteError, read_usage_record, usage_log

    log = Path(args.log) if args.log else (usage_log() or _DEFAULT_LOG)
    record = read_usage_record(log)
    rerun = "Run the whole suite (pytest with no -k, -m, --lf, --sw, -x or test paths), then prune."
    if record.status is not None and record.status.startswith("partial"):
        why = record.status.split(":", 1)[1].strip()
        raise CassetteError(
            f"Refusing to prune: the last run ({log}) did not run the whole suite: {why}. "
            f"The cassettes of the tests it did not run would look unused. {rerun}"
        )
    if record.managed and record.status is None:
        raise CassetteError(
            f"Refusing to prune: the run that wrote {log} never finished (or its runner did "
            f"not call myna.cassettes.finish_usage_log()), so it may not have used every "
            f"cassette. {rerun}"
        )
    if not record.paths:
        raise CassetteError(
            f"The usage log {log} names no cassette; refusing to prune everything. Run the test "
            "suite (with the myna pytest plugin or MYNA_CASSETTE_LOG set) first."
        )
    console = _console()
    finished = log.stat().st_mtime
    covers = [folder.resolve() for folder in record.covers]
    stale, kept = [], []
    for path in _iter_files([args.path]):
        full = path.resolve()
        if not _is_myna(path) or str(full) in record.paths:
            continue
        if covers and not any(full.is_relative_to(folder) for folder in covers):
            kept.append(f"kept {path} (outside the folders the last run covered)")
        elif path.stat().st_mtime > finished:
            kept.append(f"kept {path} (written after the last run)")
        else:
            stale.append(path)
    for path in stale:
        if not args.dry_run:
            path.unlink()
        _print(console, f"{'would remove' if args.dry_run else 'removed'} {path}")
    for line in kept:
        _print(console, line)
    _print(console, f"{len(stale)} unused cassette(s) {'found' if args.dry_run else 'removed'}")
    if kept and covers:
        shown = ", ".join(_relative(folder) for folder in covers)
        _print(console, f"{len(kept)} kept: the last run covered only {shown}")
    return 0


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- convert


def _convert(args: argparse.Namespace) -> int:
    from ..cassettes import CassetteError, convert_cassette

    if not args.in_place and not args.out_dir:
        raise CassetteError("convert needs --out-dir DIR (or --in-place to replace the sources).")
    console = _console()
    status = 0
    for source in _iter_files(args.sources, (*_SUFFIXES, ".httprr")):
        if args.in_place:
            target = source if source.suffix in _SUFFIXES else source.with_suffix(".yaml")
        else:
            target = Path(args.out_dir) / f"{source.stem}.yaml"
        try:
            cassette = convert_cassette(source, target)
        except CassetteError as exc:
            _print(console, f"myna: {exc}")
            status = 1
            continue
        _print(console, f"{source} -> {target} ({len(cassette['interactions'])} interaction(s))")
    return status


# ---------------------------------------------------------------- to-script


def _to_script(args: argparse.Namespace) -> int:
    import yaml

    from ..cassettes import to_script

    entries = to_script(args.cassette, args.output)
    console = _console()
    if args.output:
        _print(console, f"{args.cassette} -> {args.output} ({len(entries)} script entries)")
    else:
        print(yaml.safe_dump({"replies": entries}, sort_keys=False, allow_unicode=True), end="")
    return 0


# ---------------------------------------------------------------- verify


def _recordings(paths: Iterable[str]) -> Iterator[Path]:
    """Cassettes under `paths`: ours, and foreign ones named directly or found in folders."""
    yield from _iter_files(paths, (*_SUFFIXES, ".httprr"))


def _verify(args: argparse.Namespace) -> int:
    from ..cassettes import CassetteError, verify

    console = _console()
    explicit = {Path(p) for p in args.paths if not Path(p).is_dir()}
    reports, broken = 0, 0
    status = 0
    for path in _recordings(args.paths):
        try:
            report = verify(path, live=args.live, base_url=args.base_url)
        except CassetteError as exc:
            if path in explicit:
                _print(console, f"myna: {exc}")
                status = 1
            continue  # a YAML file in a folder that is not a recording
        reports += 1
        broken += report.breaking
        for line in report.lines():
            _print(console, line)
    _print(console, f"{broken} of {reports} cassette(s) drifted in a breaking way")
    return 1 if broken else status


# ---------------------------------------------------------------- refresh


def _refresh(args: argparse.Namespace) -> int:
    from ..cassettes import CassetteError, cassette_age, cassette_max_age, parse_age, refresh

    limit = parse_age(args.older_than) if args.older_than else cassette_max_age()
    console = _console()
    status = refreshed = 0
    explicit = {Path(p) for p in args.paths if not Path(p).is_dir()}
    for path in _iter_files(args.paths):
        if not _is_myna(path):
            if path in explicit:
                _print(console, f"myna: {path} is not a myna cassette (convert it first)")
                status = 1
            continue
        seconds, source = cassette_age(path)
        if limit is not None and seconds <= limit:
            _print(console, f"{path}: fresh ({_age(seconds)} old by {source}), kept")
            continue
        if args.dry_run:
            _print(console, f"{path}: would refresh ({_age(seconds)} old by {source})")
            continue
        try:
            result = refresh(path, base_url=args.base_url)
        except CassetteError as exc:  # CassetteSecretError too: nothing was written
            _print(console, f"myna: {exc}")
            status = 1
            continue
        refreshed += 1
        codes = ", ".join(str(code) for code in result.statuses)
        _print(console, f"{path}: refreshed {result.interactions} interaction(s) ({codes})")
    _print(console, f"{refreshed} cassette(s) refreshed")
    return status


# ---------------------------------------------------------------- wiring


def add_commands(subparsers: Any) -> None:
    """Add ``myna cassettes ...`` to the ``myna`` command's subparsers."""
    parser = subparsers.add_parser(
        "cassettes",
        help="list, show, scan, scrub, prune, convert, verify and refresh recorded cassettes",
        description="Tools for myna's record/replay cassettes.",
    )
    commands = parser.add_subparsers(dest="cassettes_command", required=True)

    p = commands.add_parser("list", help="cassettes with age, size, interactions and provider")
    p.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    p.set_defaults(run=_list)

    p = commands.add_parser("show", help="render the recorded conversation")
    p.add_argument("file")
    p.set_defaults(run=_show)

    p = commands.add_parser(
        "scan",
        help="find secret-shaped values; exits 1 on a find (use it as a pre-commit hook)",
    )
    p.add_argument("paths", nargs="+", help="files or folders")
    p.add_argument("--quiet", action="store_true", help="print nothing when clean")
    p.set_defaults(run=_scan)

    p = commands.add_parser("scrub", help="remove secrets from cassettes, rewriting them in place")
    p.add_argument("paths", nargs="+", help="files or folders")
    p.set_defaults(run=_scrub)

    p = commands.add_parser(
        "prune",
        help="delete cassettes no test used in the last complete test run",
        description="Delete the cassettes the last test run did not use. Refuses after a "
        "partial run (-k, -m, --lf, test paths, stopped early), whose unused cassettes may "
        "belong to tests it did not run; keeps cassettes outside the folders the run covered.",
    )
    p.add_argument("path", nargs="?", default=".", help="folder to prune (default: .)")
    p.add_argument("--log", help=f"usage log (default: $MYNA_CASSETTE_LOG or {_DEFAULT_LOG})")
    p.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    p.set_defaults(run=_prune)

    p = commands.add_parser("convert", help="convert vcrpy / pydantic-ai / VCR / httprr cassettes")
    p.add_argument("sources", nargs="+", help="files or folders")
    p.add_argument("--out-dir", help="where to write the converted cassettes")
    p.add_argument("--in-place", action="store_true", help="replace each source with ours")
    p.set_defaults(run=_convert)

    p = commands.add_parser(
        "to-script",
        help="turn a recording's replies into a provider-neutral fake script (YAML)",
        description="Decode each recorded reply with its protocol's codec and write it as a "
        "script entry (text, reasoning, tool calls, usage, structured output, errors as "
        "faults) that FakeChatModel(path) and every emulator answer with.",
    )
    p.add_argument("cassette", help="a myna cassette, or a vcrpy / pydantic-ai / VCR / httprr one")
    p.add_argument("-o", "--output", help="write the script here (default: print it)")
    p.set_defaults(run=_to_script)

    p = commands.add_parser(
        "verify",
        help="re-send recorded requests and compare the answers' shape; exits 1 on a break",
        description="Re-send each recorded request and compare the SHAPE of the new answer "
        "with the recorded one (JSON paths and types, stream event types and order, status, "
        "finish reason, usage fields), not its text. Removed or retyped paths and removed "
        "events are breaking (exit 1); added ones are not. By default myna's own emulator "
        "answers from the recording (a fidelity check of the emulator); --live sends to the "
        "recorded API with the key from the environment (OPENAI_API_KEY, ...), never from "
        "the file.",
    )
    p.add_argument("paths", nargs="+", help="cassette files or folders")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--live", action="store_true", help="send to the real API")
    target.add_argument("--base-url", help="send to this server (recorded path kept)")
    p.set_defaults(run=_verify)

    p = commands.add_parser(
        "refresh",
        help="re-record stale cassettes in place with the same requests (live API)",
        description="Re-send each recorded request (the key from the environment: "
        "OPENAI_API_KEY, ...) and rewrite the cassette with the new answers, scrubbed. The "
        "old file stays until every answer arrived; an error answer where the recording had "
        "a success keeps it too. Without --older-than, [tool.myna] cassette_max_age of "
        "pyproject.toml chooses the stale ones (else every cassette named is refreshed).",
    )
    p.add_argument("paths", nargs="+", help="cassette files or folders")
    p.add_argument("--older-than", metavar="AGE", help="only cassettes older than AGE (90d, 12h)")
    p.add_argument("--base-url", help="send to this server instead of the recorded API")
    p.add_argument("--dry-run", action="store_true", help="only list what would be refreshed")
    p.set_defaults(run=_refresh)
