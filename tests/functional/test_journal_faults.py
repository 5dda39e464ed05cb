"""The journal's file: one owner of its schema, and its faults as states, never crashes.

Faults are made real: a second connection holding the lock, a tmpfs that fills
up or is remounted read-only, a file that is not a database, a directory that
cannot exist. Every one must end in a JournalFault naming the path, the cause
and the way out; a mutating call is never sent when its attempt row cannot be
written.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mobitui.core import schema
from mobitui.core.client import Operation, Outcome, Result
from mobitui.core.config import EXAMPLE, Route, parse
from mobitui.core.jobs import JobStore
from mobitui.core.journal import Journal, JournalFault, JournalThread
from mobitui.core.service import Service
from mobitui.simulator.demo import DEMO_API_KEY, demo_toml
from support.faults import held_lock, tmpfs

CFG = parse(EXAMPLE)
CAMPAIGN = CFG.campaigns[0]
ROOT = Path(__file__).resolve().parents[2]

OLD_ACTIONS = """
CREATE TABLE actions (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, os_user TEXT,
  host TEXT, ssh_client TEXT, campaign_id TEXT NOT NULL, campaign_name TEXT, msisdn TEXT NOT NULL,
  operation TEXT NOT NULL, route TEXT NOT NULL, outcome TEXT NOT NULL, state TEXT, http_status INTEGER,
  reference TEXT, error TEXT, exchanges TEXT, job_id INTEGER);
CREATE INDEX actions_msisdn ON actions (msisdn, id);
CREATE INDEX actions_job ON actions (job_id, id);
INSERT INTO actions (started_at, campaign_id, msisdn, operation, route, outcome)
  VALUES ('2026-01-01T00:00:00.000+00:00', 'c1', '254700000101', 'status', 'subscription-api', 'ok');
PRAGMA user_version=1;
"""


def status_result(msisdn: str = "254700000101") -> Result:
    return Result(msisdn, CAMPAIGN.campaign_id, Operation.STATUS, Route.SUBSCRIPTION_API, Outcome.OK, state="active")


def assert_one_message(fault: JournalFault, path: Path, kind: str, *words: str) -> None:
    text = str(fault)
    assert fault.kind == kind, text
    assert str(path) in text
    for w in words:
        assert w in text, text
    assert "\n" not in text


# -- one owner of the schema ---------------------------------------------------------


@pytest.mark.parametrize("with_jobs", [False, True])
def test_a_journal_of_the_previous_format_opens_and_is_migrated(tmp_path, with_jobs):
    db = tmp_path / "journal.sqlite3"
    old = sqlite3.connect(db)
    old.executescript(OLD_ACTIONS)
    if with_jobs:  # the previous code made these on the fly, without a version of their own
        old.executescript(schema.MIGRATIONS[1])
        old.execute(
            "INSERT INTO jobs (created_at, updated_at, heartbeat, campaign_id, operation, route, state,"
            " concurrency, total, lines) VALUES ('t','t',0,'c1','status','subscription-api','done',1,0,0)"
        )
        old.commit()
    old.close()
    j = Journal(db)
    assert j.db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION == 3
    assert [r["outcome"] for r in j.history("254700000101")] == ["ok"]
    assert len(JobStore(j).list()) == (1 if with_jobs else 0)
    j.record(CAMPAIGN, status_result())
    j.close()


def test_a_duplicate_line_of_a_job_stored_before_its_first_line_was_data_keeps_it(tmp_path):
    """Version 2 kept a duplicate's first line only in its reason's words; the migration
    to 3 stores it once as data, and a resumed job's paste shows it again."""
    from mobitui.core.jobs import entry_of

    db = tmp_path / "journal.sqlite3"
    old = sqlite3.connect(db)
    for step in schema.MIGRATIONS[:2]:
        old.executescript(step)
    old.executemany(
        "INSERT INTO job_items (job_id, position, line, raw, msisdn, verdict, reason, status)"
        " VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        [
            (0, 1, "0700 000 101", "254700000101", "ok", "", "pending"),
            (1, 12, "+254700000101", None, "duplicate", "duplicate of line 1", "skipped"),
            (2, 13, "x", None, "invalid", "duplicate of line 7 is not a rule here", "skipped"),
        ],
    )
    old.execute("PRAGMA user_version=2")
    old.commit()
    old.close()
    j = Journal(db)
    rows = list(JobStore(j).rows(1))
    j.close()
    assert [r["duplicate_of"] for r in rows] == [None, 1, None]
    again = entry_of(rows[1])
    assert (again.line, again.duplicate_of, again.reason) == (12, 1, "duplicate of line 1")


