"""A bulk job in a child process (how the console runs one), against the simulator."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mobitui.core.bulk import Finished, ItemResult, Progress
from mobitui.core.job_process import JobProcess, JobProcessFailed
from mobitui.core.jobs import JobError, JobState, JobStore, entry_rows
from mobitui.core.journal import Journal
from mobitui.core.recorder import MASK, Recorder

ROOT = Path(__file__).resolve().parents[2]
KEY = "wrk-K3y-0000-fake"  # distinctive, obviously fake


def create(config, numbers: list[str], operation: str = "status") -> dict:  # type: ignore[no-untyped-def]
    return {
        "campaign_id": config.campaigns[0].campaign_id,
        "operation": operation,
        "rows": list(entry_rows(numbers)),
        "source": "test",
    }


async def wait(proc: JobProcess, future, events: list) -> object:  # type: ignore[no-untyped-def]
    while not future.done():
        events.extend(proc.drain())
        await asyncio.sleep(0.02)
    events.extend(proc.drain())
    return future.result()


async def all_handed_over(proc: JobProcess) -> None:
    """The host's threads for the job have ended: everything the child sent is in."""
    for _ in range(250):
        if not any(t.is_alive() for t in proc.threads):
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"still running in the host: {[t.name for t in proc.threads if t.is_alive()]}")


async def test_a_job_runs_in_a_child_process_and_its_results_come_back(simulator, sim_config, tmp_path):
    journal = tmp_path / "journal.sqlite3"
    recorder = Recorder()
    seen: list[int] = []
    recorder.subscribe(lambda ex: seen.append(ex.id))
    recorder.record(started=0, method="GET", url="http://h/earlier")  # the console's own, id 1
    numbers = [f"2547500{i:05d}" for i in range(30)] + ["254700000102"]
    proc = JobProcess.spawn()
    future = proc.start(sim_config, KEY, str(journal), create=create(sim_config, numbers), recorder=recorder)
    events: list[object] = []
    last = await wait(proc, future, events)

    assert isinstance(last, Progress) and last.done == 31 and last.outcomes == {"ok": 31}
    items = [e for e in events if isinstance(e, ItemResult)]
    assert sorted(e.msisdn for e in items) == sorted(numbers)
    by = {e.msisdn: e for e in items}
    assert by["254700000102"].result.state == "inactive" and by["254700000102"].result.http_status == 200
    assert isinstance(events[-1], Finished) and events[-1].state is JobState.DONE
    assert sorted(r.msisdn for r in simulator.sim.records()) == sorted(numbers)  # each once
    # Nothing of it is left behind in the host (a console runs many jobs); by then the
    # exchanges, sent after the end, have all been handed over.
    assert len(proc.threads) == 3
    await all_handed_over(proc)
    # The job's exchanges reached the host's recorder with ids of its sequence.
    assert len(seen) == 32 and len(set(seen)) == 32
    # It ran in another process, which owned the job in the journal.
    info = JobStore(Journal(journal)).get(proc.job_id)  # type: ignore[arg-type]
    assert info is not None and info.state is JobState.DONE and info.pid == proc.pid != os.getpid()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_the_key_reaches_the_child_only_through_its_pipe(simulator, sim_config, tmp_path, monkeypatch):
    monkeypatch.setenv("MOBITUI_API_KEY", KEY)  # exported by the operator: still not passed on
    proc = JobProcess.spawn()
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
    environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
    recorder = Recorder()
    future = proc.start(
        sim_config,
        KEY,
        str(tmp_path / "j.sqlite3"),
        create=create(sim_config, ["254700000101"], "unsubscribe"),
        recorder=recorder,
    )
    await wait(proc, future, [])
    await all_handed_over(proc)
    assert KEY.encode() not in cmdline and KEY.encode() not in environ
    assert recorder.recent and all(KEY not in repr(ex) for ex in recorder.recent)


async def test_cancel_reaches_the_child_and_those_in_flight_are_recorded(make_simulator, tmp_path):
    server = make_simulator(latency_ms=150)
    data = server.config.model_dump(mode="python")
    data["bulk"]["concurrency"] = 5
    config = type(server.config).model_validate(data)
    numbers = [f"2547100{i:05d}" for i in range(200)]
    proc = JobProcess.spawn()
    future = proc.start(config, KEY, str(tmp_path / "j.sqlite3"), create=create(config, numbers))
    results: list[ItemResult] = []
    while len(results) < 10:
        results.extend(e for e in proc.drain() if isinstance(e, ItemResult))
        await asyncio.sleep(0.01)
    proc.cancel()
    events: list[object] = []
    last = await wait(proc, future, events)
    results.extend(e for e in events if isinstance(e, ItemResult))
    await all_handed_over(proc)  # the child has exited: nothing more can leave it

    received = [r.msisdn for r in server.sim.records()]
    assert len(received) == len(set(received)) and set(received) == {e.msisdn for e in results}
    assert len(received) < 10 + 5 + 10 and last.cancelling  # type: ignore[attr-defined]
    info = JobStore(Journal(tmp_path / "j.sqlite3")).get(proc.job_id)  # type: ignore[arg-type]
    assert info is not None and info.state is JobState.CANCELLED


