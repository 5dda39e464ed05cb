"""Pilot tests of the bulk screen against the simulator."""

from __future__ import annotations

import asyncio
import os
import signal

from test_console import make_app, with_ui
from textual.widgets import DataTable, Static, TextArea

from mobitui.core.job_process import JobProcess, JobProcessFailed
from mobitui.core.jobs import JobStore, entry_rows
from mobitui.core.journal import Journal, default_path
from mobitui.simulator.demo import DEMO_API_KEY
from mobitui.tui.screens.bulk import BulkScreen
from mobitui.tui.screens.bulk_confirm import BulkUnsubscribeConfirm

PASTE = "\n".join(
    [
        "254700000101",  # active
        "+254 700 000 106",  # onhold
        "0700-000-101",  # duplicate of line 1
        "hello",  # junk
        "254700000107;254700000113\t254700000102",  # separators on one line
        "",
    ]
)


async def open_bulk(app, pilot, text: str | None) -> BulkScreen:  # type: ignore[no-untyped-def]
    """The bulk screen, with ``text`` pasted and parsed (None: left empty)."""
    await app.workers.wait_for_complete()
    await pilot.press("ctrl+n")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, BulkScreen)
    if text is not None:
        screen.query_one("#paste", TextArea).load_text(text)
        await pilot.pause(0.5)
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def run_to_end(screen, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause(0.1)
    while screen.running is not None:
        await pilot.pause(0.05)
    await pilot.pause()


async def test_paste_is_parsed_and_checked(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, PASTE)
        summary = str(screen.query_one("#paste-summary", Static).render())
        assert "7 entries: 5 to send" in summary and "1 invalid" in summary and "1 duplicates" in summary
        verdicts = [r.entry.verdict for r in screen.rows]
        assert verdicts == ["ok", "ok", "duplicate", "invalid", "ok", "ok", "ok"]
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)
        states = {r.entry.msisdn: r.result.state for r in screen.rows if r.result}
        assert states == {
            "254700000101": "active",
            "254700000106": "onhold",
            "254700000107": "blocked",
            "254700000113": "unsub",
            "254700000102": "inactive",
        }
        sent = [q["msisdn"] for q in simulator.sim.requests if q["operation"] == "status"]
        assert sorted(sent) == sorted(states)  # duplicates and junk are never sent
        assert "5/5" in str(screen.query_one("#bulk-stats", Static).render())
        await pilot.pause(0.6)  # the rows in view are redrawn
        table = screen.query_one("#bulk-table", DataTable)
        shown = "\n".join(table.render_line(y).text for y in range(table.size.height))
        assert "inactive" in shown and "blocked" in shown  # whole words: results fill their cells
        await pilot.press("ctrl+t", "ctrl+t", "ctrl+t")  # all -> usable -> rejected -> active
        assert screen.filter == "active"
        assert screen.query_one("#bulk-table", DataTable).row_count == 1


async def test_bulk_unsubscribe_needs_the_count_typed(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Jokes SMS")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, "254700000101\n254700000103\n254700000104\n")
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)
        active = [r.entry.msisdn for r in screen.rows if r.result and r.result.state == "active"]
        assert active == ["254700000101"]
        await pilot.press("ctrl+o")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, BulkUnsubscribeConfirm)
        facts = str(dialog.query_one("#confirm-facts", Static).render())
        assert "YOU HAVE UNSUBSCRIBED" in facts and "Kenya Jokes SMS" in facts
        await pilot.press("3", "enter")  # the wrong count
        await pilot.pause()
        assert isinstance(app.screen, BulkUnsubscribeConfirm)
        assert "not 1" in str(dialog.query_one("#confirm-refused", Static).render())
        assert not [q for q in simulator.sim.requests if q["operation"] == "mt-stop"]
        await pilot.press("1", "enter")
        await pilot.pause()
        await run_to_end(screen, pilot)
        assert [q["msisdn"] for q in simulator.sim.requests if q["operation"] == "mt-stop"] == ["254700000101"]


async def test_escape_cancels_a_run_and_in_flight_requests_are_recorded(make_simulator, sim_config):
    slow = make_simulator(latency_ms=300)
    app = make_app(with_ui(slow.config, refresh_interval=0))
    numbers = "\n".join(f"2547000{i:05d}" for i in range(1000, 1200))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, numbers)
        await pilot.press("ctrl+r")
        await pilot.pause(0.5)
        await pilot.press("escape")
        await run_to_end(screen, pilot)
        sent = len(slow.sim.requests)
        answered = sum(1 for r in screen.rows if r.result is not None)
        assert 0 < sent < 200
        assert answered == sent  # every request that left was recorded
        assert isinstance(app.screen, BulkScreen)  # Esc during a run cancels; it does not leave