def test_making_a_store_runs_no_sql_and_a_current_file_is_not_migrated_again(tmp_path):
    Journal(tmp_path / "j.sqlite3").close()
    j = Journal(tmp_path / "j.sqlite3")
    seen: list[str] = []
    j.db.set_trace_callback(seen.append)
    JobStore(j)
    assert seen == []
    j.close()


def test_a_journal_written_by_a_newer_version_is_refused_not_damaged(tmp_path):
    db = tmp_path / "j.sqlite3"
    Journal(db).close()
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA user_version=99")
    raw.close()
    with pytest.raises(JournalFault) as err:
        Journal(db)
    assert_one_message(err.value, db, "too-new", "newer mobitui", "99")


def test_a_connection_belongs_to_the_thread_that_opened_it(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    errors: list[BaseException] = []

    def elsewhere() -> None:
        try:
            j.history("254700000101")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=elsewhere)
    t.start()
    t.join()
    assert errors and isinstance(errors[0], sqlite3.ProgrammingError)


# -- faults as states ---------------------------------------------------------------


def test_locked(tmp_path):
    db = tmp_path / "j.sqlite3"
    Journal(db).close()
    j = Journal(db, timeout=0.2)
    with held_lock(db), pytest.raises(JournalFault) as err:
        j.record(CAMPAIGN, status_result())
    assert_one_message(err.value, db, "locked", "another process", "try again")
    assert err.value.transient
    j.record(CAMPAIGN, status_result())  # the lock is gone: the same journal works on
    assert len(j.history("254700000101")) == 1


def test_not_a_database(tmp_path):
    db = tmp_path / "j.sqlite3"
    db.write_bytes(b"this is no SQLite file at all, but someone's notes\n" * 200)
    with pytest.raises(JournalFault) as err:
        Journal(db)
    assert_one_message(err.value, db, "corrupt", "move it aside")


def test_a_directory_that_cannot_exist(tmp_path):
    (tmp_path / "a-file").write_text("x")
    db = tmp_path / "a-file" / "data" / "journal.sqlite3"
    with pytest.raises(JournalFault) as err:
        Journal(db)
    assert_one_message(err.value, db, "missing-dir", "MOBITUI_DATA_DIR")


def test_a_full_disk_names_the_cause_not_a_failed_rollback(tmp_path):
    with tmpfs(tmp_path / "fs", "96k") as fs:
        db = fs.path / "journal.sqlite3"
        j = Journal(db)
        store = JobStore(j)
        numbers = [f"2547{n:08d}" for n in range(20000)]
        with pytest.raises(JournalFault) as err:
            store.create(CAMPAIGN, Operation.STATUS, numbers, 4)
        assert_one_message(err.value, db, "full", "free space")
        assert "rollback" not in str(err.value).lower()
        j.close()


def test_a_read_only_file_system_refuses_writes_and_reads_read_only(tmp_path):
    with tmpfs(tmp_path / "fs", "1m") as fs:
        db = fs.path / "journal.sqlite3"
        j = Journal(db)
        j.record(CAMPAIGN, status_result())
        j.close()
        fs.read_only()
        with pytest.raises(JournalFault) as err:
            Journal(db).record(CAMPAIGN, status_result())
        assert_one_message(err.value, db, "read-only", "writable")
        ro = Journal(db, read_only=True)
        assert [r["state"] for r in ro.history("254700000101")] == ["active"]
        with pytest.raises(JournalFault):
            ro.record(CAMPAIGN, status_result())


