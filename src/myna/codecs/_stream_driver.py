"""One driver for every codec's push decoder: `decode_stream` and `adecode_stream`.

Each codec's ``_stream.py`` defines a `StreamDecoder` (a subclass of `PushDecoder`): a state
machine fed one wire event at a time. This module turns any of them into a sync iterator
and an async one with the same behaviour, so an async stream decodes on the event loop, with
no thread and no queue:

```python
from myna.codecs._stream_driver import adecode_stream, decode_stream
from myna.codecs.anthropic_messages._stream import StreamDecoder

chunks = list(decode_stream(StreamDecoder(), payloads))
async for chunk in adecode_stream(StreamDecoder(), apayloads): ...
```

The shared behaviour:

- events are numbered from 0 in the order fed; a `DecodeError` names that index;
- a shape a decoder did not foresee (``KeyError``, ``TypeError`` ...) is a `DecodeError`
  too, never a crash;
- once a decoder is `done` (its protocol's end event), later events are not read;
- events that run out before the end event raise `StreamInterruptedError` whose
  ``partial`` merges every chunk given so far (None if none).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any, ClassVar

from ..exceptions import DecodeError, MynaError, StreamInterruptedError
from ..messages import AIMessageChunk, merge_chunks
from ._common import excerpt

__all__ = ["PushDecoder", "adecode_stream", "decode_stream", "json_event"]


def json_event(event: Any, what: str) -> Any:
    """`event` parsed when it is JSON text (str or bytes), else as it is.

    Raises:
        DecodeError: ``"{what} is not JSON: ..."``, e.g. what = ``"Anthropic stream event 3"``.
    """
    if isinstance(event, (bytes, str)):
        try:
            return json.loads(event)
        except ValueError:
            raise DecodeError(f"{what} is not JSON: {excerpt(event)}") from None
    return event


class PushDecoder:
    """Base of every codec's `StreamDecoder`: feed events, get `AIMessageChunk`s back.

    Subclasses set `PROTOCOL` and implement `_feed(index, event)` (the chunks one event
    carries; set ``self.done = True`` on the protocol's end event) and `_close()` (the
    chunks owed once events run out, or raise `interrupted(...)` when the end never came).

    ```python
    decoder = StreamDecoder()
    for event in events:
        chunks = decoder.feed(event)
        if decoder.done:
            break
    chunks = decoder.close()   # raises StreamInterruptedError if the end never came
    ```
    """

    PROTOCOL: ClassVar[str] = "?"
    """The codec's protocol name, for error messages."""

    def __init__(self) -> None:
        self.events = 0
        """How many events were fed."""
        self.done = False
        """True once the protocol's end event arrived; later events are ignored."""
        self.chunks: list[AIMessageChunk] = []
        """Every chunk given so far (the ``partial`` of an interruption)."""

    def feed(self, event: Any) -> list[AIMessageChunk]:
        """The chunks one event carries (often one, sometimes none).

        Raises:
            DecodeError: the event is malformed; the message names its index.
            ProviderError: the event is an in-stream error.
        """
        if self.done:
            return []
        index = self.events
        self.events += 1
        try:
            out = self._feed(index, event)
        except MynaError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # a shape no check foresaw: still a malformed event, never a crash
            raise DecodeError(
                f"Malformed {self.PROTOCOL} stream event {index} ({type(exc).__name__}: {exc}). "
                f"Event: {excerpt(event)}"
            ) from None
        self.chunks.extend(out)
        return out

    def close(self) -> list[AIMessageChunk]:
        """The chunks owed once the events ran out (call once).

        Raises:
            StreamInterruptedError: the end event never came; ``partial`` holds what did.
        """
        if self.done:
            return []
        out = self._close()
        self.chunks.extend(out)
        return out

    def partial(self) -> AIMessageChunk | None:
        """Every chunk given so far, merged (None if none)."""
        return merge_chunks(self.chunks) if self.chunks else None

    def interrupted(self, message: str) -> StreamInterruptedError:
        """A `StreamInterruptedError` carrying `partial()`."""
        return StreamInterruptedError(message, partial=self.partial())

    def _feed(self, index: int, event: Any) -> list[AIMessageChunk]:
        raise NotImplementedError

    def _close(self) -> list[AIMessageChunk]:
        raise self.interrupted(
            f"The {self.PROTOCOL} stream ended after {self.events} event(s) before its end "
            "event; the reply is incomplete (the partial reply is on the error's .partial)."
        )


def decode_stream(decoder: PushDecoder, events: Iterable[Any]) -> Iterator[AIMessageChunk]:
    """Drive `decoder` over a sync iterable of wire events."""
    try:
        iterator = iter(events)
    except TypeError:
        raise DecodeError(
            f"{decoder.PROTOCOL} stream events must be iterable, got {excerpt(events)}"
        ) from None
    for event in iterator:
        yield from decoder.feed(event)
        if decoder.done:
            return
    yield from decoder.close()


async def adecode_stream(
    decoder: PushDecoder, events: AsyncIterable[Any]
) -> AsyncIterator[AIMessageChunk]:
    """Drive `decoder` over an async iterable of wire events, on the event loop."""
    async for event in events:
        for chunk in decoder.feed(event):
            yield chunk
        if decoder.done:
            return
    for chunk in decoder.close():
        yield chunk
