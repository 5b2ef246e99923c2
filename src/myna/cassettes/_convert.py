"""Bring cassettes into our format (`convert_cassette`) and re-scrub ours (`scrub_cassette`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..exceptions import DecodeError
from ._errors import CassetteError, CassetteSecretError
from ._format import (
    dump_cassette,
    loads_cassette,
    new_cassette,
    read_bytes,
)
from ._scrub import Scrubber, find_secrets
from ._store import cassette_lock, write_atomic

__all__ = ["convert_cassette", "scrub_cassette"]


def _is_ours(raw: bytes) -> bool:
    head = raw[:400].decode("utf-8", "replace")
    return "recorded_with: myna" in head or head.startswith("# myna cassette")


def _refuse(path: Path, cassette: dict[str, Any], scrubber: Scrubber) -> None:
    findings = find_secrets(cassette, scrubber)
    if findings:
        listed = "\n".join(f"  {finding}" for finding in findings[:10])
        raise CassetteSecretError(
            f"myna: refusing to write {path}: secret-shaped values remain after scrubbing:\n"
            f"{listed}\n  Pass redact=[...] to remove them; nothing was written."
        )


def convert_cassette(
    source: str | Path,
    destination: str | Path,
    *,
    redact: Sequence[str | re.Pattern[str]] = (),
) -> dict[str, Any]:
    """Convert a vcrpy / pydantic-ai / Ruby VCR / httprr cassette into a myna cassette.

    Bodies are decoded (gzip and chunking undone, JSON structured, streams split into events)
    and scrubbed like a fresh recording.

    Args:
        source: the foreign cassette.
        destination: where to write ours (may equal `source` to convert in place).
        redact: extra strings or regexes to replace with ``REDACTED``.

    Returns:
        The written cassette mapping.

    Raises:
        CassetteError: the source is unreadable, in no known format, or already ours.
        CassetteSecretError: a secret-shaped value survived scrubbing (nothing written).
    """
    from ._foreign import load_interactions

    source, destination = Path(source), Path(destination)
    if _is_ours(read_bytes(source)):
        raise CassetteError(f"{source} is already a myna cassette; nothing to convert.")
    try:
        foreign = load_interactions(source)
    except DecodeError as exc:
        raise CassetteError(f"Cannot convert {source}: {exc}") from None
    scrubber = Scrubber(redact)
    interactions = [scrubber.interaction(item.stored()) for item in foreign]
    cassette = new_cassette(interactions)
    _refuse(destination, cassette, scrubber)
    text = dump_cassette(cassette)
    written = loads_cassette(text, str(destination))  # what we write must load back
    with cassette_lock(destination):
        write_atomic(destination, text)
    return written


def scrub_cassette(path: str | Path, *, redact: Sequence[str | re.Pattern[str]] = ()) -> int:
    """Scrub a myna cassette in place; returns how many interactions changed.

    The file is rewritten only when something changed.

    Raises:
        CassetteError: the file is not a valid myna cassette (convert foreign ones first).
        CassetteSecretError: a secret-shaped value survived scrubbing (nothing written).
    """
    path = Path(path)
    cassette = loads_cassette(read_bytes(path), str(path))  # names `convert` for vcrpy files
    scrubber = Scrubber(redact)
    changed = 0
    interactions = []
    for item in cassette["interactions"]:
        clean = scrubber.interaction(item)
        # compare in written form: scrubbing also drops None fields and noise headers
        if dump_cassette({"interactions": [clean]}) != dump_cassette({"interactions": [item]}):
            changed += 1
        interactions.append(clean)
    out = new_cassette(interactions)
    out["recorded_with"] = cassette.get("recorded_with") or out["recorded_with"]
    _refuse(path, out, scrubber)
    if changed:
        with cassette_lock(path):
            write_atomic(path, dump_cassette(out))
    return changed
