"""A bulk job on a thread and event loop of its own, off a drawing host's loop.

The console runs jobs in a child process (:mod:`mobitui.core.job_process`); this
runner is for when that cannot be: an HTTP transport injected into the app (an
in-process simulator in tests) cannot leave the process. It also was the first
step away from the console's own loop, where answers waited for the drawing
(1.55-1.6x the floor N·L/C): on a thread, sharing the interpreter lock with the
drawing, 1.25-1.45x; in a process, about what headless gets.

The job gets its own :class:`Service`, built on the thread by the host's
``open_service`` (an HTTP transport and a journal connection belong to the
thread that uses them). Events are buffered; the host takes them in batches
with :meth:`JobThread.drain`, as often as it likes to draw. Usage::

    run = JobThread(open_service, lambda service, on_event: BulkJob.create(service, ..., on_event=on_event))
    future = run.start()                 # concurrent.futures.Future[Progress]
    events = run.drain()                 # from the host's timer
    run.cancel()                         # any thread: no new sends, in flight finish
    progress = await asyncio.wrap_future(future)

The thread closes the service (transport, journal connection) when the job ends.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol

from mobitui.core import loops
from mobitui.core.bulk import BulkJob, Event, OnEvent, Progress
from mobitui.core.service import Service

MakeJob = Callable[[Service, OnEvent], BulkJob]


def take_all(events: deque[Event]) -> list[Event]:
    """Empty a deque another thread appends to (popleft: nothing appended meanwhile is lost)."""
    out = []
    while events:
        out.append(events.popleft())
    return out


class BulkRunner(Protocol):
    """What a host holds while a job runs elsewhere: this thread runner, or
    :class:`~mobitui.core.job_process.JobProcess`."""

    @property
    def job_id(self) -> int | None: ...

    def drain(self) -> list[Event]: ...

    def cancel(self) -> None: ...

    def abandon(self) -> None: ...


class JobThread:
    def __init__(self, open_service: Callable[[], Service], make_job: MakeJob, name: str = "mobitui-bulk-job"):
        self._open_service = open_service
        self._make_job = make_job
        self._name = name
        self._events: deque[Event] = deque()
        self._future: Future[Progress] = Future()
        self._cancel_asked = False
        self.job: BulkJob | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> Future[Progress]:
        if self.thread is not None:
            raise RuntimeError("a JobThread starts once")
        # Running from now on: a host that stops waiting (its task cancelled when the
        # console quits mid-run) can no longer cancel the future under the thread,
        # which would then fail to hand over the job's end (InvalidStateError).
        self._future.set_running_or_notify_cancel()
        self.thread = threading.Thread(target=self._main, name=self._name, daemon=True)
        self.thread.start()
        return self._future

    @property
    def job_id(self) -> int | None:
        return self.job.job_id if self.job is not None else None

    def cancel(self) -> None:
        """Stop sending new requests; those in flight finish and are recorded. Any thread."""
        self._cancel_asked = True  # before reading self.job: the thread checks in the other order
        job = self.job
        if job is not None:
            job.cancel()

    def abandon(self) -> None:
        """Only cancels: a job on a thread of this process cannot be cut off without
        leaving it owned by a live process (so never resumable). The console runs jobs
        in a :class:`~mobitui.core.job_process.JobProcess`; this runner serves tests."""
        self.cancel()

    def drain(self) -> list[Event]:
        """The events since the last call, oldest first."""
        return take_all(self._events)

    def _main(self) -> None:
        loop = loops.new_event_loop()
        try:
            progress = loop.run_until_complete(self._run())
        except BaseException as exc:  # noqa: BLE001  handed to the host through the future
            self._future.set_exception(exc)
        else:
            self._future.set_result(progress)
        finally:
            loop.close()

    async def _run(self) -> Progress:
        service = self._open_service()
        try:
            job = self._make_job(service, self._events.append)
            self.job = job
            if self._cancel_asked:
                job.cancel()
            return await job.run()
        finally:
            try:
                await service.aclose()
            finally:
                service.journal.close()

    def join(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)
