"""`Runnable`: the batch family, built once on top of `invoke` / `ainvoke`."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..exceptions import UserError

__all__ = ["Runnable"]


def _configs(config: Any, n: int) -> list[dict[str, Any]]:
    if config is None:
        return [{} for _ in range(n)]
    if isinstance(config, dict):
        base = {k: v for k, v in config.items() if k != "run_id"}
        out = [dict(base) for _ in range(n)]
        if "run_id" in config and n:
            out[0]["run_id"] = config["run_id"]
        return out
    if isinstance(config, (list, tuple)):
        if len(config) != n:
            raise UserError(
                f"batch got {len(config)} configs for {n} inputs; pass one config dict for all "
                "inputs, or a list with exactly one config per input."
            )
        return [dict(c or {}) for c in config]
    raise UserError(f"config must be a dict or a list of dicts, got {type(config).__name__}.")


def _concurrency(configs: list[dict[str, Any]], max_concurrency: int | None) -> int | None:
    limit = max_concurrency
    if limit is None and configs:
        limit = configs[0].get("max_concurrency")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise UserError(f"max_concurrency={limit!r} must be a positive int or None.")
    return limit


class Runnable:
    """Something with `invoke` / `ainvoke` / `stream` / `astream`; batching comes for free."""

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """Run on one input and return the output.

        Args:
            input: a string, messages, ``(role, content)`` tuples or message dicts.
            config: the per-call `RunConfig` (tags, metadata, callbacks, configurable, ...).
            **kwargs: per-call request parameters (temperature, max_tokens, ...).
        """
        raise NotImplementedError

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """Async `invoke`."""
        raise NotImplementedError

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]:
        """Yield the output in pieces as it is produced (arguments as for `invoke`)."""
        raise NotImplementedError

    def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Async `stream`."""
        raise NotImplementedError

    def _runs_inline(self) -> bool:
        """True when calls never block, so batching needs no threads."""
        return False

    def batch(
        self,
        inputs: Sequence[Any],
        config: Any = None,
        *,
        return_exceptions: bool = False,
        max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        """`invoke` each input, at most `max_concurrency` at once; results in input order.

        Args:
            config: one config for all inputs or a list with one per input;
                ``config["max_concurrency"]`` limits concurrency too.
            return_exceptions: put each failure's exception in its result slot instead of
                raising the first one.
        """
        inputs = list(inputs)
        configs = _configs(config, len(inputs))
        limit = _concurrency(configs, max_concurrency)
        if not inputs:
            return []

        def one(i: int) -> Any:
            try:
                return self.invoke(inputs[i], configs[i] or None, **kwargs)
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

        if len(inputs) == 1 or limit == 1 or self._runs_inline():
            return [one(i) for i in range(len(inputs))]
        workers = min(limit or len(inputs), len(inputs), 32)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(one, range(len(inputs))))

    async def abatch(
        self,
        inputs: Sequence[Any],
        config: Any = None,
        *,
        return_exceptions: bool = False,
        max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        """Async `batch`: runs concurrently on the event loop, bounded by `max_concurrency`."""
        inputs = list(inputs)
        configs = _configs(config, len(inputs))
        limit = _concurrency(configs, max_concurrency)
        semaphore = asyncio.Semaphore(limit) if limit else None

        async def one(i: int) -> Any:
            try:
                if semaphore is None:
                    return await self.ainvoke(inputs[i], configs[i] or None, **kwargs)
                async with semaphore:
                    return await self.ainvoke(inputs[i], configs[i] or None, **kwargs)
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

        return list(await asyncio.gather(*(one(i) for i in range(len(inputs)))))

    def batch_as_completed(
        self,
        inputs: Sequence[Any],
        config: Any = None,
        *,
        return_exceptions: bool = False,
        max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, result)`` pairs as calls finish (completion order)."""
        inputs = list(inputs)
        configs = _configs(config, len(inputs))
        limit = _concurrency(configs, max_concurrency)
        if not inputs:
            return

        def one(i: int) -> tuple[int, Any]:
            try:
                return i, self.invoke(inputs[i], configs[i] or None, **kwargs)
            except Exception as exc:
                if return_exceptions:
                    return i, exc
                raise

        if len(inputs) == 1 or limit == 1 or self._runs_inline():
            for i in range(len(inputs)):
                yield one(i)
            return
        workers = min(limit or len(inputs), len(inputs), 32)
        # a queue, not wait(): it preserves the true completion order even when several
        # calls finish before the consumer looks
        finished: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()

        def run(i: int) -> None:
            try:
                finished.put((True, one(i)))
            except BaseException as exc:
                finished.put((False, exc))

        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run, i) for i in range(len(inputs))]
            try:
                for _ in range(len(inputs)):
                    ok, value = finished.get()
                    if not ok:
                        raise value
                    yield value
            finally:
                for future in futures:
                    future.cancel()

    async def abatch_as_completed(
        self,
        inputs: Sequence[Any],
        config: Any = None,
        *,
        return_exceptions: bool = False,
        max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, Any]]:
        """Async `batch_as_completed`."""
        inputs = list(inputs)
        configs = _configs(config, len(inputs))
        limit = _concurrency(configs, max_concurrency)
        semaphore = asyncio.Semaphore(limit) if limit else None

        async def one(i: int) -> tuple[int, Any]:
            try:
                if semaphore is None:
                    return i, await self.ainvoke(inputs[i], configs[i] or None, **kwargs)
                async with semaphore:
                    return i, await self.ainvoke(inputs[i], configs[i] or None, **kwargs)
            except Exception as exc:
                if return_exceptions:
                    return i, exc
                raise

        tasks = [asyncio.ensure_future(one(i)) for i in range(len(inputs))]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()
