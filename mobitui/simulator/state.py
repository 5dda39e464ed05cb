"""Everything the simulator remembers: subscriptions, PINs, the request log, counters.

State is kept per (campaign_id, msisdn) and created lazily from
:func:`samples.initial_state`, so a status after an unsubscribe by any route
shows ``unsub``. The server's event loop and a test's thread both touch it, so
every access goes through one lock.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from dataclasses import replace
from typing import Any

from mobitui.core.config import Campaign, Config
from mobitui.simulator.options import SimOptions
from mobitui.simulator.ratelimit import RateLimiter
from mobitui.simulator.record import RequestRecord
from mobitui.simulator.samples import initial_state
from mobitui.simulator.waits import Waits

Key = tuple[str, str]  # (campaign_id, msisdn)

LOG_LIMIT = 100_000  # records kept; the counters keep counting beyond it


def _key(campaign_id: str, msisdn: str) -> Key:
    return campaign_id.lower(), msisdn


class SimState:
    def __init__(self, config: Config, api_key: str, options: SimOptions | None = None):
        self.config = config
        self.api_key = api_key
        self.options = options or SimOptions()
        self.account_id = config.account.account_id
        self.campaigns: dict[str, Campaign] = {c.campaign_id: c for c in config.campaigns}
        self.waits = Waits()
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every change, the log and the counters; re-seed the random choices."""
        with self._lock:
            self._states: dict[Key, str] = {}
            self._pin_failures: dict[Key, int] = {}
            self._contacted: set[Key] = set()
            self._unsubscribes: Counter[Key] = Counter()
            self._log: deque[RequestRecord] = deque(maxlen=LOG_LIMIT)
            self._total = 0
            seed = self.options.seed
            # Two generators, so the fault sequence does not depend on how many
            # references were handed out.
            self.rng = random.Random(seed)
            self._ids = random.Random(None if seed is None else f"{seed}/ids")
            self._limiter = RateLimiter(self.options.rate_limit)

    # -- campaigns and subscriptions ----------------------------------------
    def campaign(self, campaign_id: str) -> Campaign | None:
        return self.campaigns.get(campaign_id.lower())

    def state_of(self, campaign_id: str, msisdn: str) -> str:
        key = _key(campaign_id, msisdn)
        with self._lock:
            return self._states.get(key) or initial_state(*key)

    def set_state(self, campaign_id: str, msisdn: str, state: str) -> None:
        with self._lock:
            self._states[_key(campaign_id, msisdn)] = state

    def unsubscribe(self, campaign_id: str, msisdn: str) -> None:
        key = _key(campaign_id, msisdn)
        with self._lock:
            self._states[key] = "unsub"
            self._unsubscribes[key] += 1

    def unsubscribe_count(self, campaign_id: str, msisdn: str) -> int:
        """How many unsubscribe requests, by any route, were acted on."""
        with self._lock:
            return self._unsubscribes[_key(campaign_id, msisdn)]

    # -- PIN flow --------------------------------------------------------------
    def issue_pin(self, campaign_id: str, msisdn: str) -> None:
        with self._lock:
            self._pin_failures[_key(campaign_id, msisdn)] = 0

    def pin_failures(self, campaign_id: str, msisdn: str) -> int:
        with self._lock:
            return self._pin_failures.get(_key(campaign_id, msisdn), 0)

    def fail_pin(self, campaign_id: str, msisdn: str) -> None:
        key = _key(campaign_id, msisdn)
        with self._lock:
            self._pin_failures[key] = self._pin_failures.get(key, 0) + 1

    def confirm_pin(self, campaign_id: str, msisdn: str) -> None:
        key = _key(campaign_id, msisdn)
        with self._lock:
            self._pin_failures.pop(key, None)
            self._states[key] = "active"

    # -- fault bookkeeping -----------------------------------------------------
    def first_contact(self, campaign_id: str, msisdn: str) -> bool:
        """True the first time this pair is seen since start or reset."""
        key = _key(campaign_id, msisdn)
        with self._lock:
            if key in self._contacted:
                return False
            self._contacted.add(key)
            return True

    def admit(self) -> int | None:
        """None if the rate limit lets a request through, else seconds to wait."""
        with self._lock:
            return self._limiter.admit()

    def draw(self) -> float:
        with self._lock:
            return self.rng.random()

    def choose(self, options: list[str]) -> str:
        with self._lock:
            return self.rng.choice(options)

    def latency(self) -> float:
        """Seconds to hold every answer: latency plus a random share of jitter."""
        opts = self.options
        if not opts.latency_ms and not opts.jitter_ms:
            return 0.0
        with self._lock:
            jitter = self.rng.uniform(0, opts.jitter_ms) if opts.jitter_ms else 0.0
        return (opts.latency_ms + jitter) / 1000

    # -- identifiers -----------------------------------------------------------
    def reference(self) -> str:
        """A Subscription API reference: ``AP:`` 7 hex, 9 hex, 8 hex."""
        with self._lock:
            parts = (f"{self._ids.getrandbits(n * 4):0{n}x}" for n in (7, 9, 8))
            return "AP:" + "-".join(parts)

    def mt_reference(self) -> str:
        """A gateway message reference: ``MT-`` and 32 hex."""
        with self._lock:
            return f"MT-{self._ids.getrandbits(128):032x}"

    # -- request log -------------------------------------------------------------
    def log(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)
            self._total += 1

    def mark_acted(self, record: RequestRecord) -> None:
        """A request logged on arrival was applied later (``SimOptions.apply_late``)."""
        with self._lock:
            for i in range(len(self._log) - 1, -1, -1):
                if self._log[i] is record:
                    self._log[i] = replace(record, acted=True)
                    return

    def records(self) -> list[RequestRecord]:
        """The request log, oldest first."""
        with self._lock:
            return list(self._log)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first, as JSON-ready dicts (the fields of RequestRecord)."""
        return [record.to_json() for record in self.records()]

    def stats(self) -> dict[str, object]:
        with self._lock:
            return {
                "total_requests": self._total,
                "unsubscribes": {f"{c}:{m}": n for (c, m), n in self._unsubscribes.items()},
            }