async def test_an_unsubscribe_whose_attempt_cannot_be_written_is_never_sent(tmp_path, sim_config, simulator):
    db = tmp_path / "j.sqlite3"
    Journal(db).close()
    campaign = next(c for c in sim_config.campaigns if c.unsubscribe_via.value == "mt-stop")
    service = Service.open(sim_config, DEMO_API_KEY, Journal(db, timeout=0.2))
    try:
        with held_lock(db):
            refused = await service.unsubscribe(campaign, "254700000101")
        assert refused.outcome.value == "failed" and refused.error.startswith("Not sent: the journal ")
        assert service.journal_fault is not None and service.journal_fault.kind == "locked"
        assert simulator.sim.requests == []
        # a status check is still answered, and says it could not be recorded
        with held_lock(db):
            result = await service.status(campaign, "254700000101")
        assert result.ok and service.journal_fault is not None and service.journal_fault.kind == "locked"
        await service.status(campaign, "254700000101")
        assert service.journal_fault is None
    finally:
        await service.aclose()
        service.journal.close()


async def test_the_journal_thread_reopens_after_a_fault(tmp_path):
    (tmp_path / "blocker").write_text("a file where the directory should be")
    db = tmp_path / "blocker" / "journal.sqlite3"
    jt = JournalThread(db, timeout=0.2)
    try:
        with pytest.raises(JournalFault) as caught:
            await jt.call(Journal.record, CAMPAIGN, status_result())
        assert caught.value.kind == "missing-dir"
        (tmp_path / "blocker").unlink()
        await jt.call(Journal.record, CAMPAIGN, status_result())  # reopened: no fault now
        rows = await jt.call(Journal.history, "254700000101")
        assert len(rows) == 1
    finally:
        jt.close()


# -- the CLI: one line, exit 2 -----------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("MOBITUI_", "PYTHON_KEYRING"))}
    e.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        MOBITUI_DATA_DIR=str(tmp_path / "data"),
        MOBITUI_API_KEY=DEMO_API_KEY,
        MOBITUI_JOURNAL_BUSY_TIMEOUT="1",
        PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
    )
    return e


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mobitui", *args], input=stdin, capture_output=True, text=True, env=env, timeout=90
    )


