"""Jobs in the journal: cheap to store, told live from dead, resumed exactly once after kill -9."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mobitui.core.bulk import BulkJob
from mobitui.core.client import Operation
from mobitui.core.config import parse
from mobitui.core.jobs import ItemStatus, JobError, JobState, JobStore
from mobitui.core.journal import Journal
from mobitui.core.service import Service
from mobitui.simulator.demo import DEMO_API_KEY, demo_config, demo_toml
from support.network import short_window_toml

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = demo_config("http://127.0.0.1:9").campaigns[0]


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MOBITUI_API_KEY": DEMO_API_KEY,
        "MOBITUI_DATA_DIR": str(tmp_path / "data"),
    }


def mobitui(*args: str, env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "mobitui", *args], capture_output=True, text=True, env=env, timeout=60, **kw
    )


def test_a_job_of_100000_numbers_is_stored_in_one_go_and_read_back_in_pages(tmp_path):
    store = JobStore(Journal(tmp_path / "j.sqlite3"))
    numbers = (f"2547{i:08d}" for i in [*range(100_000), 5])  # one duplicate at the end
    t0 = time.perf_counter()
    job_id = store.create(CAMPAIGN, Operation.STATUS, numbers, 100)
    created = time.perf_counter() - t0
    info = store.get(job_id)
    assert info.total == 100_000 and info.lines == 100_001 and info.state is JobState.RUNNING
    assert info.counts.status["pending"] == 100_000 and info.counts.status["skipped"] == 1
    items = list(store.items(job_id, (ItemStatus.PENDING,)))
    assert [i.position for i in items] == list(range(100_000))
    assert items[-1].msisdn == "254700099999"
    assert created < 30  # generous: it is seconds only if items were written one transaction each


def test_interrupted_jobs_tells_a_dead_owner_from_a_live_one(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    store = JobStore(journal)
    mine = store.create(CAMPAIGN, Operation.UNSUBSCRIBE, ["254700000101"], 1)
    dead = store.create(CAMPAIGN, Operation.UNSUBSCRIBE, ["254700000101", "254700000102"], 1)
    reused = store.create(CAMPAIGN, Operation.STATUS, ["254700000101"], 1)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    journal.db.execute("UPDATE jobs SET pid=? WHERE id=?", (int(gone.stdout), dead))
    journal.db.execute("UPDATE jobs SET pid_start='1' WHERE id=?", (reused,))  # our pid, another process
    store.mark_in_flight(dead, 0)

    found = {j.id: j for j in store.interrupted_jobs()}
    assert set(found) == {dead, reused}
    assert store.get(mine).state is JobState.RUNNING
    assert found[dead].counts.status["unknown"] == 1 and found[dead].counts.status["pending"] == 1
    (item,) = store.items(dead, (ItemStatus.UNKNOWN,))
    assert item.msisdn == "254700000101"


def test_a_job_owned_by_a_live_process_is_not_taken_over(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    store = JobStore(journal)
    job_id = store.create(CAMPAIGN, Operation.UNSUBSCRIBE, ["254700000101"], 1)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        from mobitui.core.jobs import _proc_start

        time.sleep(0.1)
        journal.db.execute(
            "UPDATE jobs SET pid=?, pid_start=? WHERE id=?", (sleeper.pid, _proc_start(sleeper.pid), job_id)
        )
        assert store.interrupted_jobs() == []
        with pytest.raises(JobError, match="still running"):
            store.claim(job_id)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert [j.id for j in store.interrupted_jobs()] == [job_id]
    assert store.claim(job_id).state is JobState.RUNNING


async def test_kill_9_mid_unsubscribe_then_resume_sends_every_number_exactly_once(make_simulator, tmp_path):
    server = make_simulator(latency_ms=200)
    config_file = tmp_path / "config.toml"
    config_file.write_text(short_window_toml(demo_toml(server.base_url)))  # a 6 s resume window
    numbers = [f"2547600{i:05d}" for i in range(100)]
    (tmp_path / "numbers.txt").write_text("\n".join(numbers) + "\n")
    env = cli_env(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mobitui",
            "unsubscribe",
            "--config",
            str(config_file),
            "--campaign",
            "Kenya Tips",
            "--file",
            str(tmp_path / "numbers.txt"),
            "--yes",
            "--concurrency",
            "10",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while len(server.sim.records()) < 35:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the job never got going"
        time.sleep(0.01)
    proc.kill()
    assert proc.wait() == -9
    sent_before = [r.msisdn for r in server.sim.records()]
    assert len(sent_before) < len(numbers)

    journal = Journal(tmp_path / "data" / "journal.sqlite3")
    store = JobStore(journal)
    (info,) = store.interrupted_jobs()
    assert info.operation is Operation.UNSUBSCRIBE and info.total == 100
    assert info.counts.status["unknown"] >= 1  # in flight at the kill
    assert info.counts.status["pending"] >= 1
    unsettled = {i.msisdn for i in store.items(info.id, (ItemStatus.UNKNOWN,))}
    done_before = {r["msisdn"] for r in store.rows(info.id) if r["status"] == "done"}
    assert set(sent_before) <= unsettled | done_before  # whatever left was marked before it left

    service = Service.open(parse(config_file.read_text()), DEMO_API_KEY, journal, concurrency=10)
    job = BulkJob.resume(service, info.id)
    last = await job.run()
    await service.aclose()

    assert last.done == 100 and last.unknown == 0 and last.outcomes == {"ok": 100}
    records = server.sim.records()
    unsubscribes = Counter(r.msisdn for r in records if r.operation == "unsubscribe")
    assert unsubscribes == Counter(numbers)  # every number exactly once, across the crash
    cid = CAMPAIGN.campaign_id
    assert all(server.sim.unsubscribe_count(cid, m) == 1 for m in numbers)
    checked = {r.msisdn for r in records if r.operation == "status"}
    assert checked and checked <= unsettled  # only numbers that may have been sent are re-checked
    assert store.get(info.id).state is JobState.DONE


def test_cli_jobs_and_resume_headless(simulator, tmp_path):
    config_file = tmp_path / "config.toml"
    config_file.write_text(demo_toml(simulator.base_url))
    env = cli_env(tmp_path)
    journal = Journal(tmp_path / "data" / "journal.sqlite3")
    store = JobStore(journal)
    numbers = ["254700000101", "254700000102", "254700000103"]
    job_id = store.create(CAMPAIGN, Operation.UNSUBSCRIBE, numbers, 2)
    store.finish(job_id, JobState.CANCELLED, store.count(job_id))
    journal.close()

    listed = mobitui("jobs", "--config", str(config_file), "--json", env=env)
    (job,) = [json.loads(x) for x in listed.stdout.splitlines()]
    assert job["id"] == job_id and job["state"] == "cancelled" and job["counts"]["status"]["pending"] == 3

    refused = mobitui("resume", str(job_id), "--config", str(config_file), env=env, stdin=subprocess.DEVNULL)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert simulator.sim.records() == []

    out = mobitui(
        "resume",
        str(job_id),
        "--config",
        str(config_file),
        "--yes",
        "--json",
        "--export",
        str(tmp_path / "r.csv"),
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert [(r["msisdn"], r["ok"], r["state"]) for r in rows] == [(m, True, "unsubscribed") for m in numbers]
    assert Counter(r.msisdn for r in simulator.sim.records()) == Counter(numbers)
    assert (tmp_path / "r.csv").read_text().count("\n") == 4

    table = mobitui("jobs", "--config", str(config_file), env=env)
    assert table.returncode == 0
    line = next(x for x in table.stdout.splitlines() if x.startswith(str(job_id)))
    assert "unsubscribe" in line and "done" in line and "3/3" in line

    again = mobitui("resume", str(job_id), "--config", str(config_file), "--yes", env=env)
    assert again.returncode == 0  # nothing left: nothing sent
    assert len(simulator.sim.records()) == 3
