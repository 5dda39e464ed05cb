"""The bulk screen keeps what the operator pasted and found, and lets go of a hung run."""

from __future__ import annotations

import csv
import time

from test_console import make_app, with_ui
from test_console_bulk import PASTE, open_bulk, run_to_end
from textual.widgets import Input, Static

from mobitui.core.client import Operation
from mobitui.core.config import Route
from mobitui.core.jobs import ItemStatus, ItemUpdate, JobStore
from mobitui.core.journal import Journal
from mobitui.core.results import Outcome, Result
from mobitui.simulator.demo import demo_config
from mobitui.tui.screens.bulk import BulkScreen
from mobitui.tui.screens.bulk_confirm import BulkUnsubscribeConfirm
from mobitui.tui.screens.help import HelpScreen


async def wait_until(pilot, condition, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await pilot.pause(0.05)


async def test_one_esc_does_not_throw_away_a_paste(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, PASTE)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and len(screen.rows) == 7
        assert any(n.message.startswith("Esc again to leave") for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, BulkScreen)


async def test_the_bulk_screen_carries_the_read_only_banner(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0), read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, None)
        assert "READ-ONLY" in str(screen.query_one("#readonly-banner", Static).render())


async def test_after_a_bulk_unsubscribe_the_export_has_every_pasted_line_with_its_newest_answer(
    sim_config, simulator, tmp_path
):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, PASTE)
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)
        first = next(r for r in screen.rows if r.entry.msisdn == "254700000101")
        first.marked = True
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, BulkUnsubscribeConfirm)
        app.screen.query_one(Input).value = "1"
        await pilot.press("enter")
        await pilot.pause(0.3)
        await run_to_end(screen, pilot)
        assert not any(r.marked for r in screen.rows)  # the next ctrl+o does not pick them again
        target = tmp_path / "out.csv"
        screen.write_export(str(target))
        await wait_until(pilot, target.exists)
    with target.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_line = {(r["line"], r["msisdn"]): r for r in rows}
    assert len(rows) == 7  # every pasted entry, rejected ones included
    assert by_line[("1", "254700000101")]["operation"] == "unsubscribe"
    assert by_line[("2", "254700000106")]["operation"] == "status"
    assert by_line[("2", "254700000106")]["state"] == "onhold"
    assert by_line[("4", "")]["verdict"] == "invalid"
    assert by_line[("3", "254700000101")]["verdict"] == "duplicate"


async def test_a_cancelled_run_with_a_hung_request_is_abandoned_by_a_second_esc(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, "254799999001\n254700000101\n")  # the first never answers
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: any(r.msisdn == "254799999001" for r in simulator.sim.records()))
        await pilot.press("escape")  # cancel: the hung request would hold the run for 3 read timeouts
        await pilot.pause(0.2)
        assert screen.running is not None
        await pilot.press("escape")  # abandon
        await wait_until(pilot, lambda: screen.running is None, seconds=10)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert "abandoned" in str(screen.query_one("#bulk-stats", Static).render())
        assert screen.interrupted  # resumable with F5


def test_counts_by_state_are_of_answers_that_succeeded(tmp_path):
    store = JobStore(Journal(tmp_path / "j.sqlite3"))
    campaign = demo_config("http://127.0.0.1:9").campaigns[0]
    job = store.create(campaign, Operation.STATUS, ["254700000101", "254700000102"], 2)
    ok = Result(
        "254700000101", campaign.campaign_id, Operation.STATUS, Route.SUBSCRIPTION_API, Outcome.OK, state="active"
    )
    failed = Result(
        "254700000102",
        campaign.campaign_id,
        Operation.STATUS,
        Route.SUBSCRIPTION_API,
        Outcome.FAILED,
        state="active",
        error="The server reported an error: x",
    )
    store.record(
        job,
        campaign,
        [ItemUpdate(0, ItemStatus.DONE, ok, journal=True), ItemUpdate(1, ItemStatus.DONE, failed, journal=True)],
    )
    counts = store.count(job)
    assert counts.outcome == {"ok": 1, "failed": 1}
    assert counts.state == {"active": 1}


async def test_the_bulk_keys_in_help_and_on_the_screen_are_the_remapped_ones(sim_config, simulator):
    """[ui.keys] remaps the bulk screen's keys: the help (opened on the bulk screen), the
    paste summary and the screen's messages name the keys in effect, and the key works."""
    keys = {"bulk_check": "ctrl+e", "bulk_resume": "f7"}
    app = make_app(with_ui(sim_config, refresh_interval=0, keys=keys))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, PASTE)
        summary = str(screen.query_one("#paste-summary", Static).render())
        assert "ctrl+e checks them all" in summary and "ctrl+r" not in summary
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        bulk_rows = [row for row in app.screen.rows if row[1] == "bulk"]
        assert bulk_rows == [
            ("ctrl+e / ctrl+o / ctrl+t", "bulk", "check all / unsubscribe a selection / filter"),
            ("ctrl+s / y / f7 / esc", "bulk", "export / copy numbers / resume a job / cancel a run"),
        ]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        screen.query_one("#bulk-table").focus()
        await pilot.press("ctrl+e")  # the remapped key checks them all
        await run_to_end(screen, pilot)
        assert any(r.result is not None for r in screen.rows)


async def test_at_80x24_the_title_and_the_summary_of_a_paste_fit_their_width(sim_config, simulator):
    # A header row and a line with another field make the longest summary.
    paste = "msisdn,name\n254700000101,Ann\n+254 700 000 106\n0700-000-101\nhello\n254700000102\n"
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bulk(app, pilot, paste)
        for selector in ("#bulk-title", "#paste-summary"):
            widget = screen.query_one(selector, Static)
            width = widget.content_region.width
            lines = str(widget.render()).split("\n")
            assert all(len(line) <= width for line in lines), (selector, width, lines)
            assert len(lines) <= widget.content_region.height, (selector, lines)
        summary = str(screen.query_one("#paste-summary", Static).render())
        assert "to send" in summary and "1 invalid" in summary and "1 duplicates" in summary
        assert "header row 1 skipped" in summary and "1 lines with other fields (not sent)" in summary
        assert "via Subscription API" in str(screen.query_one("#bulk-title", Static).render())
