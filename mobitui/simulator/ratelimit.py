"""A token bucket: at most ``rate`` requests per second, bursts up to one second's worth."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self._clock = clock
        self._capacity = max(1.0, rate or 0.0)
        self._tokens = self._capacity
        self._updated = clock()

    def admit(self) -> int | None:
        """None if the request may proceed, else whole seconds to wait (Retry-After)."""
        if self.rate is None:
            return None
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return max(1, math.ceil((1 - self._tokens) / self.rate))
