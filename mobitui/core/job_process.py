"""A bulk job in a process of its own, for a host that draws (the console).

Why a process: a job's CPU (about 0.6-0.8 ms per request on a slow core) and
the console's drawing share one interpreter lock in a thread, and answers wait
for it. In a child process the job has a core of its own and runs exactly as
``mobitui status --file`` does headless: same engine, same journal file.

:class:`JobProcess` is the host's side, with the same interface as
:class:`~mobitui.core.runner.JobThread` (``start``, ``drain``, ``cancel``,
``job_id``). Spawn it early (:meth:`JobProcess.spawn`): the child imports the
core while the operator pastes, then waits for its job.

Job messages: one JSON object a line. Host to child (stdin): one job spec
line (config, API key, journal path, and ``create`` or ``resume``); later
``cancel``. The key travels only through this pipe: never argv, environment
or a file. Child to host (stdout): objects whose ``t`` is a
:class:`JobMessage`: ``job`` (its id, once stored), ``event`` (an engine
event, its ``kind`` an :class:`EventKind`), ``exchange`` (already redacted by
the child's recorder), and last ``end`` or ``error``.

The child dies with the host: on Linux by PR_SET_PDEATHSIG, elsewhere when its
stdin closes without a ``cancel``. Either way the job is left 'running' with a
dead owner, which the next start reports as interrupted: exactly what a crash
of the console did when the job ran inside it.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict
from enum import StrEnum
from typing import Any, TextIO

from mobitui.core.bulk import Event, Finished, ItemResult, Paused, Progress
from mobitui.core.config import Config, Route
from mobitui.core.jobs import EntryRow, ItemStatus, JobError, JobState
from mobitui.core.recorder import Exchange, Recorder
from mobitui.core.results import Operation, Outcome, Result
from mobitui.core.runner import take_all
from mobitui.core.secrets import ENV_KEY

FLUSH_EVERY = 0.05  # seconds between the child's writes of its events
logger = logging.getLogger(__name__)
PARENT_ENV = "MOBITUI_JOB_PARENT"  # the host's pid, for the child to check it is still there
CANCEL = "cancel"  # the one line the host sends after the job spec


class JobMessage(StrEnum):
    """What a line from the job process is (its ``t`` field)."""

    JOB = "job"  # the job's id, once stored
    EVENT = "event"  # an engine event (see EventKind)
    EXCHANGE = "exchange"  # a redacted HTTP exchange, for the request log
    END = "end"  # the job ended; its last progress
    ERROR = "error"  # the job could not run; ``type`` and ``message``


class EventKind(StrEnum):
    """Which engine event an ``event`` message carries (its ``kind`` field)."""

    ITEM = "item"
    PROGRESS = "progress"
    PAUSED = "paused"
    FINISHED = "finished"


# -- engine events as job messages ----------------------------------------------------
# A result is a list in a message (one per number: half the cost of a dict to write and read).
def _result_to_message(r: Result) -> list[Any]:
    return [
        r.msisdn,
        r.campaign_id,
        r.operation.value,
        r.route.value,
        r.outcome.value,
        r.state,
        r.http_status,
        r.reference,
        r.error,
        r.retry_after,
        r.checked_at,
        r.not_sent,
    ]


def _result_from_message(d: list[Any]) -> Result:
    msisdn, campaign_id, operation, route, outcome, state, http_status, reference, error, retry_after, at, not_sent = d
    return Result(
        msisdn,
        campaign_id,
        Operation(operation),
        Route(route),
        Outcome(outcome),
        state=state,
        http_status=http_status,
        reference=reference,
        error=error,
        retry_after=retry_after,
        checked_at=at,
        not_sent=not_sent,
    )


def _progress_to_message(p: Progress) -> dict[str, Any]:
    d = asdict(p)
    d["operation"] = p.operation.value
    return d


def _progress_from_message(d: dict[str, Any]) -> Progress:
    return Progress(**{**d, "operation": Operation(d["operation"])})


def event_to_message(e: Event) -> dict[str, Any]:
    if isinstance(e, ItemResult):
        return {
            "kind": EventKind.ITEM,
            "job_id": e.job_id,
            "position": e.position,
            "msisdn": e.msisdn,
            "status": e.status.value,
            "result": _result_to_message(e.result),
            "note": e.note,
        }
    if isinstance(e, Progress):
        return {"kind": EventKind.PROGRESS, **_progress_to_message(e)}
    if isinstance(e, Paused):
        return {"kind": EventKind.PAUSED, "job_id": e.job_id, "seconds": e.seconds, "reason": e.reason}
    return {
        "kind": EventKind.FINISHED,
        "job_id": e.job_id,
        "state": e.state.value,
        "progress": _progress_to_message(e.progress),
    }


def event_from_message(d: dict[str, Any]) -> Event:
    kind = EventKind(d.pop("kind"))
    if kind is EventKind.ITEM:
        return ItemResult(
            d["job_id"],
            d["position"],
            d["msisdn"],
            ItemStatus(d["status"]),
            _result_from_message(d["result"]),
            d["note"],
        )
    if kind is EventKind.PROGRESS:
        return _progress_from_message(d)
    if kind is EventKind.PAUSED:
        return Paused(d["job_id"], d["seconds"], d["reason"])
    return Finished(d["job_id"], JobState(d["state"]), _progress_from_message(d["progress"]))


def _exchange_from_message(d: dict[str, Any]) -> Exchange:
    d["request_headers"] = [tuple(h) for h in d["request_headers"]]
    d["response_headers"] = [tuple(h) for h in d["response_headers"]]
    return Exchange(**d)


class JobProcessFailed(Exception):
    """The job process stopped without finishing its job (its message is redacted)."""


# -- the host's side ---------------------------------------------------------------
class JobProcess:
    def __init__(self, proc: subprocess.Popen[bytes]):
        self._proc = proc
        self._recorder: Recorder | None = None  # the child's exchanges are handed on here
        self._events: deque[Event] = deque()
        self._future: Future[Progress] = Future()
        self._job_id: int | None = None
        self._started = False
        self._outbox: queue.SimpleQueue[str | dict[str, Any] | None] = queue.SimpleQueue()
        self._stderr: deque[str] = deque(maxlen=20)
        self.threads: list[threading.Thread] = []  # this job's, in the host; all end with the child
        self._redact: Callable[[str], str] = Recorder().redact_url

    @classmethod
    def spawn(cls) -> JobProcess:
        """Start the child now; it imports the core and waits for :meth:`start`.

        Call from a thread that lives as long as the host (the main thread): on
        Linux the child is killed when the thread that started it ends.
        """
        from mobitui.core import logs

        proc = subprocess.Popen(
            [sys.executable, "-m", "mobitui.core.job_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # the terminal's ^C and ^Z are the console's, not the job's
            # The key comes through the pipe only, so not even an exported one is passed on.
            env={
                **{k: v for k, v in os.environ.items() if k not in (ENV_KEY, logs.ENV_LOG)},
                PARENT_ENV: str(os.getpid()),
                **logs.child_environment(),
            },
        )
        logger.debug("job process %d started", proc.pid)
        return cls(proc)

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def job_id(self) -> int | None:
        return self._job_id

    def start(
        self,
        config: Config,
        api_key: str | None,
        journal_path: str,
        *,
        create: dict[str, Any] | None = None,
        resume: int | None = None,
        concurrency: int | None = None,
        recorder: Recorder | None = None,
        read_only: bool = False,
    ) -> Future[Progress]:
        """Hand the child its job. ``create``: campaign_id, operation, rows (see
        :func:`~mobitui.core.jobs.entry_rows`), source (:meth:`NewJob.to_json
        <mobitui.core.job_service.NewJob.to_json>`). ``resume``: a job id.
        ``recorder``: where the job's exchanges go (the console's request log).
        ``read_only``: the child refuses an unsubscribe job, as the host would."""
        if self._started:
            raise RuntimeError("a JobProcess runs one job")
        self._started = True
        self._recorder = recorder
        redactor = Recorder([api_key])
        # For what the child says on stderr: any text, so the full redaction too.
        self._redact = lambda text: redactor.redact(redactor.redact_url(text))
        spec = {
            "config": config.model_dump(mode="json"),
            "api_key": api_key,
            "journal": journal_path,
            "concurrency": concurrency,
            "create": create,
            "resume": resume,
            "log_limit": config.ui.log_limit,
            "read_only": read_only,
        }
        self.threads = [
            threading.Thread(target=self._read, name="mobitui-job-reader", daemon=True),
            threading.Thread(target=self._read_stderr, name="mobitui-job-stderr", daemon=True),
            threading.Thread(target=self._write_all, name="mobitui-job-writer", daemon=True),
        ]
        for t in self.threads:
            t.start()
        # Encoded and written by a thread: a spec of 100,000 numbers takes a while to
        # encode, does not fit the pipe, and the child may still be importing; the
        # caller (the console's loop) must not wait for any of it.
        self._outbox.put(spec)
        return self._future

    def cancel(self) -> None:
        """No new sends; those in flight finish and are recorded. Any thread."""
        self._outbox.put(CANCEL)

    def abandon(self) -> None:
        """Stop now, requests in flight included (SIGKILL): the job is left as after a
        crash, its in-flight numbers unknown and re-checked when it is resumed. For a
        request that hangs longer than the operator can wait. Any thread."""
        logger.debug("job process %d abandoned (SIGKILL)", self._proc.pid)
        try:
            self._proc.kill()
        except OSError:  # already gone
            logger.debug("job process %d was already gone", self._proc.pid, exc_info=True)

    def close(self) -> None:
        """An unused spare: let it go (it exits when its stdin closes)."""
        if not self._started:
            try:
                self._proc.stdin.close()  # type: ignore[union-attr]
            except OSError:
                logger.debug("closing the spare job process's stdin failed", exc_info=True)
            try:
                self._proc.wait(2)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    def drain(self) -> list[Event]:
        return take_all(self._events)

    def _write_all(self) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        while True:
            item = self._outbox.get()
            try:
                if item is None:
                    stdin.close()
                    return
                line = item if isinstance(item, str) else json.dumps(item)
                stdin.write(line.encode() + b"\n")
                stdin.flush()
            except (OSError, ValueError):  # the child is gone; the reader says how
                logger.debug("job process %d: its stdin is closed", self._proc.pid, exc_info=True)
                return

    def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        for raw in self._proc.stderr:
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            try:
                msg = json.loads(raw)
                kind = JobMessage(msg.pop("t"))
            except (ValueError, KeyError, TypeError, AttributeError):  # not ours: kept as a diagnostic
                self._stderr.append(raw.decode("utf-8", "replace").rstrip()[:200])
                continue
            try:
                if kind is JobMessage.EVENT:
                    self._events.append(event_from_message(msg))
                elif kind is JobMessage.EXCHANGE:
                    if self._recorder is not None:
                        self._recorder.relay(_exchange_from_message(msg))
                elif kind is JobMessage.JOB:
                    self._job_id = int(msg["id"])
                elif kind is JobMessage.END:  # told at once: the child's exit takes a while longer
                    self._settle(_progress_from_message(msg["progress"]))
                elif kind is JobMessage.ERROR:
                    self._settle(
                        JobError(msg["message"]) if msg["type"] == "JobError" else JobProcessFailed(msg["message"])
                    )
            except (ValueError, KeyError, TypeError) as exc:  # a message of another version
                self._stderr.append(f"unreadable {kind.value!r} message: {exc}")
        code = self._proc.wait()
        logger.debug("job process %d exited with code %s (job %s)", self._proc.pid, code, self._job_id)
        self._outbox.put(None)  # the writer thread ends and closes the child's stdin
        tail = self._redact("; ".join(line for line in self._stderr if line)[-500:])
        self._settle(
            JobProcessFailed(
                f"the bulk job's process ended (exit code {code}) before the job did"
                + (f": {tail}" if tail else "")
                + ". Numbers it had in flight are re-checked when the job is resumed."
            )
        )

    def _settle(self, outcome: Progress | BaseException) -> None:
        if self._future.done():
            return
        if isinstance(outcome, BaseException):
            self._future.set_exception(outcome)
        else:
            self._future.set_result(outcome)


# -- the child's side -----------------------------------------------------------------
def _die_with_parent() -> None:
    parent = int(os.environ.get(PARENT_ENV, "0") or 0)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            logger.debug("PR_SET_PDEATHSIG could not be set", exc_info=True)
    if parent and os.getppid() != parent:  # the host died before the line above
        os._exit(1)


class _Out:
    """Lines to the host, written in batches (one write per FLUSH_EVERY)."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._lines: list[str] = []

    def send(self, kind: JobMessage, data: dict[str, Any]) -> None:
        data["t"] = kind
        self._lines.append(json.dumps(data))

    def flush(self) -> None:
        if self._lines:
            lines, self._lines = self._lines, []
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()


