"""One way to run a bulk job, for every front end (the headless CLI and the console).

A front end reads the numbers (:mod:`mobitui.core.paste`), asks the operator
and draws the progress; everything in between is here:

* the read-only refusal (:meth:`JobService.check_allowed`, one message from
  :mod:`mobitui.core.readonly`);
* finding jobs a dead process left running (:meth:`JobService.interrupted`),
  listing jobs, reading a job back (:meth:`JobService.read`, :meth:`JobService.rows`);
* taking a job over to resume it (:meth:`JobService.for_resume`: the job must
  exist, its campaign still be configured for the same route);
* running a job and observing it as events (:mod:`mobitui.core.bulk`'s
  :class:`~mobitui.core.bulk.Progress`, :class:`~mobitui.core.bulk.ItemResult`,
  :class:`~mobitui.core.bulk.Paused`, :class:`~mobitui.core.bulk.Finished`):
  :meth:`JobService.run` on the caller's event loop (the CLI), or
  :meth:`JobService.start` off it (the console: in a job process,
  :mod:`mobitui.core.job_process`, which builds its job here too; or on a thread
  when an injected transport cannot leave the process). Either can be cancelled
  (no new sends, those in flight finish) or abandoned (a job process is killed
  with SIGKILL: the job is left as after a crash, resumable).

The once-only rules stay where they are enforced: the journal's claim before an
unsubscribe leaves (:meth:`mobitui.core.service.Service.unsubscribe`), a job
owned by a live process never taken over (:meth:`mobitui.core.jobs.JobStore.claim`),
one run per job in a process and the resume's wait and settling of unknown
outcomes (:class:`mobitui.core.bulk.BulkJob`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mobitui.core.bulk import BulkJob, Event, Finished, OnEvent, Progress, campaign_for
from mobitui.core.config import Campaign, Config
from mobitui.core.job_process import JobProcess, JobProcessFailed
from mobitui.core.jobs import (
    EntryRow,
    ItemUpdate,
    JobError,
    JobInfo,
    JobState,
    JobStore,
    entry_of,
    entry_rows,
    result_of,
)
from mobitui.core.journal import Journal
from mobitui.core.paste import Entry
from mobitui.core.readonly import refusal
from mobitui.core.recorder import Recorder
from mobitui.core.results import Operation, Result
from mobitui.core.runner import BulkRunner, JobThread
from mobitui.core.service import Service

__all__ = [
    "JobError",
    "JobOutcome",
    "JobProcessFailed",
    "JobRefused",
    "JobRun",
    "JobService",
    "NewJob",
    "StoredJob",
]

logger = logging.getLogger(__name__)


class JobRefused(JobError):
    """Read-only mode refuses this job; ``str()`` is the one message to show."""


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to create: one operation over the lines of one paste, for one campaign.

    ``rows``: every line, skipped ones included (see :func:`mobitui.core.jobs.entry_rows`);
    ``source``: where the lines came from ("stdin", a file name, "console paste").
    Make one with :meth:`of`, off a drawing loop for a big paste.
    """

    campaign: Campaign
    operation: Operation
    rows: list[EntryRow]
    source: str | None = None

    @classmethod
    def of(
        cls,
        campaign: Campaign,
        operation: Operation,
        lines: Iterable[Entry | str | tuple[Any, ...]],
        source: str | None = None,
    ) -> NewJob:
        """From parsed entries (:func:`mobitui.core.paste.read`), plain MSISDNs or rows."""
        return cls(campaign, operation, list(entry_rows(lines)), source)

    def to_json(self) -> dict[str, Any]:
        """As a job process's job spec takes it."""
        return {
            "campaign_id": self.campaign.campaign_id,
            "operation": self.operation.value,
            "rows": self.rows,
            "source": self.source,
        }


@dataclass(slots=True)
class JobOutcome:
    """How a run on the caller's loop ended (:meth:`JobService.run`).

    ``job_id``: None when it was abandoned before the job was stored. ``state``: the
    :class:`~mobitui.core.bulk.Finished` state, None when no Finished was seen.
    ``unwritten``: numbers finished that the journal could not take (each as the
    server answered). ``journal_problems``: answers that could not be journalled.
    ``journal_failure``: the journal error that stopped the run, if any.
    """

    job_id: int | None
    state: JobState | None
    unwritten: list[ItemUpdate] = field(default_factory=list)
    journal_problems: int = 0
    journal_failure: BaseException | None = None


