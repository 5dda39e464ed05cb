"""The one place calls are made from: client + journal.

The console and the CLI both go through :class:`Service`, so a mutating call
is always journalled before it is sent and completed after, and claims its
(campaign, MSISDN) first: while one unsubscribe of a number is in flight
anywhere on this journal (another job, process or console), a second one is
not sent (see :meth:`Journal.begin`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mobitui.core.client import MobivateClient, Operation, Outcome, PlannedRequest, Result
from mobitui.core.config import Campaign, Config
from mobitui.core.journal import InFlight, Journal
from mobitui.core.recorder import Recorder

T = TypeVar("T")
CLAIM_MARGIN = 5.0  # seconds beyond the client's longest wait an attempt counts as in flight
# A number unsubscribed (accepted, or outcome unknown) this recently is not unsubscribed
# again unless the caller asks for it deliberately (the console's typed confirmation).
RECENT_UNSUBSCRIBE = 600.0


@dataclass
class Service:
    config: Config
    client: MobivateClient
    journal: Journal
    demo: bool = False
    # The console sets this: an unsubscribe's journal writes then run on a thread of
    # their own, on a connection of their own, so a locked journal (SQLite waits up
    # to 10 s for it) never holds the screen.
    journal_off_loop: bool = False
    _side: Journal | None = field(default=None, init=False, repr=False)
    _pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    @classmethod
    def open(
        cls,
        config: Config,
        api_key: str | None,
        journal: Journal,
        recorder: Recorder | None = None,
        demo: bool = False,
        concurrency: int | None = None,
        transport: object | None = None,
    ) -> Service:
        client = MobivateClient(
            config,
            api_key,
            recorder=recorder,
            transport=transport,  # type: ignore[arg-type]
            concurrency=concurrency or config.bulk.concurrency,
        )
        return cls(config, client, journal, demo)

    @property
    def recorder(self) -> Recorder:
        return self.client.recorder

    async def aclose(self) -> None:
        await self.client.aclose()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            side, self._side = self._side, None
            if side is not None:
                pool.submit(side.close)
            pool.shutdown(wait=False)

    async def _journalled(self, call: Callable[[Journal], T]) -> T:
        """``call(journal)`` on the loop, or off it (``journal_off_loop``), on a side connection."""
        if not self.journal_off_loop:
            return call(self.journal)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="mobitui-journal")

        def run() -> T:
            if self._side is None:
                self._side = Journal(self.journal.path, self.journal.operator)
            return call(self._side)

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    async def recent_unsubscribes(self, campaign: Campaign, msisdn: str, within: float) -> list[dict[str, Any]]:
        """The journal's unsubscribes of this number in this campaign in the last ``within`` s."""
        return await self._journalled(lambda j: j.recent_unsubscribes(campaign.campaign_id, msisdn, within))

    async def status(self, campaign: Campaign, msisdn: str, job_id: int | None = None) -> Result:
        """Check and journal; a journal that cannot be written sets ``journal_error``, the
        answer is still the server's."""
        result = await self.client.status(campaign, msisdn)
        try:
            await self._journalled(lambda j: j.record(campaign, result, job_id))
        except sqlite3.Error as exc:
            result.journal_error = f"{exc}"
        return result

    async def unsubscribe(
        self, campaign: Campaign, msisdn: str, job_id: int | None = None, *, again: bool = False
    ) -> Result:
        """Claim, journal, send, journal the answer. Never raises for the journal:

        * another unsubscribe of the number in this campaign in flight (anywhere on
          this journal), one accepted or of unknown outcome in the last
          ``RECENT_UNSUBSCRIBE`` seconds (unless ``again``: asked for deliberately),
          or a journal that cannot be written before sending: ``failed``,
          "Not sent: ...", nothing sent;
        * the answer cannot be written: the result says what the server answered,
          with ``journal_error`` set; the journal's row still says 'attempted'.
        """
        route = campaign.unsubscribe_via
        window = self.config.network.longest_wait + CLAIM_MARGIN
        try:
            row = await self._journalled(
                lambda j: j.begin(campaign, msisdn, "unsubscribe", route.value, job_id, exclusive_for=window,
                                  recent_for=None if again else RECENT_UNSUBSCRIBE)
            )
        except InFlight as exc:
            return Result(msisdn, campaign.campaign_id, Operation.UNSUBSCRIBE, route, Outcome.FAILED,
                          error=f"Not sent: {exc}. Not unsubscribed twice; check its status.")
        except sqlite3.Error as exc:
            return Result(msisdn, campaign.campaign_id, Operation.UNSUBSCRIBE, route, Outcome.FAILED,
                          error=f"Not sent: the journal could not be written ({exc}); nothing is sent "
                                "that the journal does not record first.")
        result = await self.client.unsubscribe(campaign, msisdn, reference=f"mobitui-{row}")
        try:
            await self._journalled(lambda j: j.finish(row, result))
        except sqlite3.Error as exc:
            result.journal_error = f"{exc}"
        return result

    def plan_unsubscribe(self, campaign: Campaign, msisdn: str) -> PlannedRequest:
        return self.client.plan_unsubscribe(campaign, msisdn)