async def _serve(spec: dict[str, Any], out: _Out) -> None:
    import asyncio

    from mobitui.core.bulk import BulkJob
    from mobitui.core.job_service import JobService, NewJob
    from mobitui.core.journal import Journal
    from mobitui.core.service import Service

    loop = asyncio.get_running_loop()
    config = Config.model_validate(spec["config"])
    # The console's request log shows the newest exchanges, and is hidden behind the
    # bulk screen while a job runs: the newest log_limit are handed over at the end
    # (encoding every one as it happened cost the run a tenth of its time).
    recorder = Recorder(keep=int(spec.get("log_limit") or 500))
    service = Service.open(
        config, spec["api_key"], Journal(spec["journal"]), recorder=recorder, concurrency=spec.get("concurrency")
    )
    job: BulkJob | None = None
    cancelled = threading.Event()

    def listen() -> None:  # stdin: 'cancel', or EOF when the host is gone
        for line in sys.stdin:
            if line.strip() == CANCEL:
                cancelled.set()
                if job is not None:
                    job.cancel()
        if not cancelled.is_set():
            os._exit(1)  # the host died: die as it would have, the job left to resume

    threading.Thread(target=listen, name="mobitui-job-stdin", daemon=True).start()

    async def flusher() -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            out.flush()

    ticker = loop.create_task(flusher())
    try:
        on_event = lambda e: out.send(JobMessage.EVENT, event_to_message(e))  # noqa: E731
        jobs = JobService(config, spec["journal"], read_only=bool(spec.get("read_only")))
        if spec.get("resume") is not None:
            job = jobs.make_job(
                service, resume=int(spec["resume"]), concurrency=spec.get("concurrency"), on_event=on_event
            )
        else:
            c = spec["create"]
            rows: list[EntryRow] = [tuple(r) for r in c["rows"]]
            new: NewJob | None = NewJob(
                config.campaign(c["campaign_id"]), Operation(c["operation"]), rows, c.get("source")
            )
            job = jobs.make_job(service, new=new, concurrency=spec.get("concurrency"), on_event=on_event)
            del rows, new, c["rows"]  # in the journal now: 100,000 of them held ~40 MB for the whole run
        out.send(JobMessage.JOB, {"id": job.job_id})
        if cancelled.is_set():
            job.cancel()
        progress = await job.run()
        ticker.cancel()
        out.send(JobMessage.END, {"progress": _progress_to_message(progress)})
        out.flush()  # the host is told now; the exchanges, closing and exiting come after
        for ex in recorder.recent:
            out.send(JobMessage.EXCHANGE, ex.to_dict())
        out.flush()
    finally:
        ticker.cancel()
        try:
            await service.aclose()
        finally:
            service.journal.close()