class JobRun:
    """A job running off the caller's loop (:meth:`JobService.start`).

    ``future`` resolves to the last :class:`~mobitui.core.bulk.Progress`, or raises
    :class:`~mobitui.core.jobs.JobError` (the job could not be taken over or refused)
    or :class:`~mobitui.core.job_process.JobProcessFailed` (its process died: resumable).
    """

    def __init__(self, runner: BulkRunner, future: Future[Progress]):
        self._runner = runner
        self.future = future

    @property
    def job_id(self) -> int | None:
        """The job's id, once stored."""
        return self._runner.job_id

    @property
    def in_process(self) -> bool:
        """True when the job runs in a job process (abandon then kills it)."""
        return isinstance(self._runner, JobProcess)

    def drain(self) -> list[Event]:
        """The events since the last call, oldest first. Any thread."""
        return self._runner.drain()

    def cancel(self) -> None:
        """No new sends; those in flight finish and are recorded. Any thread."""
        self._runner.cancel()

    def abandon(self) -> None:
        """Stop now: a job process is killed (SIGKILL), its in-flight numbers left unknown
        and re-checked on resume; a job on a thread can only be cancelled."""
        self._runner.abandon()


@dataclass(frozen=True, slots=True)
class StoredJob:
    """A job read back from the journal: its row, its lines as paste entries (when
    asked for), and the newest answer of each number that has one, by MSISDN."""

    info: JobInfo | None
    entries: list[Entry] | None
    results: dict[str, Result]


