"""The alias cap every YAML loader of user files applies first (a "billion laughs" bomb).

PyYAML shares an aliased node, so loading ten lines of nested anchors is cheap; everything
that walks the result (validation, copying, scrubbing, ``myna cassettes scan``) sees every
copy, and the copies number in the billions. `alias_problem` counts the nodes aliases copy
from the event stream, without following any alias, and names the problem when there are
too many; each loader raises it in its own error (cassettes, datasets, fake scripts).
"""

from __future__ import annotations

import re

__all__ = ["ALIAS_LIMIT", "alias_expansion", "alias_problem"]

ALIAS_LIMIT = 10_000
"""Nodes YAML aliases may copy in one file; past it the file is refused. Hand-written files
with a few shared anchors stay far below it."""

_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s\[\]{},]")
_ALIAS = re.compile(r"(?:^|[\s\[{,:-])\*[^\s\[\]{},]")


def alias_expansion(text: str | bytes) -> tuple[int, int]:
    """(aliases, nodes they copy) in YAML `text`, counted in one pass without expanding."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if _ANCHOR.search(text) is None or _ALIAS.search(text) is None:
        return 0, 0  # the common case: no alias can be there, no second pass
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    sizes: dict[str, int] = {}
    stack: list[tuple[str | None, int]] = []  # open collections: (anchor, nodes so far)
    aliases = copied = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                size = sizes.get(event.anchor, 1)
                copied += size
                if stack:
                    anchor, count = stack[-1]
                    stack[-1] = (anchor, count + size)
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                stack.append((event.anchor, 1))
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, count = stack.pop()
                if anchor is not None:
                    sizes[anchor] = count
                if stack:
                    parent, total = stack[-1]
                    stack[-1] = (parent, total + count)
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                if stack:
                    anchor, count = stack[-1]
                    stack[-1] = (anchor, count + 1)
    except yaml.YAMLError:
        pass  # broken YAML: the loader reports it, with its line
    return aliases, copied


def alias_problem(text: str | bytes, limit: int = ALIAS_LIMIT) -> str | None:
    """Why `text` must not be loaded (its aliases copy more than `limit` nodes), or None."""
    aliases, copied = alias_expansion(text)
    if copied <= limit:
        return None
    return (
        f"its {aliases} YAML aliases copy {copied:,} nodes, past the limit of {limit:,} (an "
        "alias bomb?); write the repeated parts out instead of aliasing them"
    )