async def test_a_job_error_in_the_child_is_a_job_error_here(sim_config, tmp_path):
    proc = JobProcess.spawn()
    with pytest.raises(JobError, match="no job 4242"):
        await asyncio.wrap_future(proc.start(sim_config, KEY, str(tmp_path / "j.sqlite3"), resume=4242))


async def test_a_child_killed_mid_run_is_reported_and_its_job_left_to_resume(make_simulator, tmp_path):
    server = make_simulator(latency_ms=200)
    journal = tmp_path / "j.sqlite3"
    numbers = [f"2547200{i:05d}" for i in range(300)]
    proc = JobProcess.spawn()
    future = proc.start(server.config, KEY, str(journal), create=create(server.config, numbers))
    while proc.job_id is None or not server.sim.records():
        await asyncio.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    with pytest.raises(JobProcessFailed, match=r"exit code -9.*re-checked when the job is resumed"):
        await asyncio.wrap_future(future)
    interrupted = JobStore(Journal(journal)).interrupted_jobs()
    assert [j.id for j in interrupted] == [proc.job_id]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_child_dies_with_its_host(tmp_path):
    host = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from mobitui.core.job_process import JobProcess; p = JobProcess.spawn(); "
            "print(p.pid, flush=True); time.sleep(60)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        child = int(host.stdout.readline())  # type: ignore[union-attr]
        time.sleep(0.5)
        os.kill(child, 0)  # alive while its host is
        host.kill()
        host.wait(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            # A zombie until reaped by init counts as gone: read its state.
            try:
                if Path(f"/proc/{child}/stat").read_text().split(") ")[1].startswith("Z"):
                    break
            except (FileNotFoundError, IndexError):
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the job process {child} outlived its host")
    finally:
        host.kill()


async def test_a_failure_in_the_child_is_told_here_without_the_key(sim_config, tmp_path):
    blocker = tmp_path / KEY
    blocker.write_text("a file where the journal's directory should be")
    proc = JobProcess.spawn()
    future = proc.start(sim_config, KEY, str(blocker / "journal.sqlite3"), create=create(sim_config, ["254700000101"]))
    with pytest.raises(JobProcessFailed) as err:
        await asyncio.wrap_future(future)
    text = str(err.value)
    assert "journal.sqlite3" in text or "Not a directory" in text or "exists" in text
    assert KEY not in text and MASK in text


def test_a_spare_never_used_exits_quietly_when_let_go():
    proc = JobProcess.spawn()
    proc.close()
    assert proc._proc.wait(5) == 0


def test_job_messages_name_their_kinds() -> None:
    """Every engine event goes out as a job message and comes back equal."""
    from mobitui.core.bulk import Paused
    from mobitui.core.config import Route
    from mobitui.core.job_process import EventKind, event_from_message, event_to_message
    from mobitui.core.jobs import ItemStatus
    from mobitui.core.results import Operation, Outcome, Result

    p = Progress(7, Operation.STATUS, 3, 1, 0, 1, 1, 2, {"ok": 1}, {"active": 1}, 2.0, 1.0, 0.5)
    r = Result("254700000001", "c1", Operation.STATUS, Route.SUBSCRIPTION_API, Outcome.OK, state="active")
    events = [
        ItemResult(7, 0, "254700000001", ItemStatus.DONE, r, "n"),
        p,
        Paused(7, 2.0, "429"),
        Finished(7, JobState.DONE, p),
    ]
    kinds = []
    for e in events:
        message = event_to_message(e)
        kinds.append(message["kind"])
        again = event_from_message(json.loads(json.dumps(message)))
        assert again == e
    assert kinds == [EventKind.ITEM, EventKind.PROGRESS, EventKind.PAUSED, EventKind.FINISHED]


async def test_a_read_only_host_s_job_process_refuses_an_unsubscribe_job(simulator, sim_config, tmp_path):
    """The job process builds its job through the jobs service, so read-only mode holds
    there too: nothing is sent, nothing is stored, the host is told why."""
    proc = JobProcess.spawn()
    future = proc.start(
        sim_config,
        KEY,
        str(tmp_path / "j.sqlite3"),
        create=create(sim_config, ["254700000101"], "unsubscribe"),
        read_only=True,
    )
    with pytest.raises(JobError, match=r"^read-only mode .*: unsubscribe refused; nothing was sent"):
        await wait(proc, future, [])
    assert simulator.sim.records() == []
    assert JobStore(Journal(tmp_path / "j.sqlite3")).list() == []
