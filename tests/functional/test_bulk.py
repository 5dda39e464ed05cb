"""The bulk engine against the simulator: paste parsing, status, cancel, unsubscribe, 429, resume."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mobitui.core import paste
from mobitui.core.bulk import BulkJob, Finished, ItemResult, Paused, Progress
from mobitui.core.client import Operation, Outcome, Result
from mobitui.core.config import Config, Route
from mobitui.core.jobs import ItemStatus, JobError, JobState, JobStore
from mobitui.core.journal import Journal
from mobitui.core.service import Service
from mobitui.simulator.demo import DEMO_API_KEY, demo_config
from mobitui.simulator.samples import SAMPLES
from support.api import STATES
from support.network import short_window

ROOT = Path(__file__).resolve().parents[2]
HANG, RESET_MID_BODY, HTTP_500 = "254799999001", "254799999004", "254799999005"


def open_service(config: Config, tmp_path: Path, concurrency: int = 10) -> Service:
    journal = Journal(tmp_path / "journal.sqlite3")
    return Service.open(config, DEMO_API_KEY, journal, concurrency=concurrency)


def api_records(server, operation: str | None = None) -> list:  # type: ignore[no-untyped-def]
    return [r for r in server.sim.records() if operation is None or r.operation == operation]


# -- paste ---------------------------------------------------------------------


def test_paste_reads_every_format_separator_duplicate_and_junk():
    lines = [
        "+254 700 000 101, 0700-000-102;(254) 700.000.103\t254700000104",
        "00254700000105",
        "",
        "  0700 000 101  ",  # the first number again, national form
        "call me maybe; 12; +44 7700 900123",
        "254700000106,254700000106",
        '=HYPERLINK("x")',
    ]
    entries = paste.parse(lines, "KE")
    usable = [e.msisdn for e in entries if e.usable]
    assert usable == [f"2547000001{n:02d}" for n in range(1, 6)] + ["447700900123", "254700000106"]
    dups = [(e.line, e.duplicate_of) for e in entries if e.verdict == "duplicate"]
    assert dups == [(4, 1), (6, 6)]
    bad = {e.raw: e.reason for e in entries if e.verdict == "invalid"}
    assert set(bad) == {"12", '=HYPERLINK("x")'}
    assert bad["12"] and bad['=HYPERLINK("x")'].startswith("contains '='")
    # Words beside numbers on a line are the line's other fields, not invalid numbers.
    assert {e.raw: e.other for e in entries if e.line == 5} == {
        "12": ("call me maybe",),
        "+44 7700 900123": ("call me maybe",),
    }
    assert [e.line for e in entries][:4] == [1, 1, 1, 1]  # four fields on line 1
    assert paste.counts(entries) == {
        "ok": 6,
        "warning": 1,
        "invalid": 2,
        "duplicate": 2,
    }  # +44 7700 900: a drama number


def test_paste_of_100000_lines_is_correct():
    n = 100_000
    forms = ("+254 7{a:02d} {b:06d}", "07{a:02d}-{b:06d}", "2547{a:02d}{b:06d}", "(254) 7{a:02d}.{b:06d}")
    lines = []
    for i in range(n):
        a, b = 10 + (i % 80), i % 50_000  # every number appears twice, in two forms
        lines.append(forms[i % 4].format(a=a, b=b) if i % 1000 else "junk")
    entries = paste.parse(lines, "KE")
    c = paste.counts(entries)
    assert c["invalid"] == 100
    assert c["ok"] + c["duplicate"] + c["invalid"] == n
    distinct = {e.msisdn for e in entries if e.usable}
    assert len(distinct) == c["ok"]
    assert all(m.startswith("2547") and len(m) == 12 for m in distinct)
    assert c["duplicate"] >= n // 2 - 100


# -- status --------------------------------------------------------------------


async def test_bulk_status_reports_counts_events_and_links_the_journal(simulator, sim_config, tmp_path):
    service = open_service(sim_config, tmp_path, concurrency=4)
    campaign = sim_config.campaigns[0]
    lines = [m for m, _, _ in SAMPLES] + ["not a number", SAMPLES[0][0]]
    entries = paste.parse(lines, campaign.country)
    events: list[object] = []
    job = BulkJob.create(service, campaign, entries, Operation.STATUS, on_event=events.append)
    last = await job.run()
    await service.aclose()

    assert isinstance(events[-1], Finished) and events[-1].state is JobState.DONE
    assert isinstance(events[0], Progress) and events[0].done == 0
    results = [e for e in events if isinstance(e, ItemResult)]
    assert sorted(e.msisdn for e in results) == sorted(m for m, _, _ in SAMPLES)
    assert last.total == 13 and last.done == 13 and last.left == 0 and last.pending == 0
    assert last.states == dict.fromkeys(STATES, 1)
    assert last.outcomes == {"ok": 13}
    # Every request the server got is a number of the job, once.
    assert Counter(r.msisdn for r in api_records(simulator)) == Counter(m for m, _, _ in SAMPLES)

    store = JobStore(service.journal)
    info = store.get(job.job_id)
    assert info.state is JobState.DONE and info.total == 13 and info.lines == 15
    assert info.counts.status["skipped"] == 2 and info.counts.state["unsub"] == 1
    rows = list(store.rows(job.job_id))
    for r in rows:
        if r["status"] == "skipped":
            continue
        (action,) = service.journal.rows("id=?", (r["action_id"],))
        assert action["msisdn"] == r["msisdn"] and action["job_id"] == job.job_id
        assert action["state"] == r["state"] and action["operation"] == "status"
    assert [r["verdict"] for r in rows if r["status"] == "skipped"] == ["invalid", "duplicate"]


async def test_a_status_job_that_cannot_write_its_journal_stops_and_can_be_resumed(
    make_simulator, tmp_path, monkeypatch
):
    """A status job's answers are written by a thread of their own: a write that fails
    there (a full disk) stops the job, is raised to the caller, and leaves it resumable."""
    import sqlite3
    import threading

    server = make_simulator(latency_ms=20)
    service = open_service(server.config, tmp_path, concurrency=2)
    campaign = server.config.campaigns[0]
    numbers = [f"2547001{i:05d}" for i in range(60)]  # ~0.6 s at 2 x 20 ms: several batches
    record = JobStore.record
    writers: set[str] = set()
    batches = 0

    def failing(self, job_id, campaign, updates):  # type: ignore[no-untyped-def]
        nonlocal batches
        writers.add(threading.current_thread().name)
        batches += 1
        if batches > 1:  # the first batch is written, then the disk fills up
            raise sqlite3.OperationalError("database or disk is full")
        return record(self, job_id, campaign, updates)

    monkeypatch.setattr(JobStore, "record", failing)
    job = BulkJob.create(service, campaign, numbers, Operation.STATUS, concurrency=2)
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        await job.run()
    sent = len(api_records(server, "status"))
    assert sent < len(numbers)  # it stopped sending
    assert writers == {"mobitui-journal-writer"}  # not the event loop's thread
    info = JobStore(service.journal).get(job.job_id)
    assert info.state is JobState.INTERRUPTED

    monkeypatch.setattr(JobStore, "record", record)
    last = await BulkJob.resume(service, job.job_id).run()
    await service.aclose()
    assert last.done == len(numbers) and last.outcomes == {"ok": len(numbers)}


async def test_cancel_stops_new_sends_and_records_those_in_flight(make_simulator, tmp_path):
    server = make_simulator(latency_ms=150)
    service = open_service(server.config, tmp_path, concurrency=5)
    campaign = server.config.campaigns[0]
    numbers = [f"2547100{i:05d}" for i in range(200)]
    results: list[ItemResult] = []

    def on_event(ev: object) -> None:
        if isinstance(ev, ItemResult):
            results.append(ev)
            if len(results) == 12:
                job.cancel()

    job = BulkJob.create(service, campaign, numbers, Operation.STATUS, concurrency=5, on_event=on_event)
    last = await job.run()
    assert last.in_flight == 0  # every request the job started has its answer (logged on arrival)
    await service.aclose()  # the client is closed: nothing more can leave it

    received = [r.msisdn for r in api_records(server)]
    recorded = {e.msisdn for e in results}
    assert len(received) == len(set(received))  # nothing sent twice
    assert set(received) == recorded  # every request that left was finished and recorded
    assert 12 <= len(recorded) <= 12 + 5  # no new sends after cancel: only those in flight
    assert last.cancelling and last.in_flight == 0 and last.done == len(recorded)
    info = JobStore(service.journal).get(job.job_id)
    assert info.state is JobState.CANCELLED
    assert info.counts.status["pending"] == 200 - len(recorded)
    assert info.counts.status["done"] == len(recorded)


# -- unsubscribe -----------------------------------------------------------------


async def test_bulk_unsubscribe_never_resends_an_unknown_outcome(simulator, sim_config, tmp_path):
    service = open_service(sim_config, tmp_path)
    campaign = sim_config.campaigns[0]
    cid = campaign.campaign_id
    numbers = ["254700000101", "254700000105", RESET_MID_BODY, HTTP_500, "254711000001"]
    job = BulkJob.create(service, campaign, numbers, Operation.UNSUBSCRIBE)
    last = await job.run()
    await service.aclose()

    assert last.done == 3 and last.unknown == 2 and last.outcomes == {"ok": 3}
    rows = {r["msisdn"]: r for r in JobStore(service.journal).rows(job.job_id)}
    assert rows[RESET_MID_BODY]["status"] == "unknown" and rows[RESET_MID_BODY]["outcome"] == "unknown"
    assert "Outcome unknown" in rows[RESET_MID_BODY]["error"]
    assert rows[HTTP_500]["status"] == "unknown"
    assert rows["254700000101"]["state"] == "unsubscribed"
    sent = Counter(r.msisdn for r in api_records(simulator, "unsubscribe"))
    assert sent == Counter(numbers)  # once each, the unknown ones included: never resent
    assert simulator.sim.unsubscribe_count(cid, RESET_MID_BODY) == 1  # acted on, answer lost
    assert simulator.sim.unsubscribe_count(cid, HTTP_500) == 0


async def test_rate_limit_pauses_the_whole_job_and_never_sends_a_stop_twice(make_simulator, tmp_path):
    """A stop answered 429 reached the server: its outcome is unknown, and it is never sent
    again by itself (a status check would be); the job pauses for the others."""
    server = make_simulator(rate_limit=25)
    service = open_service(server.config, tmp_path, concurrency=10)
    campaign = server.config.campaigns[0]
    numbers = [f"2547300{i:05d}" for i in range(60)]
    events: list[object] = []
    job = BulkJob.create(service, campaign, numbers, Operation.UNSUBSCRIBE, on_event=events.append)
    last = await job.run()
    await service.aclose()

    records = api_records(server, "unsubscribe")
    refused = {r.msisdn for r in records if r.status == 429}
    assert refused and last.done + last.unknown == 60 and last.unknown == len(refused)
    assert any(isinstance(e, Paused) for e in events)
    assert Counter(r.msisdn for r in records) == Counter(numbers)  # one request per number, no more
    failed = [e.result for e in events if isinstance(e, ItemResult) and not e.result.ok]
    assert {r.msisdn for r in failed} == refused
    assert all(r.outcome is Outcome.UNKNOWN and "outcome unknown" in (r.error or "") for r in failed)
    cid = campaign.campaign_id
    assert all(server.sim.unsubscribe_count(cid, m) == (0 if m in refused else 1) for m in numbers)


# -- resume ----------------------------------------------------------------------


async def test_resume_settles_numbers_that_may_have_been_sent_before_sending_anything(simulator, sim_config, tmp_path):
    """A crash left four unsubscribes in flight; each is settled the right way (after the
    attempts are as old as the client can hold one: a short window, tests/support/network.py)."""
    service = open_service(short_window(sim_config), tmp_path)
    campaign = sim_config.campaigns[0]
    cid, journal = campaign.campaign_id, service.journal
    answered, took, did_not_take, no_check = "254740000001", "254740000002", "254740000003", HTTP_500
    pending = ["254740000010", "254740000011"]
    store = JobStore(journal)
    job_id = store.create(campaign, Operation.UNSUBSCRIBE, [answered, took, did_not_take, no_check, *pending], 4)
    for pos, m in enumerate([answered, took, did_not_take, no_check]):
        store.mark_in_flight(job_id, pos)
        row = journal.begin(campaign, m, "unsubscribe", "subscription-api", job_id)
        if m == answered:  # the answer was journalled, the job's batch was lost
            journal.finish(
                row,
                Result(
                    m,
                    cid,
                    Operation.UNSUBSCRIBE,
                    Route.SUBSCRIPTION_API,
                    Outcome.OK,
                    state="unsubscribed",
                    http_status=200,
                    reference="AP:journal",
                ),
            )
    simulator.sim.unsubscribe(cid, took)  # the server acted before the crash
    simulator.sim.set_state(cid, did_not_take, "active")  # the request never got there

    order: list[tuple[str, str]] = []
    job = BulkJob.resume(service, job_id)
    last = await job.run()
    await service.aclose()
    for r in api_records(simulator):
        order.append((r.operation, r.msisdn))

    unsubscribes = Counter(m for op, m in order if op == "unsubscribe")
    assert unsubscribes == Counter({did_not_take: 1, pending[0]: 1, pending[1]: 1})
    assert {m for op, m in order if op == "status"} == {took, did_not_take, no_check}
    # Settled before any pending number was sent.
    first_pending = min(order.index(("unsubscribe", m)) for m in pending)
    assert all(order.index(("status", m)) < first_pending for m in (took, did_not_take, no_check))
    rows = {r["msisdn"]: r for r in JobStore(journal).rows(job_id)}
    assert rows[answered]["status"] == "done" and rows[answered]["reference"] == "AP:journal"
    assert rows[took]["status"] == "done" and rows[took]["state"] == "unsub"
    assert "not sent again" in rows[took]["note"]
    assert rows[did_not_take]["status"] == "done" and "sent again" in rows[did_not_take]["note"]
    assert rows[no_check]["status"] == "unknown" and "re-check" in rows[no_check]["error"]
    assert simulator.sim.unsubscribe_count(cid, took) == 1
    assert last.done == 5 and last.unknown == 1


async def test_an_abandoned_run_leaves_in_flight_numbers_unknown_and_resume_sends_none_twice(make_simulator, tmp_path):
    """The task itself is cancelled (a second Ctrl-C): requests in flight are cut off."""
    server = make_simulator(latency_ms=300)
    service = open_service(short_window(server.config), tmp_path, concurrency=4)
    campaign = server.config.campaigns[0]
    numbers = [f"2547800{i:05d}" for i in range(12)]
    job = BulkJob.create(service, campaign, numbers, Operation.UNSUBSCRIBE, concurrency=4)
    task = asyncio.create_task(job.run())
    while len(api_records(server)) < 6:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    store = JobStore(service.journal)
    info = store.get(job.job_id)
    assert info.state is JobState.INTERRUPTED
    assert 1 <= info.counts.status["unknown"] <= 4 and info.counts.status["pending"] >= 4
    unsettled = {i.msisdn for i in store.items(job.job_id, (ItemStatus.UNKNOWN,))}

    last = await BulkJob.resume(service, job.job_id).run()
    await service.aclose()
    assert last.done == 12 and last.outcomes == {"ok": 12}
    assert Counter(r.msisdn for r in api_records(server, "unsubscribe")) == Counter(numbers)
    assert {r.msisdn for r in api_records(server, "status")} == unsettled  # each re-checked first


async def test_a_job_running_in_this_process_cannot_be_resumed_twice(make_simulator, tmp_path):
    server = make_simulator(latency_ms=100)
    service = open_service(server.config, tmp_path, concurrency=2)
    campaign = server.config.campaigns[0]
    job = BulkJob.create(service, campaign, [f"2547500{i:05d}" for i in range(6)], Operation.UNSUBSCRIBE)
    task = asyncio.create_task(job.run())
    await asyncio.sleep(0.05)
    with pytest.raises(JobError, match="still running"):
        BulkJob.resume(service, job.job_id)
    await task
    await service.aclose()
    assert Counter(r.msisdn for r in api_records(server, "unsubscribe")).most_common(1)[0][1] == 1


# -- headless CLI ------------------------------------------------------------------


def test_headless_status_from_stdin_runs_a_job(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    paste_text = "+254 700 000 101\n0700000113; junk\n254700000101\n"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mobitui",
            "status",
            "--demo",
            "--campaign",
            "Kenya Tips",
            "--json",
            "--file",
            "-",
            "--export",
            str(tmp_path / "out.jsonl"),
        ],
        input=paste_text,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    # A word beside a number on a line is another field, reported, not an invalid number.
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [(x["msisdn"], x["state"], x["ok"]) for x in lines] == [
        ("254700000101", "active", True),
        ("254700000113", "unsub", True),
    ]
    assert "input line 2: not numbers, not sent: 'junk'" in out.stderr
    assert "input line 3: 254700000101 duplicate of line 1: sent once" in out.stderr
    exported = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [x["verdict"] for x in exported] == ["ok", "ok", "duplicate"]
    jobs = subprocess.run(
        [sys.executable, "-m", "mobitui", "jobs", "--demo", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    (job,) = [json.loads(x) for x in jobs.stdout.splitlines()]
    assert job["operation"] == "status" and job["state"] == "done" and job["total"] == 2
    assert job["counts"]["status"]["skipped"] == 1 and job["source"] == "stdin"  # the duplicate


def test_the_journal_writer_holds_a_bounded_number_of_batches(tmp_path, monkeypatch):
    """When the disk is slower than the answers (a run at full speed), handing over a
    batch waits for the writer instead of piling batches up in memory."""
    import threading

    from mobitui.core import bulk
    from mobitui.core.jobs import ItemUpdate

    gate = threading.Event()
    written: list[int] = []

    def slow_disk(self, job_id, campaign, batch):  # type: ignore[no-untyped-def]
        gate.wait(5)
        written.append(len(batch))

    monkeypatch.setattr(JobStore, "record", slow_disk)
    journal = Journal(tmp_path / "journal.sqlite3")
    writer = bulk._Writer(journal)
    campaign = demo_config("http://127.0.0.1:9").campaigns[0]
    result = Result("254700000101", campaign.campaign_id, Operation.STATUS, Route.SUBSCRIPTION_API, Outcome.OK)
    update = ItemUpdate(0, ItemStatus.DONE, result, None, True)
    for _ in range(bulk.WRITES_AHEAD):
        writer.submit(1, campaign, [update])  # returns at once
    blocked = threading.Thread(target=writer.submit, args=(1, campaign, [update]))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive()  # one more waits for the disk
    gate.set()
    blocked.join(5)
    assert not blocked.is_alive()
    writer.drain()
    writer.close()
    journal.close()
    assert written == [1] * (bulk.WRITES_AHEAD + 1)
