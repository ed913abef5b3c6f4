"""Injected clocks: the engine never reads the wall clock itself, so a 25-minute interview runs in milliseconds.

Example::

    >>> clock = FakeClock()
    >>> clock.advance(90); clock.now()
    90.0
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable
from typing import Protocol


async def sleep_or_wake(sleep: Awaitable[None], wake: asyncio.Event) -> None:
    """Wait until `sleep` is done or `wake` is set, whichever comes first; neither is left waiting."""
    sleeper = asyncio.ensure_future(sleep)
    woken = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, woken):
            task.cancel()


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale; only differences mean anything."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Return once `now() >= deadline`."""
        ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - self.now()
        if delay > 0:
            await asyncio.sleep(delay)


class ScaledClock:
    """Interview time runs `factor` times faster than real time (demos of a 22-minute interview in minutes)."""

    def __init__(self, factor: float):
        if factor <= 0:
            raise ValueError("time scale must be positive")
        self.factor = factor
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.factor

    async def sleep_until(self, deadline: float) -> None:
        delay = (deadline - self.now()) / self.factor
        if delay > 0:
            await asyncio.sleep(delay)


class FakeClock:
    """Time moves only when a test calls :meth:`advance`; sleepers wake in deadline order."""

    def __init__(self, start: float = 0.0):
        self._now = float(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    async def sleep_until(self, deadline: float) -> None:
        if deadline <= self._now:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._seq), fut))
        await fut
