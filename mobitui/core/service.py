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

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mobitui.core.client import MobivateClient, Operation, Outcome, PlannedRequest, Result
from mobitui.core.config import Campaign, Config
from mobitui.core.journal import InFlight, Journal, JournalFault, JournalThread
from mobitui.core.recorder import Recorder
from mobitui.core.routes import plan

T = TypeVar("T")
logger = logging.getLogger(__name__)
CLAIM_MARGIN = 5.0  # seconds beyond the client's longest wait an attempt counts as in flight
# A number unsubscribed (accepted, or outcome unknown) this recently is not unsubscribed
# again unless the caller asks for it deliberately (the console's typed confirmation).
RECENT_UNSUBSCRIBE = 600.0


def _not_sent(campaign: Campaign, msisdn: str, error: str) -> Result:
    """An unsubscribe refused before anything left (:attr:`Result.not_sent`)."""
    return Result(
        msisdn,
        campaign.campaign_id,
        Operation.UNSUBSCRIBE,
        campaign.unsubscribe_via,
        Outcome.FAILED,
        error=error,
        not_sent=True,
    )


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
        t0 = time.perf_counter()
        result = await self.client.status(campaign, msisdn)
        log_answer(result, t0, job_id)
        try:
            await self.in_journal(lambda j: j.record(campaign, result, job_id))
        except JournalFault as exc:
            logger.debug("journal fault recording the status of %s (%s)", msisdn, exc.kind, exc_info=True)
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
                lambda j: j.begin(
                    campaign,
                    msisdn,
                    "unsubscribe",
                    route.value,
                    job_id,
                    exclusive_for=window,
                    recent_for=None if again else RECENT_UNSUBSCRIBE,
                )
            )
        except InFlight as exc:
            logger.debug("unsubscribe of %s via %s not sent: %s", msisdn, route.value, exc)
            return _not_sent(campaign, msisdn, f"Not sent: {exc}. Not unsubscribed twice; check its status.")
        except JournalFault as exc:
            logger.debug("unsubscribe of %s not sent: journal fault (%s)", msisdn, exc.kind, exc_info=True)
            self.journal_fault = exc
            return _not_sent(
                campaign, msisdn, f"Not sent: {exc}. Nothing is sent that the journal does not record first."
            )
        logger.debug("unsubscribe of %s via %s: journal row %s written, sending", msisdn, route.value, row)
        t0 = time.perf_counter()
        result = await self.client.unsubscribe(campaign, msisdn, reference=plan.reference(row))
        log_answer(result, t0, job_id)
        try:
            await self.in_journal(lambda j: j.finish(row, result))
        except JournalFault as exc:
            logger.debug(
                "journal fault recording the outcome of row %s (%s): it stays 'attempted'", row, exc.kind, exc_info=True
            )
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


def log_answer(result: Result, t0: float, job_id: int | None) -> None:
    """One debug line per call: operation, route, MSISDN, outcome, HTTP status and
    milliseconds since ``t0`` (a :func:`time.perf_counter` reading); the request's
    redacted URL is in the recorder's line before it."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s via %s%s: %s, HTTP %s, %.0f ms%s",
            result.operation.value,
            result.msisdn,
            result.route.value,
            f" (job {job_id})" if job_id is not None else "",
            result.outcome.value,
            result.http_status,
            (time.perf_counter() - t0) * 1000,
            f": {result.error}" if result.error else "",
        )
