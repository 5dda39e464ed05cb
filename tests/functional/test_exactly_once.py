"""A number is never stopped twice: a crash and an immediate resume against a gateway that
applies a stop late, parallel jobs on one journal, a journal that cannot be written."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mobitui.core.bulk import BulkJob
from mobitui.core.client import Operation
from mobitui.core.config import Config, parse
from mobitui.core.jobs import JobState, JobStore
from mobitui.core.journal import Journal, JournalThread
from mobitui.core.service import Service
from mobitui.simulator.demo import DEMO_API_KEY, demo_toml

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ["Kenya Jokes SMS", "Kenya Web Opt-In"]  # mt-stop, doi: each stop is an SMS
STOPS = ("unsubscribe", "mt-stop", "doi-stop")


def config_text(base_url: str, connect: float = 0.5, read: float = 2.0) -> str:
    network = f"[network]\nconnect_timeout = {connect}\nread_timeout = {read}\n\n[[campaigns]]"
    return demo_toml(base_url).replace("[[campaigns]]", network, 1)


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MOBITUI_API_KEY": DEMO_API_KEY,
        "MOBITUI_DATA_DIR": str(tmp_path / "data"),
    }


def stops_received(server) -> list:  # type: ignore[no-untyped-def]
    return [r for r in server.sim.records() if r.operation in STOPS]


def wait_until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def all_applied(server) -> bool:  # type: ignore[no-untyped-def]
    """Every stop the slow gateway received has taken effect (so a count is final)."""
    return all(r.acted for r in stops_received(server))


def active(server, config: Config, campaign_name: str, numbers: list[str]) -> str:  # type: ignore[no-untyped-def]
    cid = config.campaign(campaign_name).campaign_id
    for m in numbers:
        server.sim.set_state(cid, m, "active")
    return cid


@pytest.mark.parametrize("campaign_name", GATEWAY)
def test_kill_9_while_a_slow_gateway_holds_the_stops_then_an_immediate_resume_sends_none_twice(
    make_simulator, tmp_path, campaign_name
):
    """The gateway answers after 1.5 s and applies the stop then; the CLI is killed as soon as
    both stops reached it, and resumed at once. The resume must wait for the attempts to land."""
    server = make_simulator(stop_latency_ms=1500, apply_late=True)
    config_file = tmp_path / "config.toml"
    config_file.write_text(config_text(server.base_url))
    numbers = ["254712300001", "254712300002"]
    cid = active(server, server.config, campaign_name, numbers)
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
            campaign_name,
            "--yes",
            *numbers,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: len(stops_received(server)) == 2)
    proc.kill()
    assert proc.wait() == -9
    r = subprocess.run(
        [sys.executable, "-m", "mobitui", "resume", "1", "--config", str(config_file), "--yes", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    wait_until(lambda: all_applied(server))
    assert [server.sim.unsubscribe_count(cid, m) for m in numbers] == [1, 1], r.stdout + r.stderr
    assert Counter(rec.msisdn for rec in stops_received(server)) == Counter(numbers)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(row["msisdn"], row["ok"], row["state"]) for row in rows] == [(m, True, "unsub") for m in numbers]
    assert all("not sent again" in row["note"] for row in rows)
    assert r.returncode == 0


@pytest.mark.parametrize("campaign_name", GATEWAY)
async def test_a_gateway_slower_than_the_clients_patience_still_gets_one_stop(make_simulator, tmp_path, campaign_name):
    """The gateway applies a stop 4 s after it arrived: longer than the resume waits. Status still
    says 'active', but that does not prove the stop was not sent: the number is left unknown."""
    server = make_simulator(stop_latency_ms=4000, apply_late=True)
    config = parse(config_text(server.base_url, connect=0.5, read=1.0))
    numbers = ["254712300011", "254712300012"]
    cid = active(server, config, campaign_name, numbers)
    service = Service.open(config, DEMO_API_KEY, Journal(tmp_path / "journal.sqlite3"))
    job = BulkJob.create(service, config.campaign(campaign_name), numbers, Operation.UNSUBSCRIBE)
    task = asyncio.create_task(job.run())
    while len(stops_received(server)) < 2:
        await asyncio.sleep(0.01)
    task.cancel()  # the process dies with both stops in the gateway's hands
    with pytest.raises(asyncio.CancelledError):
        await task

    last = await BulkJob.resume(service, job.job_id).run()
    rows = {r["msisdn"]: r for r in JobStore(service.journal).rows(job.job_id)}
    assert last.unknown == 2 and last.done == 0
    for m in numbers:
        assert rows[m]["status"] == "unknown" and rows[m]["state"] == "active", rows[m]
        assert "Not sent again automatically" in rows[m]["error"]
    while not all_applied(server):
        await asyncio.sleep(0.05)
    assert [server.sim.unsubscribe_count(cid, m) for m in numbers] == [1, 1]
    # A later resume, once the stop has taken effect, settles them without sending.
    last = await BulkJob.resume(service, job.job_id).run()
    await service.aclose()
    assert last.done == 2 and last.unknown == 0
    assert [server.sim.unsubscribe_count(cid, m) for m in numbers] == [1, 1]
    assert len(stops_received(server)) == 2


async def test_a_stop_that_never_reached_the_journal_never_left_and_is_sent_on_resume(simulator, sim_config, tmp_path):
    """Marked in flight, then the crash, before its journal row: it cannot have left."""
    campaign = sim_config.campaign("Kenya Jokes SMS")
    m = "254712300021"
    cid = active(simulator, sim_config, campaign.name, [m])
    journal = Journal(tmp_path / "journal.sqlite3")
    store = JobStore(journal)
    job_id = store.create(campaign, Operation.UNSUBSCRIBE, [m], 2)
    store.mark_in_flight(job_id, 0)
    service = Service.open(sim_config, DEMO_API_KEY, journal)
    last = await BulkJob.resume(service, job_id).run()
    await service.aclose()
    assert last.done == 1 and last.outcomes == {"ok": 1}
    assert simulator.sim.unsubscribe_count(cid, m) == 1
    (row,) = store.rows(job_id)
    assert "never left" in row["note"]


async def test_three_parallel_doi_jobs_on_one_journal_stop_each_number_once(make_simulator, tmp_path):
    server = make_simulator(latency_ms=5)
    config = server.config
    campaign = config.campaign("Kenya Web Opt-In")
    numbers = [f"2547140{i:05d}" for i in range(1000)]
    cid = active(server, config, campaign.name, numbers)
    path = tmp_path / "journal.sqlite3"
    services = [Service.open(config, DEMO_API_KEY, Journal(path), concurrency=10) for _ in range(3)]
    jobs = [BulkJob.create(s, campaign, numbers, Operation.UNSUBSCRIBE) for s in services]
    await asyncio.gather(*(job.run() for job in jobs))
    for s in services:
        await s.aclose()

    assert Counter(r.msisdn for r in stops_received(server)) == Counter(numbers)
    assert all(server.sim.unsubscribe_count(cid, m) == 1 for m in numbers)
    store = JobStore(Journal(path))
    outcomes: Counter[str] = Counter()
    for job in jobs:
        assert store.get(job.job_id).state is JobState.DONE
        for r in store.rows(job.job_id):
            if r["outcome"] == "ok":
                outcomes["ok"] += 1
            else:
                assert r["outcome"] == "failed" and r["error"].startswith("Not sent: an unsubscribe of")
                assert "in flight" in r["error"] or "was accepted" in r["error"]
                outcomes["not sent"] += 1
    assert outcomes == {"ok": 1000, "not sent": 2000}


def test_two_processes_never_stop_the_same_number_twice(make_simulator, tmp_path):
    """Two CLI processes on one journal, the same numbers, a slow gateway holding each stop."""
    server = make_simulator(stop_latency_ms=300, apply_late=True)
    config_file = tmp_path / "config.toml"
    config_file.write_text(config_text(server.base_url))
    numbers = [f"2547150{i:05d}" for i in range(12)]
    cid = active(server, server.config, "Kenya Jokes SMS", numbers)
    env = cli_env(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "mobitui",
        "unsubscribe",
        "--config",
        str(config_file),
        "--campaign",
        "Kenya Jokes SMS",
        "--yes",
        "--json",
        "--concurrency",
        "4",
        *numbers,
    ]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    wait_until(lambda: all_applied(server))
    assert all(server.sim.unsubscribe_count(cid, m) == 1 for m in numbers)
    rows = [json.loads(line) for out, _ in outs for line in out.splitlines()]
    assert Counter(r["msisdn"] for r in rows if r["ok"]) == Counter(numbers)
    skipped = [r for r in rows if not r["ok"]]
    assert len(skipped) == len(numbers) and all(r["error"].startswith("Not sent:") for r in skipped)


async def test_the_answer_is_reported_when_the_journal_is_locked_as_it_comes_back(
    make_simulator, tmp_path, monkeypatch
):
    """Another process holds the journal's write lock while the gateway answers: the stop was
    accepted and says so; the journal's row stays 'attempted' (true: no answer recorded)."""
    import mobitui.core.schema as schema_module

    monkeypatch.setattr(schema_module, "BUSY_TIMEOUT", 0.3)
    server = make_simulator(stop_latency_ms=800, apply_late=True)
    config = server.config
    campaign = config.campaign("Kenya Jokes SMS")
    m = "254712300031"
    cid = active(server, config, campaign.name, [m])
    path = tmp_path / "journal.sqlite3"
    service = Service.open(config, DEMO_API_KEY, JournalThread(path, timeout=0.3))  # as the console has it
    task = asyncio.create_task(service.unsubscribe(campaign, m))
    while not stops_received(server):
        await asyncio.sleep(0.01)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    ticks = 0
    while not task.done():  # the loop stays free while the journal is locked
        await asyncio.sleep(0.01)
        ticks += 1
    result = task.result()
    locker.execute("ROLLBACK")
    locker.close()
    await service.aclose()
    service.journal.close()
    assert ticks > 10
    assert result.ok and result.state == "stop-sent"
    assert result.journal_error and "another process holds its lock" in result.journal_error
    assert server.sim.unsubscribe_count(cid, m) == 1
    (row,) = Journal(path).history(m)
    assert row["outcome"] == "attempted"


def test_cli_says_accepted_could_not_be_journalled_with_one_line_and_exit_3(make_simulator, tmp_path):
    server = make_simulator(stop_latency_ms=1000, apply_late=True)
    config_file = tmp_path / "config.toml"
    config_file.write_text(config_text(server.base_url))
    m = "254712300041"
    cid = active(server, server.config, "Kenya Jokes SMS", [m])
    env = {**cli_env(tmp_path), "MOBITUI_JOURNAL_BUSY_TIMEOUT": "0.3"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mobitui",
            "unsubscribe",
            "--config",
            str(config_file),
            "--campaign",
            "Kenya Jokes SMS",
            "--yes",
            m,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until(lambda: len(stops_received(server)) == 1)
    locker = sqlite3.connect(tmp_path / "data" / "journal.sqlite3", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert server.sim.unsubscribe_count(cid, m) == 1
    assert "Traceback" not in err
    assert proc.returncode == 3
    assert "accepted, could not be journalled: the journal " in out and "another process holds its lock" in out
    (line,) = [ln for ln in out.splitlines() if ln.startswith(m)]
    assert " yes " in line
    assert len([ln for ln in err.splitlines() if ln.strip()]) == 1