def main() -> int:
    from mobitui.core import logs

    logs.enable_from_environment()  # the host's debug log, when it writes one
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the host cancels through stdin
    # The protocol gets the pipe to itself; anything else printed goes to stderr.
    out = _Out(os.fdopen(os.dup(1), "w", encoding="utf-8"))
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # Everything the job needs is imported while the spare waits for its job.
    import mobitui.core.journal
    import mobitui.core.service
    import mobitui.core.transport  # noqa: F401
    from mobitui.core import client, loops

    loops.new_event_loop().close()  # imports uvloop
    client.ssl_context(None)  # the default certificates, loaded once
    line = sys.stdin.readline()
    if not line:
        logger.debug("spare job process %d: not needed, exiting", os.getpid())
        return 0  # a spare the host no longer needs
    try:
        spec = json.loads(line)
    except ValueError as exc:
        out.send(JobMessage.ERROR, {"type": "JobProcessFailed", "message": f"unreadable job spec: {exc}"})
        out.flush()
        return 2
    key = spec.get("api_key")
    logs.add_secret(key)
    logger.debug(
        "job process %d: %s",
        os.getpid(),
        f"resume job {spec['resume']}" if spec.get("resume") is not None else "create a job",
    )
    try:
        loops.run(_serve(spec, out))
    except JobError as exc:
        logger.debug("job process %d: job refused: %s", os.getpid(), exc)
        out.send(JobMessage.ERROR, {"type": "JobError", "message": str(exc)})
    except Exception as exc:  # told to the host, redacted, instead of a traceback on its screen
        logger.debug("job process %d failed", os.getpid(), exc_info=True)
        redactor = Recorder([key])
        out.send(
            JobMessage.ERROR, {"type": "JobProcessFailed", "message": redactor.redact(f"{type(exc).__name__}: {exc}")}
        )
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
