"""A bulk job on its own thread and loop (what the console uses), against the simulator."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from mobitui.core import loops
from mobitui.core.bulk import BulkJob, Finished, ItemResult, Progress
from mobitui.core.client import Operation
from mobitui.core.config import Config
from mobitui.core.jobs import JobError, JobState, JobStore
from mobitui.core.journal import Journal
from mobitui.core.recorder import Recorder
from mobitui.core.runner import JobThread
from mobitui.core.service import Service
from mobitui.simulator.demo import DEMO_API_KEY


class Host:
    """What the console provides: a recorder of its own, and a service factory for the thread."""

    def __init__(self, config: Config, tmp_path: Path, concurrency: int = 10):
        self.config = config
        self.path = tmp_path / "journal.sqlite3"
        self.recorder = Recorder()
        self.seen: list[int] = []
        self.recorder.subscribe(lambda ex: self.seen.append(ex.id))
        self.concurrency = concurrency
        self.opened: list[Service] = []
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.threads: list[str] = []

    def open_service(self) -> Service:
        self.loops.append(asyncio.get_running_loop())
        self.threads.append(threading.current_thread().name)
        service = Service.open(
            self.config, DEMO_API_KEY, Journal(self.path), recorder=self.recorder.child(), concurrency=self.concurrency
        )
        self.opened.append(service)
        return service


def requests(server) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.msisdn for r in server.sim.records()]


async def test_a_job_thread_runs_on_its_own_loop_and_hands_over_events_in_batches(simulator, sim_config, tmp_path):
    host = Host(sim_config, tmp_path)
    campaign = sim_config.campaigns[0]
    numbers = [f"2547400{i:05d}" for i in range(40)]
    run = JobThread(
        host.open_service,
        lambda service, on_event: BulkJob.create(service, campaign, numbers, Operation.STATUS, on_event=on_event),
    )
    events: list[object] = []
    future = run.start()
    while not future.done():
        events.extend(run.drain())
        await asyncio.sleep(0.02)
    last = await asyncio.wrap_future(future)
    events.extend(run.drain())

    assert host.loops and host.loops[0] is not asyncio.get_running_loop()
    assert host.threads == ["mobitui-bulk-job"]
    assert sorted(e.msisdn for e in events if isinstance(e, ItemResult)) == numbers
    assert isinstance(events[0], Progress) and isinstance(events[-1], Finished)
    assert events[-1].state is JobState.DONE and last.done == 40
    assert sorted(requests(simulator)) == numbers  # each once
    # Its exchanges reached the host's recorder (the console's request log listens there).
    assert len(host.seen) == 40 and len(set(host.seen)) == 40
    # The thread closed what it opened: the journal connection is unusable now.
    with pytest.raises(sqlite3.ProgrammingError):
        host.opened[0].journal.db.execute("SELECT 1")
    info = JobStore(Journal(host.path)).get(run.job_id)  # type: ignore[arg-type]
    assert info is not None and info.state is JobState.DONE and info.counts.status["done"] == 40


async def test_cancel_from_the_host_stops_new_sends_and_those_in_flight_are_recorded(make_simulator, tmp_path):
    server = make_simulator(latency_ms=150)
    host = Host(server.config, tmp_path, concurrency=5)
    campaign = server.config.campaigns[0]
    numbers = [f"2547100{i:05d}" for i in range(200)]
    run = JobThread(
        host.open_service,
        lambda service, on_event: BulkJob.create(
            service, campaign, numbers, Operation.STATUS, concurrency=5, on_event=on_event
        ),
    )
    future = run.start()
    results: list[ItemResult] = []
    while len(results) < 10:
        results.extend(e for e in run.drain() if isinstance(e, ItemResult))
        await asyncio.sleep(0.01)
    run.cancel()
    last = await asyncio.wrap_future(future)
    results.extend(e for e in run.drain() if isinstance(e, ItemResult))
    run.join(10)  # the thread closed its client before it ended: nothing more can leave
    assert run.thread is not None and not run.thread.is_alive()

    received = requests(server)
    assert len(received) == len(set(received))
    assert set(received) == {e.msisdn for e in results}  # every request that left was recorded
    assert len(received) < 10 + 5 + 10  # a few more answers may land while the host polls; no more
    assert last.cancelling and last.in_flight == 0
    info = JobStore(Journal(host.path)).get(run.job_id)  # type: ignore[arg-type]
    assert info is not None and info.state is JobState.CANCELLED
    assert info.counts.status["pending"] == 200 - len(received)


async def test_cancel_before_the_job_exists_sends_nothing(make_simulator, tmp_path):
    server = make_simulator(latency_ms=50)
    host = Host(server.config, tmp_path)
    campaign = server.config.campaigns[0]
    created = threading.Event()
    go_on = threading.Event()

    def make_job(service: Service, on_event):  # type: ignore[no-untyped-def]
        created.set()
        go_on.wait(5)  # the host cancels while the job is still being made
        return BulkJob.create(service, campaign, ["254700000101", "254700000102"], Operation.STATUS, on_event=on_event)

    run = JobThread(host.open_service, make_job)
    future = run.start()
    assert await asyncio.to_thread(created.wait, 5)
    run.cancel()
    go_on.set()
    last = await asyncio.wrap_future(future)
    assert requests(server) == []
    assert last.done == 0 and last.cancelling
    events = run.drain()
    assert isinstance(events[-1], Finished) and events[-1].state is JobState.CANCELLED


async def test_a_failure_on_the_job_thread_reaches_the_host_and_closes_the_service(sim_config, tmp_path):
    host = Host(sim_config, tmp_path)
    run = JobThread(host.open_service, lambda service, on_event: BulkJob.resume(service, 999, on_event=on_event))
    with pytest.raises(JobError, match="no job 999"):
        await asyncio.wrap_future(run.start())
    with pytest.raises(sqlite3.ProgrammingError):
        host.opened[0].journal.db.execute("SELECT 1")
    run.join(5)
    assert run.thread is not None and not run.thread.is_alive()


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows (see pyproject)")
def test_network_work_runs_on_uvloop_where_it_is_installed():
    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert loops.name() == "uvloop"
    assert loops.run(which()).startswith("uvloop")