async def test_a_distinctive_key_through_a_bulk_stop_and_its_export_reaches_no_screen_and_no_file(
    sim_config, simulator, monkeypatch, tmp_path
):
    from urllib.parse import quote, quote_plus

    from mobitui.tui.screens.exchange import ExchangeDetail

    key = "Zq7+bulk/KEY=9x&distinct"
    spellings = {key, quote(key, safe=""), quote_plus(key)}
    monkeypatch.setattr(simulator.sim, "api_key", key)
    app = make_app(with_ui(sim_config, refresh_interval=0), key=key, campaign="Kenya Jokes SMS")
    export = tmp_path / "out" / "job.csv"
    export.parent.mkdir()
    shots = []
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_bulk(app, pilot, "254700000101\n254700000105\n254700000102\n")
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)
        screen.query_one("#bulk-table", DataTable).focus()
        await pilot.press("enter", "down", "enter")  # mark the first two rows
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, BulkUnsubscribeConfirm)
        shots.append(app.export_screenshot())  # the confirmation: route, effect, count
        await pilot.press("2", "enter")
        await pilot.pause()
        await run_to_end(screen, pilot)
        stops = [q["msisdn"] for q in simulator.sim.requests if q["operation"] == "mt-stop"]
        assert sorted(stops) == ["254700000101", "254700000105"]  # the job's process used the key
        shots.append(app.export_screenshot())
        await pilot.press("ctrl+s")
        await pilot.pause()
        field = app.screen.query_one("#export-path")
        field.value = str(export)  # type: ignore[attr-defined]
        await pilot.press("enter")
        for _ in range(100):
            if export.exists() and export.stat().st_size:
                break
            await pilot.pause(0.05)
        await pilot.press("escape", "escape")  # back to the main screen (twice: a paste is on it)
        await pilot.pause(0.5)
        shots.append(app.export_screenshot())
        await pilot.press("f6", "end", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ExchangeDetail)
        shots.append(app.export_screenshot())
    blob = "\n".join(shots)
    assert "sendsms" in shots[2] and "PASSWORD=***" in shots[3]  # the job's exchanges, masked
    assert "254700000105" in export.read_text()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    for s in spellings:
        assert s not in blob
        for p in files:
            assert s.encode() not in p.read_bytes(), p


async def test_after_a_crash_f5_on_an_empty_screen_shows_the_whole_job_and_sends_none_done_again(
    make_simulator, tmp_path
):
    server = make_simulator(latency_ms=150)
    numbers = [f"2547300{i:05d}" for i in range(60)]
    journal = default_path()
    proc = JobProcess.spawn()  # the job process of a console that then dies
    future = proc.start(
        server.config,
        DEMO_API_KEY,
        str(journal),
        create={
            "campaign_id": server.config.campaigns[0].campaign_id,
            "operation": "status",
            "rows": [*entry_rows(numbers), (61, "not a number", None, "invalid", "not a phone number")],
            "source": "test",
        },
    )
    store = JobStore(Journal(journal))

    def done() -> set[str]:
        if proc.job_id is None:
            return set()
        return {r["msisdn"] for r in store.rows(proc.job_id) if r["status"] == "done"}

    while len(done()) < 10:  # some answers in the journal (written in batches), more in flight
        await asyncio.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    try:
        await asyncio.wrap_future(future)
    except JobProcessFailed:
        pass
    done_before = done()
    assert 10 <= len(done_before) < 60
    sent_before = len(server.sim.records())

    app = make_app(with_ui(server.config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, None)
        assert screen.interrupted == [proc.job_id]
        await pilot.press("f5")
        await pilot.pause(0.3)
        await run_to_end(screen, pilot)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert len(screen.rows) == 61 and [r.entry.verdict for r in screen.rows][-1] == "invalid"
        assert all(r.result is not None and r.result.ok for r in screen.rows if r.entry.usable)
    later = [r.msisdn for r in server.sim.records()[sent_before:]]
    assert not done_before & set(later)  # numbers done before the crash were not asked again
    assert set(later) | done_before == set(numbers)
