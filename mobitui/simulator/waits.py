"""Sleeps that end early when the server stops, so stopping never waits on a hang."""

from __future__ import annotations

import asyncio


class Waits:
    """Interruptible pauses. Use only from the server's event loop thread."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()
        self._released = False

    async def sleep(self, seconds: float | None) -> bool:
        """Pause ``seconds`` (None: until released). True if the full pause elapsed."""
        if self._released:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            if seconds is None:
                await waiter
                return False
            try:
                await asyncio.wait_for(waiter, seconds)
            except TimeoutError:
                return True
            return False
        finally:
            self._waiters.discard(waiter)

    def release(self) -> None:
        """End every pause now and any later one at once: the server is stopping."""
        self._released = True
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_result(None)
