"""The one place calls are made from: client + journal.

The console and the CLI both go through :class:`Service`, so a mutating call
is always journalled before it is sent and completed after, and claims its
(campaign, MSISDN) first: while one unsubscribe of a number is in flight
anywhere on this journal (another job, process or console), a second one is
not sent (see :meth:`Journal.begin`).

The journal is a :class:`Journal` used on the caller's thread (the CLI, a bulk
job's own thread or process), or a :class:`JournalThread` (the console: the
disk and another process's lock are waited for off its event loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mobitui.core.client import MobivateClient, Operation, Outcome, PlannedRequest, Result
from mobitui.core.config import Campaign, Config
from mobitui.core.journal import InFlight, Journal, JournalFault, JournalThread
from mobitui.core.recorder import Recorder
from mobitui.core.routes import plan

T = TypeVar("T")
CLAIM_MARGIN = 5.0  # seconds beyond the client's longest wait an attempt counts as in flight
# A number unsubscribed (accepted, or outcome unknown) this recently is not unsubscribed
# again unless the caller asks for it deliberately (the console's typed confirmation).
RECENT_UNSUBSCRIBE = 600.0


@dataclass
class Service:
    config: Config
    client: MobivateClient
    journal: Journal | JournalThread
    demo: bool = False
    # The last journal write that failed (a status answer not recorded, an
    # unsubscribe not sent because its attempt could not be recorded, or its outcome
    # not recorded); None once one succeeds. For the host to show.
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

    async def recent_unsubscribes(self, campaign: Campaign, msisdn: str, within: float) -> list[dict[str, Any]]:
        """The journal's unsubscribes of this number in this campaign in the last ``within``
        seconds, newest first. Raises JournalFault."""
        return await self.in_journal(lambda j: j.recent_unsubscribes(campaign.campaign_id, msisdn, within))

    async def in_journal(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(journal, *args)``: on the journal's own thread when it has one.
        Raises JournalFault."""
        j = self.journal
        if isinstance(j, JournalThread):
            return await j.call(fn, *args)
        return fn(j, *args)

    async def status(self, campaign: Campaign, msisdn: str, job_id: int | None = None) -> Result:
        """Check a number and journal the answer. A status call changes nothing, so an
        answer the journal cannot take is still returned, with ``journal_error`` set and
        the fault kept in :attr:`journal_fault` for the host to show."""
        result = await self.client.status(campaign, msisdn)
        try:
            await self.in_journal(lambda j: j.record(campaign, result, job_id))
        except JournalFault as exc:
            self.journal_fault = exc
            result.journal_error = str(exc)
        else:
            self.journal_fault = None
        return result

    async def unsubscribe(
        self, campaign: Campaign, msisdn: str, job_id: int | None = None, *, again: bool = False
    ) -> Result:
        """Claim, journal, send, journal the answer. Never raises for the journal:

        * another unsubscribe of the number in this campaign in flight (anywhere on
          this journal), one accepted or of unknown outcome in the last
          ``RECENT_UNSUBSCRIBE`` seconds (unless ``again``: asked for deliberately),
          or a journal that cannot be written before sending: ``failed``,
          "Not sent: ...", nothing sent (and :attr:`journal_fault` set for the last);
        * the answer cannot be written: the result says what the server answered,
          with ``journal_error`` set and :attr:`journal_fault` kept; the journal's
          row still says 'attempted', outcome unknown.
        """
        route = campaign.unsubscribe_via
        window = self.config.network.longest_wait + CLAIM_MARGIN
        try:
            row = await self.in_journal(
                lambda j: j.begin(campaign, msisdn, "unsubscribe", route.value, job_id, exclusive_for=window,
                                  recent_for=None if again else RECENT_UNSUBSCRIBE)
            )
        except InFlight as exc:
            return Result(msisdn, campaign.campaign_id, Operation.UNSUBSCRIBE, route, Outcome.FAILED,
                          error=f"Not sent: {exc}. Not unsubscribed twice; check its status.")
        except JournalFault as exc:
            self.journal_fault = exc
            return Result(msisdn, campaign.campaign_id, Operation.UNSUBSCRIBE, route, Outcome.FAILED,
                          error=f"Not sent: {exc}. Nothing is sent that the journal does not record first.")
        result = await self.client.unsubscribe(campaign, msisdn, reference=plan.reference(row))
        try:
            await self.in_journal(lambda j: j.finish(row, result))
        except JournalFault as exc:
            self.journal_fault = exc
            result.journal_error = str(exc)
        else:
            self.journal_fault = None
        return result

    def plan_unsubscribe(self, campaign: Campaign, msisdn: str) -> PlannedRequest:
        """What :meth:`unsubscribe` will send, for the confirmation dialog: the same request,
        with the key, the journal row's reference and the minute named instead of shown
        (:meth:`MobivateClient.plan_unsubscribe`)."""
        return self.client.plan_unsubscribe(campaign, msisdn)
