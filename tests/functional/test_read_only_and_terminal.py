"""Read-only mode holds in every front end, and the console refuses to run without a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_console import make_app, with_ui
from test_console_bulk import open_bulk
from textual.widgets import Input

from mobitui.core.client import Operation
from mobitui.core.jobs import JobStore
from mobitui.core.journal import Journal, default_path
from mobitui.simulator.demo import DEMO_API_KEY, demo_config, demo_toml
from mobitui.tui.screens.bulk_confirm import BulkUnsubscribeConfirm

ROOT = Path(__file__).resolve().parents[2]
REFUSED = "read-only mode (--read-only or ui.read_only = true): "


def run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MOBITUI_API_KEY": DEMO_API_KEY,
        "MOBITUI_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "mobitui", *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )


def config(tmp_path: Path, base_url: str, read_only: bool = False) -> str:
    text = demo_toml(base_url)
    if read_only:
        text = text.replace("[ui]", "[ui]\nread_only = true") if "[ui]" in text else text + "\n[ui]\nread_only = true\n"
    path = tmp_path / "mobitui.toml"
    path.write_text(text)
    return str(path)


def test_read_only_flag_before_or_after_the_command_refuses_unsubscribe_and_sends_nothing(tmp_path, simulator):
    cfg = config(tmp_path, simulator.base_url)
    for args in (("--read-only", "unsubscribe"), ("unsubscribe", "--read-only")):
        r = run(tmp_path, *args, "--config", cfg, "--yes", "--campaign", "Kenya Tips", "254700000101")
        assert r.returncode == 2, r.stderr
        assert REFUSED + "unsubscribe refused; nothing was sent." in r.stderr
        assert "Traceback" not in r.stderr
    assert simulator.sim.requests == []


def test_ui_read_only_in_the_config_refuses_unsubscribe_but_status_still_works(tmp_path, simulator):
    cfg = config(tmp_path, simulator.base_url, read_only=True)
    r = run(tmp_path, "unsubscribe", "--config", cfg, "--yes", "--campaign", "Kenya Tips", "254700000101")
    assert r.returncode == 2 and REFUSED in r.stderr
    assert simulator.sim.requests == []
    r = run(tmp_path, "status", "--config", cfg, "--campaign", "Kenya Tips", "254700000101")
    assert r.returncode == 0, r.stderr
    assert "active" in r.stdout
    assert [r.path.rsplit("/", 1)[-1] for r in simulator.sim.records()] == ["status"]


def _interrupted_unsubscribe_job(journal_path: Path, numbers: list[str]) -> int:
    """An unsubscribe job whose owner died before any number was sent."""
    journal_path.parent.mkdir(parents=True, exist_ok=True)
    journal = Journal(journal_path)
    store = JobStore(journal)
    campaign = demo_config("http://127.0.0.1:9").campaign("Kenya Tips")
    job_id = store.create(campaign, Operation.UNSUBSCRIBE, numbers, 2)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    journal.db.execute("UPDATE jobs SET pid=? WHERE id=?", (int(gone.stdout), job_id))
    assert [j.id for j in store.interrupted_jobs()] == [job_id]
    journal.close()
    return job_id


def test_read_only_refuses_resuming_an_unsubscribe_job(tmp_path, simulator):
    cfg = config(tmp_path, simulator.base_url)
    job_id = _interrupted_unsubscribe_job(tmp_path / "data" / "journal.sqlite3", ["254700000101"])
    r = run(tmp_path, "--read-only", "resume", str(job_id), "--config", cfg, "--yes")
    assert r.returncode == 2, r.stderr
    assert REFUSED + f"resuming unsubscribe job {job_id} refused" in r.stderr
    assert simulator.sim.requests == []


def test_the_console_without_a_terminal_exits_at_once_naming_the_headless_commands(tmp_path, simulator):
    cfg = config(tmp_path, simulator.base_url)
    r = run(tmp_path, "--config", cfg)  # stdin and stdout are pipes, as under cron or ssh without -t
    assert r.returncode == 2
    assert r.stdout == ""  # no screen drawn into the pipe
    assert r.stderr.count("\n") == 1 and "\x1b" not in r.stderr
    assert "needs a terminal" in r.stderr
    for command in ("mobitui status", "mobitui unsubscribe", "mobitui resume", "ssh -t"):
        assert command in r.stderr


async def test_f5_in_read_only_refuses_an_interrupted_unsubscribe_job(sim_config, simulator):
    job_id = _interrupted_unsubscribe_job(default_path(), ["254700000101", "254700000102"])
    app = make_app(with_ui(sim_config, refresh_interval=0), read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, None)
        assert screen.interrupted == [job_id]
        await pilot.press("f5")
        await pilot.pause(0.3)
        await screen.workers.wait_for_complete()
        assert screen.running is None
        messages = [n.message for n in app._notifications]
        assert any(m.startswith(REFUSED + f"resuming unsubscribe job {job_id} refused") for m in messages)
    assert simulator.sim.requests == []


async def test_f5_on_an_unsubscribe_job_asks_for_the_count_first(sim_config, simulator):
    job_id = _interrupted_unsubscribe_job(default_path(), ["254700000101", "254700000102"])
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, None)
        assert screen.interrupted == [job_id]
        await pilot.press("f5")
        await pilot.pause(0.2)
        assert isinstance(app.screen, BulkUnsubscribeConfirm) and app.screen.count == 2
        app.screen.query_one(Input).value = "1"  # the wrong count sends nothing
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, BulkUnsubscribeConfirm)
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert screen.running is None and screen.interrupted == [job_id]  # still resumable
    assert simulator.sim.requests == []