class JobService:
    """Bulk jobs over one journal file, for one configuration.

    ``journal_path``: the journal's SQLite file (each thread and job process opens its
    own connection). ``read_only``: refuse every unsubscribe job, new or resumed.
    ``demo``: the built-in simulator's account. ``transport``: an HTTP transport
    injected in place of the network (tests, screenshots); jobs then run on a thread,
    since it cannot leave this process.
    """

    def __init__(
        self,
        config: Config,
        journal_path: str | Path,
        *,
        read_only: bool = False,
        demo: bool = False,
        transport: object | None = None,
    ) -> None:
        self.config = config
        self.journal_path = Path(journal_path)
        self.read_only = read_only
        self.demo = demo
        self.transport = transport
        self._spare: JobProcess | None = None

    # -- rules -------------------------------------------------------------------------
    def refusal(self, operation: Operation, job_id: int | None = None) -> str | None:
        """The read-only message when this job may not run, else None."""
        if not self.read_only or operation is not Operation.UNSUBSCRIBE:
            return None
        return refusal("unsubscribe" if job_id is None else f"resuming unsubscribe job {job_id}")

    def check_allowed(self, operation: Operation, job_id: int | None = None) -> None:
        """Raise :class:`JobRefused` when read-only mode forbids this job (``job_id``: a resume)."""
        message = self.refusal(operation, job_id)
        if message is not None:
            raise JobRefused(message)

    # -- reading (on the caller's connection) ------------------------------------------------
    @staticmethod
    def store(journal: Journal) -> JobStore:
        """The job store on ``journal`` (no SQL is run making it)."""
        return JobStore(journal)

    @staticmethod
    def interrupted(journal: Journal) -> list[JobInfo]:
        """Jobs a dead process left running are marked interrupted; every interrupted job,
        newest first. Writes: needs a journal that can be written. Raises JournalFault."""
        return JobStore(journal).interrupted_jobs()

    @staticmethod
    def list_jobs(journal: Journal, limit: int = 50) -> list[JobInfo]:
        """The newest ``limit`` jobs; on a writable journal, jobs of dead processes are
        marked interrupted first. Raises JournalFault."""
        store = JobStore(journal)
        if not journal.read_only:
            store.interrupted_jobs()
        return store.list(limit=limit)

    @staticmethod
    def rows(journal: Journal, job_id: int) -> Iterator[dict[str, Any]]:
        """Every line of a job as a dict (``job_items`` columns), in paste order."""
        return JobStore(journal).rows(job_id)

    def for_resume(self, journal: Journal, job_id: int) -> tuple[JobInfo, Campaign]:
        """A job to resume and its configured campaign. Raises :class:`JobError` when there is
        no such job or its campaign is gone or now uses another route, :class:`JobRefused`
        for an unsubscribe job in read-only mode."""
        store = JobStore(journal)
        store.interrupted_jobs()
        info = store.get(job_id)
        if info is None:
            raise JobError(f"no job {job_id} in the journal {self.journal_path}")
        campaign = campaign_for(self.config, info)
        self.check_allowed(info.operation, info.id)
        return info, campaign

    def read(self, job_id: int, entries: bool) -> StoredJob:
        """A job's row, its lines as paste entries (``entries``), and its answers, read on a
        connection of its own (call from a thread; it is closed after). Raises JournalFault."""
        journal = Journal(self.journal_path)
        found: list[Entry] | None = [] if entries else None
        results: dict[str, Result] = {}
        try:
            store = JobStore(journal)
            info = store.get(job_id)
            for item in store.rows(job_id) if info is not None else ():
                if found is not None:
                    found.append(entry_of(item))
                result = result_of(info, item)  # type: ignore[arg-type]
                if result is not None:
                    results[result.msisdn] = result
        finally:
            journal.close()
        return StoredJob(info, found, results)

    # -- running -------------------------------------------------------------------------
    def make_job(
        self,
        service: Service,
        *,
        new: NewJob | None = None,
        resume: int | None = None,
        concurrency: int | None = None,
        on_event: OnEvent | None = None,
    ) -> BulkJob:
        """The engine's job, stored (``new``) or taken over (``resume``), on ``service``.
        Raises JobRefused in read-only mode, JobError when it cannot be taken over."""
        if resume is not None:
            info = JobStore(service.journal).get(resume)  # type: ignore[arg-type]
            if info is not None:
                self.check_allowed(info.operation, resume)
            return BulkJob.resume(service, resume, concurrency=concurrency, on_event=on_event)
        if new is None:
            raise ValueError("a job is new or resumed")
        self.check_allowed(new.operation)
        return BulkJob.create(
            service,
            new.campaign,
            new.rows,
            new.operation,
            concurrency=concurrency,
            source=new.source,
            on_event=on_event,
        )

    async def run(
        self,
        journal: Journal,
        api_key: str | None,
        *,
        new: NewJob | None = None,
        resume: int | None = None,
        concurrency: int | None = None,
        on_event: OnEvent | None = None,
        on_job: Callable[[BulkJob], None] | None = None,
    ) -> JobOutcome:
        """Run a job to its end on this event loop, on ``journal`` (which the caller closes).

        ``on_event``: each engine event as it happens. ``on_job``: the job once stored,
        to cancel it (``job.cancel()``); cancelling the task running this abandons the
        requests in flight. A journal that fails during the run stops it: said in
        ``journal_failure``, not raised. Raises JobRefused, JobError (not taken over),
        JournalFault (the journal cannot be used before the job is stored).
        """
        finished: list[Finished] = []

        def listen(event: Event) -> None:
            if isinstance(event, Finished):
                finished.append(event)
            if on_event is not None:
                on_event(event)

        service = Service.open(
            self.config, api_key, journal, demo=self.demo, concurrency=concurrency, transport=self.transport
        )
        job: BulkJob | None = None
        failure: BaseException | None = None
        try:
            job = self.make_job(service, new=new, resume=resume, concurrency=concurrency, on_event=listen)
            if on_job is not None:
                on_job(job)
            await job.run()
        except asyncio.CancelledError:  # abandoned: the engine has marked the job interrupted
            logger.debug("job abandoned (Ctrl-C twice)")
        except sqlite3.Error as exc:  # the journal cannot be written: the job stopped sending
            logger.debug("journal write failed during the job", exc_info=True)
            if job is None:
                raise
            failure = exc
        finally:
            await service.aclose()
        if job is None:
            return JobOutcome(None, None)
        return JobOutcome(
            job.job_id, finished[0].state if finished else None, list(job.unwritten), job.journal_problems, failure
        )

    def prepare(self) -> None:
        """Start a spare job process now: it imports the core while the operator pastes,
        so the next :meth:`start` runs at once. Call from the main thread (on Linux a
        process dies with the thread that started it). Not with an injected transport."""
        if self.transport is not None or self._spare is not None:
            return
        try:
            self._spare = JobProcess.spawn()
        except OSError:
            logger.debug("no spare job process", exc_info=True)
            self._spare = None  # the job will run on a thread instead

    def start(
        self,
        api_key: str | None,
        *,
        new: NewJob | None = None,
        resume: int | None = None,
        recorder: Recorder | None = None,
    ) -> JobRun:
        """Run a job off the caller's loop: in the spare job process (as fast as headless),
        or on a thread of this process when there is none. ``recorder``: where the job's
        exchanges go (the console's request log). Raises JobRefused at once for a new
        unsubscribe job in read-only mode; any other failure comes through the future."""
        if new is not None:
            self.check_allowed(new.operation)
        spare, self._spare = self._spare, None
        if spare is not None:
            future = spare.start(
                self.config,
                api_key,
                str(self.journal_path),
                create=new.to_json() if new is not None and resume is None else None,
                resume=resume,
                recorder=recorder,
                read_only=self.read_only,
            )
            return JobRun(spare, future)

        def open_service() -> Service:  # on the job's thread: its transport and connection
            return Service.open(
                self.config,
                api_key,
                Journal(self.journal_path),
                recorder=recorder.child() if recorder is not None else None,
                demo=self.demo,
                transport=self.transport,
            )

        def make(service: Service, on_event: OnEvent) -> BulkJob:
            return self.make_job(service, new=new, resume=resume, on_event=on_event)

        thread = JobThread(open_service, make)
        return JobRun(thread, thread.start())

    def close(self) -> None:
        """Let an unused spare job process go."""
        spare, self._spare = self._spare, None
        if spare is not None:
            spare.close()
