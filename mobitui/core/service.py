"""The one place calls are made from: client + journal.

The console and the CLI both go through :class:`Service`, so a mutating call
is always journalled before it is sent and completed after.

The journal is a :class:`Journal` used on the caller's thread (the CLI, a bulk
job's own thread or process), or a :class:`JournalThread` (the console: the
disk and another process's lock are waited for off its event loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mobitui.core.client import MobivateClient, PlannedRequest, Result
from mobitui.core.config import Campaign, Config
from mobitui.core.journal import Journal, JournalFault, JournalThread
from mobitui.core.recorder import Recorder

T = TypeVar("T")


@dataclass
class Service:
    config: Config
    client: MobivateClient
    journal: Journal | JournalThread
    demo: bool = False
    # The last journal write that failed after its call was made (a status answer
    # not recorded, an unsubscribe's outcome not recorded); None once one succeeds.
    journal_fault: JournalFault | None = None

    @classmethod
    def open(
        cls,
        config: Config,
        api_key: str | None,
        journal: Journal | JournalThread,
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

    async def in_journal(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(journal, *args)``: on the journal's own thread when it has one.
        Raises JournalFault."""
        j = self.journal
        if isinstance(j, JournalThread):
            return await j.call(fn, *args)
        return fn(j, *args)

    async def status(self, campaign: Campaign, msisdn: str, job_id: int | None = None) -> Result:
        """Check a number and journal the answer. A status call changes nothing, so
        an answer the journal cannot take is still returned; the fault is kept in
        :attr:`journal_fault` for the host to show."""
        result = await self.client.status(campaign, msisdn)
        try:
            await self.in_journal(Journal.record, campaign, result, job_id)
        except JournalFault as exc:
            self.journal_fault = exc
        else:
            self.journal_fault = None
        return result

    async def unsubscribe(
        self, campaign: Campaign, msisdn: str, job_id: int | None = None
    ) -> Result:
        """Journal the attempt, send, journal the outcome.

        Raises JournalFault, with nothing sent, when the attempt cannot be
        written. When the outcome cannot be written after the call was made, the
        result is returned and the fault kept in :attr:`journal_fault` (the row
        stays "attempted, outcome unknown").
        """
        row = await self.in_journal(
            Journal.begin, campaign, msisdn, "unsubscribe", campaign.unsubscribe_via.value, job_id
        )
        result = await self.client.unsubscribe(campaign, msisdn, reference=f"mobitui-{row}")
        try:
            await self.in_journal(Journal.finish, row, result)
        except JournalFault as exc:
            self.journal_fault = exc
        else:
            self.journal_fault = None
        return result

    def plan_unsubscribe(self, campaign: Campaign, msisdn: str) -> PlannedRequest:
        return self.client.plan_unsubscribe(campaign, msisdn)
