"""The bulk engine: one operation over many numbers, bounded concurrency, crash-safe.

A :class:`BulkJob` runs a job stored by :class:`~mobitui.core.jobs.JobStore`.
Unsubscribes go through :meth:`Service.unsubscribe`, journalled before they
are sent exactly as a single one is; status answers are journalled in batches,
in the same transaction as their items (a read needs no record before it is
sent, and two commits per number were most of the engine's cost). Usage::

    job = BulkJob.create(service, campaign, entries, Operation.STATUS, on_event=handler)
    progress = await job.run()        # job.cancel() from anywhere stops new sends

    job = BulkJob.resume(service, job_id, on_event=handler)   # after a crash
    progress = await job.run()

Events, passed to ``on_event`` as they happen, all small and frozen:
:class:`ItemResult` per finished number, :class:`Progress` at most every
``progress_interval`` seconds (and once at the end), :class:`Paused` when the
server asks to slow down, :class:`Finished` once. The engine makes no
assumption about display: a console throttles as it likes, or polls
:meth:`BulkJob.progress`.

Rules that keep a number from being unsubscribed twice:

* the client never resends an unsubscribe that may have reached the server;
  such a number ends ``unknown`` and the engine does not send it again either;
* an HTTP 429 pauses new sends across the whole job for its Retry-After (seen
  on any exchange, via the recorder) and puts that number back in the queue:
  a 429 is a refusal, so nothing was done;
* on resume, numbers ``in_flight`` or ``unknown`` are settled first, before
  any pending number is sent: a final outcome in the journal is adopted;
  otherwise, once the attempt is as old as the client would have waited, a
  status check decides: ``unsub`` means done (never resent); no answer leaves
  it ``unknown``, unsent; another state resends it only where that proves the
  first did not take: no attempt row (it never left), or the Subscription API
  route (whose own state it is). On the gateway routes a stop that may have
  left stays ``unknown``: the SMS cannot be taken back;
* a number whose unsubscribe is in flight elsewhere (another job, process or
  console on the same journal) is not sent: see :meth:`Service.unsubscribe`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mobitui.core.client import Operation, Outcome, Result, retry_after_seconds
from mobitui.core.config import Campaign, Config, Route
from mobitui.core.jobs import (
    HEARTBEAT_EVERY,
    Counts,
    EntryRow,
    Item,
    ItemStatus,
    ItemUpdate,
    JobError,
    JobInfo,
    JobState,
    JobStore,
    unfinished_action,
)
from mobitui.core.journal import Journal
from mobitui.core.paste import Entry
from mobitui.core.recorder import Exchange
from mobitui.core.service import Service, log_answer

logger = logging.getLogger(__name__)

BATCH = 500  # results written in one transaction at most
WRITES_AHEAD = 3  # batches handed to the journal's writer and not yet written, at most
MAX_REQUEUES = 5  # a number refused with 429 this many times ends failed
MAX_PAUSE = 600.0  # longest Retry-After honoured, seconds
RATE_WINDOW = 5.0  # seconds of history behind the rate and the ETA

_RUNNING: set[int] = set()  # jobs this process has taken on and not finished


class _Writer:
    """A status job's batches, written by a thread of its own on a connection of its own.

    On the event loop, a batch of ~90 answers with their journal rows held the
    loop for 6-9 ms every tenth of a second (30-40 ms when SQLite checkpointed),
    and every answer that arrived meanwhile waited: ~3% of a run's wall time.
    SQLite lets go of the interpreter lock while it writes, so the writing now
    overlaps the requests. Batches are written in order; the first failure is
    raised by the next :meth:`submit` or by :meth:`drain`. When the disk falls
    behind (a run at full speed), :meth:`submit` waits for it: at most
    ``WRITES_AHEAD`` batches are held in memory.
    Unsubscribe jobs do not use it: their rows are written before each request
    leaves, on the loop, and must not wait for another writer's lock.
    """

    def __init__(self, journal: Journal) -> None:
        self._path = journal.path
        self._operator = journal.operator
        self._todo: deque[tuple[int, Campaign, list[ItemUpdate], Future[None]]] = deque()
        self._ready = threading.Condition()
        self._pending: deque[Future[None]] = deque()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="mobitui-journal-writer", daemon=True)
        self._thread.start()

    def submit(self, job_id: int, campaign: Campaign, batch: list[ItemUpdate]) -> None:
        self.check()
        if not batch:
            return
        while len(self._pending) >= WRITES_AHEAD:  # the disk is behind: wait for it, memory stays bounded
            self._pending.popleft().result()
        done: Future[None] = Future()
        self._pending.append(done)
        with self._ready:
            self._todo.append((job_id, campaign, batch, done))
            self._ready.notify()

    def check(self) -> None:
        """Raise the error of a batch that could not be written."""
        while self._pending and self._pending[0].done():
            self._pending.popleft().result()

    def drain(self) -> None:
        """Wait until every batch is written (or raise why one was not)."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        with self._ready:
            self._closing = True
            self._ready.notify()
        self._thread.join()

    def _run(self) -> None:
        store: JobStore | None = None
        try:
            while True:
                with self._ready:
                    while not self._todo and not self._closing:
                        self._ready.wait()
                    if not self._todo:
                        return
                    job_id, campaign, batch, done = self._todo.popleft()
                try:
                    if store is None:
                        store = JobStore(Journal(self._path, self._operator))
                    store.record(job_id, campaign, batch)
                except BaseException as exc:  # noqa: BLE001  handed to the caller through the future
                    done.set_exception(exc)
                else:
                    done.set_result(None)
        finally:
            if store is not None:
                store.journal.close()


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One number finished (``status`` done or unknown); ``note`` says how it was settled."""

    job_id: int
    position: int
    msisdn: str
    status: ItemStatus
    result: Result
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    job_id: int
    operation: Operation
    total: int  # numbers in the job (skipped lines not included)
    done: int  # finished with an answer (ok or failed), earlier runs included
    unknown: int  # unsubscribes whose outcome is unknown (to re-check)
    in_flight: int
    pending: int
    left: int  # numbers this run still has to finish
    outcomes: dict[str, int] = field(default_factory=dict)  # done: ok / failed
    states: dict[str, int] = field(default_factory=dict)  # done: subscription state
    rate: float = 0.0  # numbers finished per second, recent
    eta: float | None = None  # seconds, at the recent rate
    elapsed: float = 0.0
    paused_for: float = 0.0  # seconds left of a server-requested pause
    cancelling: bool = False


@dataclass(frozen=True, slots=True)
class Paused:
    job_id: int
    seconds: float
    reason: str


@dataclass(frozen=True, slots=True)
class Finished:
    job_id: int
    state: JobState  # done | cancelled | interrupted
    progress: Progress


Event = ItemResult | Progress | Paused | Finished
OnEvent = Callable[[Event], None]


def campaign_for(config: Config, info: JobInfo) -> Campaign:
    """The configured campaign of a stored job; refuses one whose route changed since."""
    try:
        campaign = config.campaign(info.campaign_id)
    except KeyError:
        raise JobError(
            f"job {info.id} is for campaign {info.campaign_id} ({info.campaign_name}), "
            "which is not in the configuration"
        ) from None
    if info.operation is Operation.UNSUBSCRIBE and campaign.unsubscribe_via is not Route(info.route):
        raise JobError(
            f"job {info.id} unsubscribed via {info.route}, but campaign {campaign.name} is now "
            f"configured for {campaign.unsubscribe_via.value}; refusing to mix routes in one job"
        )
    return campaign


def direct_journal(service: Service) -> Journal:
    """The journal a bulk job writes to: opened on the job's own thread or process
    (its transactions span a batch), never a :class:`JournalThread`. Raises
    TypeError for a service wired with one."""
    journal = service.journal
    if not isinstance(journal, Journal):
        raise TypeError("a bulk job needs a Journal of its own thread, not a JournalThread")
    return journal


class BulkJob:
    """One job being run by this process. Create with :meth:`create` or :meth:`resume`."""

    def __init__(
        self,
        service: Service,
        store: JobStore,
        info: JobInfo,
        campaign: Campaign,
        *,
        on_event: OnEvent | None = None,
        progress_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.service = service
        self.store = store
        self.info = info
        self.campaign = campaign
        self.on_event = on_event
        self.progress_interval = progress_interval
        self._clock = clock
        self._cancelled = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._status: dict[str, int] = {}
        self._outcomes: dict[str, int] = {}
        self._states: dict[str, int] = {}
        self._left = 0
        self._finished = 0
        self._samples: deque[tuple[float, int]] = deque()
        self._t0 = clock()
        self._paused_until = 0.0
        self._batch: list[ItemUpdate] = []
        self._retry: deque[Item] = deque()
        self._requeues: dict[int, int] = {}
        self._started = False
        self._writer: _Writer | None = None
        self._write_failure: BaseException | None = None
        # Finished numbers the journal could not take (their batch failed), in memory
        # so that a front end can still say what happened at the server.
        self.unwritten: list[ItemUpdate] = []
        self.journal_problems = 0  # answers whose journal row could not be completed
        self.journal_failure: BaseException | None = None  # set by a front end that caught it

    # -- construction ----------------------------------------------------------
    @classmethod
    def create(
        cls,
        service: Service,
        campaign: Campaign,
        numbers: Iterable[Entry | str | EntryRow],
        operation: Operation,
        *,
        concurrency: int | None = None,
        source: str | None = None,
        on_event: OnEvent | None = None,
        progress_interval: float = 0.1,
    ) -> BulkJob:
        """Store a new job (paste entries, or plain MSISDNs) and return it, ready to run."""
        store = JobStore(direct_journal(service))
        n = concurrency or service.config.bulk.concurrency
        job_id = store.create(campaign, operation, numbers, n, source)
        info = store.get(job_id)
        assert info is not None
        return cls(service, store, info, campaign, on_event=on_event, progress_interval=progress_interval)

    @classmethod
    def resume(
        cls,
        service: Service,
        job_id: int,
        *,
        concurrency: int | None = None,
        on_event: OnEvent | None = None,
        progress_interval: float = 0.1,
    ) -> BulkJob:
        """Take over a stored job (raises JobError if it is unknown or still running)."""
        store = JobStore(direct_journal(service))
        info = store.get(job_id)
        if info is None:
            raise JobError(f"no job {job_id} in the journal")
        campaign = campaign_for(service.config, info)
        if job_id in _RUNNING:
            raise JobError(f"job {job_id} is still running in this process; it cannot be resumed twice")
        info = store.claim(job_id, concurrency)
        logger.debug(
            "resuming job %d (%s via %s): %s", job_id, info.operation.value, info.route, dict(info.counts.status)
        )
        return cls(service, store, info, campaign, on_event=on_event, progress_interval=progress_interval)

    @property
    def job_id(self) -> int:
        return self.info.id

    @property
    def operation(self) -> Operation:
        return self.info.operation

    # -- control ---------------------------------------------------------------
    def cancel(self) -> None:
        """Stop sending new requests now; those in flight finish and are recorded.

        Safe to call from any thread.
        """
        self._cancelled = True
        if self._loop is not None and self._wake is not None:
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # loop closed: nothing left to wake
                logger.debug("job %d cancelled after its loop closed", self.job_id, exc_info=True)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def progress(self) -> Progress:
        now = self._clock()
        rate = 0.0
        if self._samples:
            t_old, n_old = self._samples[0]
            if now - t_old > 0.05:
                rate = (self._finished - n_old) / (now - t_old)
        s = self._status
        return Progress(
            job_id=self.job_id,
            operation=self.operation,
            total=self.info.total,
            done=s.get("done", 0),
            unknown=s.get("unknown", 0),
            in_flight=s.get("in_flight", 0),
            pending=s.get("pending", 0),
            left=self._left,
            outcomes=dict(self._outcomes),
            states=dict(self._states),
            rate=rate,
            eta=(self._left / rate) if rate > 0 else (0.0 if self._left == 0 else None),
            elapsed=now - self._t0,
            paused_for=max(0.0, self._paused_until - now),
            cancelling=self._cancelled,
        )

    # -- running ---------------------------------------------------------------
    async def run(self) -> Progress:
        """Run (or resume) the job to its end, or until cancelled; returns the last progress."""
        if self._started:
            raise RuntimeError("a BulkJob runs once; resume it with BulkJob.resume")
        if self.job_id in _RUNNING:
            raise JobError(f"job {self.job_id} is already running in this process")
        self._started = True
        _RUNNING.add(self.job_id)
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._cancelled:
            self._wake.set()
        counts = self.store.count(self.job_id)
        self._status = dict(counts.status)
        self._outcomes = dict(counts.outcome)
        self._states = dict(counts.state)
        self._status["in_flight"] = 0
        # Anything 'in_flight' in the file belonged to an earlier, dead run.
        self._status["unknown"] = counts.status.get("unknown", 0) + counts.status.get("in_flight", 0)
        self._left = self._status.get("pending", 0) + self._status["unknown"]
        self._t0 = self._clock()
        self._samples.append((self._t0, 0))
        stop_listening = self.service.recorder.subscribe(self._on_exchange)
        if self.operation is Operation.STATUS:
            self._writer = _Writer(direct_journal(self.service))
        ticker = asyncio.create_task(self._tick())
        state = JobState.INTERRUPTED
        try:
            self._emit(self.progress())
            unsettled = (ItemStatus.IN_FLIGHT, ItemStatus.UNKNOWN)
            if self.operation is Operation.UNSUBSCRIBE:
                # Settle every number that may have been sent, before anything else is sent.
                await self._pool(self._settle, self.store.items(self.job_id, unsettled))
                await self._pool(self._send, self.store.items(self.job_id, (ItemStatus.PENDING,)))
            else:
                statuses = (ItemStatus.PENDING, *unsettled)
                await self._pool(self._send, self.store.items(self.job_id, statuses))
            state = JobState.CANCELLED if self._cancelled else JobState.DONE
        finally:
            _RUNNING.discard(self.job_id)
            ticker.cancel()
            stop_listening()
            writer, self._writer = self._writer, None
            try:
                self._flush(writer)
                if writer is not None:
                    writer.drain()
                if self._write_failure is not None:
                    raise self._write_failure
            except BaseException:
                state = JobState.INTERRUPTED  # answers not all written: a resume checks them again
                raise
            finally:
                if writer is not None:
                    writer.close()
                if state is JobState.INTERRUPTED:
                    self.store.interrupt(self.job_id)  # in-flight requests may have left
                else:
                    self.store.finish(self.job_id, state, self.store.count(self.job_id))
                last = self.progress()
                self._emit(last)
                self._emit(Finished(self.job_id, state, last))
        return last

    async def _pool(self, handle: Callable[[Item], Awaitable[None]], items: Iterator[Item]) -> None:
        async def worker() -> None:
            while not self._cancelled:
                if self._paused_until > self._clock():
                    await self._wait_pause()
                    continue
                item = self._retry.popleft() if self._retry else next(items, None)
                if item is None:
                    return
                await handle(item)

        workers = max(1, self.info.concurrency)
        await asyncio.gather(*(worker() for _ in range(workers)))

    async def _wait_pause(self) -> None:
        assert self._wake is not None
        delay = self._paused_until - self._clock()
        if delay <= 0:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), delay)
        except TimeoutError:
            pass

    def _take(self, item: Item) -> None:
        s = self._status
        key = item.status.value
        if key == "in_flight":  # left by a dead run; counted as unknown
            key = "unknown"
        s[key] = s.get(key, 0) - 1
        s["in_flight"] += 1

    async def _call(self, item: Item) -> tuple[Result, bool]:
        """Send one request; also says whether the result still has to be journalled."""
        if self.operation is Operation.UNSUBSCRIBE:
            # Durable before the request can leave; Service journals 'attempted' next, also before.
            self.store.mark_in_flight(self.job_id, item.position)
            return await self.service.unsubscribe(self.campaign, item.msisdn, self.job_id), False
        # A status call changes nothing: it is journalled with its item, in the next batch.
        t0 = time.perf_counter()
        result = await self.service.client.status(self.campaign, item.msisdn)
        log_answer(result, t0, self.job_id)
        return result, True

    async def _send(self, item: Item, note: str | None = None, taken: bool = False) -> None:
        if not taken:
            self._take(item)
        result, journal = await self._call(item)
        if result.http_status == 429 and result.outcome is Outcome.FAILED and self.operation is Operation.STATUS:
            tries = self._requeues.get(item.position, 0) + 1
            if tries <= MAX_REQUEUES:
                # A status check changes nothing: back in the queue, after the pause. (A stop
                # answered 429 reached the server and is never sent again by itself.)
                self._requeues[item.position] = tries
                self._status["in_flight"] -= 1
                self._status["pending"] = self._status.get("pending", 0) + 1
                if journal:
                    direct_journal(self.service).record(self.campaign, result, self.job_id)
                self._retry.append(Item(item.position, item.msisdn, ItemStatus.PENDING))
                return
        self._requeues.pop(item.position, None)
        status = ItemStatus.UNKNOWN if result.outcome is Outcome.UNKNOWN else ItemStatus.DONE
        self._finish(item, status, result, note, journal)

    async def _settle(self, item: Item) -> None:
        """An unsubscribe that may have been sent: find out before sending anything."""
        self._take(item)
        action = self.store.last_action(self.job_id, item.msisdn, Operation.UNSUBSCRIBE)
        route = self.campaign.unsubscribe_via
        if action is not None and not unfinished_action(action):
            result = Result(
                item.msisdn,
                self.campaign.campaign_id,
                Operation.UNSUBSCRIBE,
                Route(action["route"]),
                Outcome(action["outcome"]),
                state=action["state"],
                http_status=action["http_status"],
                reference=action["reference"],
                error=action["error"],
            )
            self._finish(
                item,
                ItemStatus.DONE,
                result,
                "outcome read from the journal: the answer came in before the interruption",
            )
            return
        await self._let_an_old_attempt_land(action)
        check = await self.service.status(self.campaign, item.msisdn, self.job_id)
        if not check.ok:
            result = Result(
                item.msisdn,
                self.campaign.campaign_id,
                Operation.UNSUBSCRIBE,
                route,
                Outcome.UNKNOWN,
                http_status=check.http_status,
                error=f"Outcome unknown, and the re-check by status failed: {check.error} Not sent again.",
            )
            self._finish(item, ItemStatus.UNKNOWN, result, "re-check failed; not sent again")
            return
        if check.state == "unsub":
            result = Result(
                item.msisdn,
                self.campaign.campaign_id,
                Operation.UNSUBSCRIBE,
                route,
                Outcome.OK,
                state="unsub",
                http_status=check.http_status,
                reference=check.reference,
            )
            self._finish(
                item, ItemStatus.DONE, result, "status says 'unsub' after an unknown outcome: done, not sent again"
            )
            return
        if action is not None and not route.resent_on_resume:
            # The stop may have reached the gateway. Its effect on the Subscription API's state
            # can come later than our wait (a slow gateway, a network that confirms
            # asynchronously), so 'still subscribed' does not prove it was not sent, and a
            # second STOP SMS cannot be taken back: left unknown, never resent by a resume.
            result = Result(
                item.msisdn,
                self.campaign.campaign_id,
                Operation.UNSUBSCRIBE,
                route,
                Outcome.UNKNOWN,
                state=check.state,
                http_status=check.http_status,
                error=(
                    f"Outcome unknown: a stop was sent at {str(action['started_at'])[11:19]} UTC and may "
                    f"still take effect; status now says {check.state!r}. Not sent again automatically "
                    "(a second STOP SMS cannot be taken back): resume later re-checks it; send it "
                    "again yourself only once you are sure the first did not arrive."
                ),
            )
            self._finish(
                item, ItemStatus.UNKNOWN, result, f"may have been sent; status {check.state!r}; not sent again"
            )
            return
        why = "no attempt in the journal, so it never left" if action is None else "the Subscription API's own state"
        await self._send(
            item,
            note=f"re-checked after an unknown outcome: state {check.state!r} ({why}), so sent again",
            taken=True,
        )

    async def _let_an_old_attempt_land(self, action: dict[str, object] | None) -> None:
        """A request sent just before the crash may still be in the server's hands: a
        status check now could say 'active' and the number would be stopped twice.
        Wait until the attempt is as old as the client can hold one request
        (``Network.longest_wait``: connect, write and read timeouts, and a second)."""
        if action is None or not isinstance(action.get("started_at"), str):
            return
        net = self.service.config.network
        try:
            started = datetime.fromisoformat(str(action["started_at"]))
        except ValueError:
            logger.debug("unreadable start time of journal row %s; no grace", action.get("id"), exc_info=True)
            return
        age = (datetime.now(UTC) - started).total_seconds()
        grace = net.longest_wait - age
        if grace > 0:
            await asyncio.sleep(grace)

    def _finish(self, item: Item, status: ItemStatus, result: Result, note: str | None, journal: bool = False) -> None:
        if result.journal_error:
            self.journal_problems += 1
            said = "accepted" if result.ok else result.outcome.value
            text = (
                f"{said}, could not be journalled: {result.journal_error} "
                "(the journal's row of this call says 'attempted')"
            )
            result.error = f"{result.error} {text}" if result.error else text
        s = self._status
        s["in_flight"] -= 1
        s[status.value] = s.get(status.value, 0) + 1
        if status is ItemStatus.DONE:
            out = result.outcome.value
            self._outcomes[out] = self._outcomes.get(out, 0) + 1
            if result.state and result.outcome is Outcome.OK:  # a failed answer's state is not a count
                self._states[result.state] = self._states.get(result.state, 0) + 1
        self._left -= 1
        self._finished += 1
        if note is not None:  # a decision (a resume's re-check, an answer read from the journal)
            logger.debug(
                "job %d, number %d (%s): %s, %s: %s",
                self.job_id,
                item.position,
                item.msisdn,
                status.value,
                result.outcome.value,
                note,
            )
        self._batch.append(ItemUpdate(item.position, status, result, note, journal))
        if len(self._batch) >= BATCH:
            self._flush()
        self._emit(ItemResult(self.job_id, item.position, item.msisdn, status, result, note))

    # -- rate limits -------------------------------------------------------------
    def _on_exchange(self, ex: Exchange) -> None:
        if ex.status != 429:
            return
        wait = retry_after_seconds(ex.response_headers)
        self.pause(1.0 if wait is None else wait, "the server answered HTTP 429 (rate limited)")

    def pause(self, seconds: float, reason: str) -> None:
        """Send nothing new for ``seconds`` (numbers in flight carry on)."""
        until = self._clock() + min(max(seconds, 0.0), MAX_PAUSE)
        if until > self._paused_until + 0.2:
            self._paused_until = until
            self._emit(Paused(self.job_id, until - self._clock(), reason))

    # -- bookkeeping -------------------------------------------------------------
    def _counts(self) -> Counts:
        status = dict(self._status)
        status.pop("in_flight", None)
        return Counts(status, dict(self._outcomes), dict(self._states))

    def _flush(self, writer: _Writer | None = None) -> None:
        batch, self._batch = self._batch, []
        writer = writer or self._writer
        if writer is None:
            try:
                self.store.record(self.job_id, self.campaign, batch)
            except BaseException:
                self.unwritten.extend(batch)
                raise
        else:
            writer.submit(self.job_id, self.campaign, batch)

    async def _tick(self) -> None:
        last_beat = self._clock()
        while True:
            await asyncio.sleep(self.progress_interval)
            try:
                self._flush()
            except Exception as exc:  # the journal cannot be written: send nothing more
                logger.debug("job %d: journal write failed; sending nothing more", self.job_id, exc_info=True)
                self._write_failure = exc
                self.cancel()
                return
            now = self._clock()
            self._samples.append((now, self._finished))
            while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW:
                self._samples.popleft()
            if now - last_beat >= HEARTBEAT_EVERY:
                last_beat = now
                if not self.store.heartbeat(self.job_id, self._counts()):
                    logger.debug("job %d was taken over by another process: cancelling", self.job_id)
                    self.cancel()  # another process took the job over: stop sending
            self._emit(self.progress())

    def _emit(self, event: Event) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a broken display must not break the job
            logger.debug("job %d: an event listener failed", self.job_id, exc_info=True)