def one_line(r: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_cli_with_the_journal_locked_exits_2_in_one_line_and_sends_nothing(env, tmp_path, simulator):
    cfg = tmp_path / "m.toml"
    cfg.write_text(demo_toml(simulator.base_url))
    db = Path(env["MOBITUI_DATA_DIR"]) / "journal.sqlite3"
    Journal(db).close()
    with held_lock(db):
        r = run(env, "unsubscribe", "--config", str(cfg), "--campaign", "Kenya Jokes SMS", "--yes", "254700000101")
    assert r.returncode == 2
    line = one_line(r)
    assert str(db) in line and "another process holds its lock" in line and "nothing more was sent" in line
    assert simulator.sim.requests == []


def test_cli_on_a_full_or_read_only_data_dir(env, tmp_path, simulator):
    cfg = tmp_path / "m.toml"
    cfg.write_text(demo_toml(simulator.base_url))
    data = Path(env["MOBITUI_DATA_DIR"])
    with tmpfs(data, "96k") as fs:
        r = run(env, "status", "--config", str(cfg), "--campaign", "Kenya Tips", "254700000101")
        assert r.returncode == 0, r.stderr
        numbers = "\n".join(f"2547{n:08d}" for n in range(20000))
        r = run(env, "status", "--config", str(cfg), "--campaign", "Kenya Tips", "--file", "-", stdin=numbers)
        assert r.returncode == 2
        assert "the disk is full" in one_line(r) and "rollback" not in r.stderr
        before = len(simulator.sim.requests)
        fs.read_only()
        r = run(env, "history", "--config", str(cfg), "254700000101")
        assert r.returncode == 0, r.stderr
        assert "read-only" in r.stderr and "status" in r.stdout and "Traceback" not in r.stderr
        r = run(env, "jobs", "--config", str(cfg))
        assert r.returncode == 0, r.stderr
        r = run(env, "unsubscribe", "--config", str(cfg), "--campaign", "Kenya Jokes SMS", "--yes", "254700000101")
        assert r.returncode == 2 and "read-only" in one_line(r)
        assert len(simulator.sim.requests) == before


def test_cli_on_a_corrupt_journal(env, tmp_path, simulator):
    cfg = tmp_path / "m.toml"
    cfg.write_text(demo_toml(simulator.base_url))
    data = Path(env["MOBITUI_DATA_DIR"])
    data.mkdir()
    (data / "journal.sqlite3").write_bytes(b"garbage" * 1000)
    for args in (("history", "254700000101"), ("jobs",), ("status", "--campaign", "Kenya Tips", "254700000101")):
        r = run(env, args[0], "--config", str(cfg), *args[1:])
        assert r.returncode == 2
        assert "move it aside" in one_line(r)
    assert simulator.sim.requests == []


# -- the console: a state shown and retried, never a spinner that cannot end -------------


async def test_console_with_the_journal_locked_at_start_keeps_checking_and_recovers(sim_config, simulator, monkeypatch):
    from test_console import ACTIVE, make_app, settle, text_of, with_ui

    from mobitui.core import journal as journal_mod
    from mobitui.tui import app as app_mod

    monkeypatch.setattr(app_mod, "JOURNAL_RETRY", 0.2)
    monkeypatch.setattr(app_mod, "JOURNAL_BUSY_TIMEOUT", 0.2)
    db = journal_mod.default_path(False)
    Journal(db).close()
    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Jokes SMS")
    with held_lock(db) as other:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press(*ACTIVE, "enter")
            await settle(app, pilot)
            assert "ACTIVE" in text_of(app, "#state-big")  # answered, not CHECKING… for ever
            assert not app.query_one("#status").busy
            banner = app.query_one("#journal-banner")
            assert banner.display and "another process holds its lock" in text_of(app, "#journal-banner")
            assert str(db) in text_of(app, "#journal-banner")
            await pilot.press("ctrl+o")
            await pilot.pause()
            assert not [r for r in simulator.sim.requests if r["operation"] == "mt-stop"]
            assert "Not sent" in " ".join(n.message for n in app._notifications)
            other.execute("ROLLBACK")
            other.execute("BEGIN")  # released (held_lock's own ROLLBACK ends this one)
            for _ in range(100):  # the retry finds it free: poll the state, no fixed sleep
                if not banner.display:
                    break
                await pilot.pause(0.05)
            assert not banner.display
            await pilot.press("ctrl+o")
            await pilot.pause()
            await pilot.press("y")
            await settle(app, pilot)
            await settle(app, pilot)
            assert [r["operation"] for r in simulator.sim.requests].count("mt-stop") == 1
    rows = Journal(db).history(ACTIVE)
    assert [r["operation"] for r in rows][:1] == ["status"] and "unsubscribe" in [r["operation"] for r in rows]


async def test_a_failed_journal_write_or_check_never_leaves_the_panel_checking(sim_config, simulator, monkeypatch):
    from test_console import ACTIVE, ONHOLD, lookup, make_app, settle, text_of, with_ui

    calls = {"n": 0}
    real = Journal.record

    def failing_once(self, *args, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise schema.fault("full", self.path)
        return real(self, *args, **kw)

    monkeypatch.setattr(Journal, "record", failing_once)
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        panel = app.query_one("#status")
        assert not panel.busy and "checking now" not in text_of(app, "#status-age")
        assert "the disk is full" in text_of(app, "#journal-banner")
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        for _ in range(100):
            if not app.query_one("#journal-banner").display:
                break
            await pilot.pause(0.05)
        assert not app.query_one("#journal-banner").display
        # a check that fails outright says so and lets live refresh go on
        service = app.service

        async def broken(*a, **k):  # type: ignore[no-untyped-def]
            raise RuntimeError("the transport fell over")

        monkeypatch.setattr(service.client, "status", broken)
        await lookup(app, pilot, ONHOLD)
        assert not panel.busy
        assert "check failed" in text_of(app, "#status-error") and "transport fell over" in text_of(
            app, "#status-error"
        )
