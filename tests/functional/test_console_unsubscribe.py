"""The console's unsubscribe: one stop at a time, on the number shown, truthfully told."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3

from test_console import ACTIVE, lookup, make_app, settle, text_of, with_ui
from test_console_bulk import open_bulk, run_to_end
from test_exactly_once import all_applied, config_text, stops_received
from textual.widgets import Button, Input, Static

from mobitui.core.config import parse
from mobitui.core.job_process import JobProcess, JobProcessFailed
from mobitui.core.jobs import entry_rows
from mobitui.core.journal import default_path
from mobitui.simulator.demo import DEMO_API_KEY
from mobitui.tui.screens.confirm import UnsubscribeConfirm
from mobitui.tui.widgets.status import StatusPanel

JOKES = "Kenya Jokes SMS"  # mt-stop: every stop is an SMS
SLOW = "254799999002"  # the simulator answers it after 3 s


def notes(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Every notification the app shows from now on."""
    seen: list[str] = []
    original = app.notify

    def notify(message, *args, **kw):  # type: ignore[no-untyped-def]
        seen.append(str(message))
        return original(message, *args, **kw)

    app.notify = notify
    return seen


async def applied(server) -> None:  # type: ignore[no-untyped-def]
    """Until every stop the slow gateway holds has taken effect (so the counts are final)."""
    for _ in range(400):
        if all_applied(server):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the simulator never applied every stop")


async def stop_the_shown_number(app, pilot, server) -> None:  # type: ignore[no-untyped-def]
    """Look up ACTIVE, ctrl+o, y; return once its stop has reached the gateway."""
    await lookup(app, pilot, ACTIVE)
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(app.screen, UnsubscribeConfirm))
    await pilot.press("y")
    await wait_for(pilot, lambda: len(stops_received(server)) == 1)


async def wait_for(pilot, predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_a_second_ctrl_o_while_a_stop_is_in_flight_sends_nothing(make_simulator):
    server = make_simulator(stop_latency_ms=1500, apply_late=True)
    cid = server.config.campaign(JOKES).campaign_id
    app = make_app(with_ui(server.config, refresh_interval=0), campaign=JOKES)
    async with app.run_test(size=(120, 36)) as pilot:
        seen = notes(app)
        await stop_the_shown_number(app, pilot, server)
        await pilot.pause()
        action = text_of(app, "#status-action")
        assert f"unsubscribe of {ACTIVE} in {JOKES}: in flight since" in action
        await pilot.press("ctrl+o")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, UnsubscribeConfirm)
        assert any("is in flight" in n and "not sent again" in n for n in seen)
        await pilot.press("y")
        await settle(app, pilot)
        await settle(app, pilot)
        assert f"unsubscribe of {ACTIVE} in {JOKES} accepted" in text_of(app, "#status-action")
    await applied(server)
    assert len(stops_received(server)) == 1
    assert server.sim.unsubscribe_count(cid, ACTIVE) == 1


async def test_a_recent_accepted_stop_is_shown_and_another_needs_again_typed(simulator, sim_config):
    cid = sim_config.campaign(JOKES).campaign_id
    app = make_app(with_ui(sim_config, refresh_interval=0), campaign=JOKES)
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, UnsubscribeConfirm))
        facts = str(app.screen.query_one("#confirm-facts", Static).render())
        assert "state    active" in facts and "checked 0 s ago" in facts
        await pilot.press("y")
        await settle(app, pilot)
        await settle(app, pilot)
        assert "UNSUB" in text_of(app, "#state-big")
        assert simulator.sim.unsubscribe_count(cid, ACTIVE) == 1

        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, UnsubscribeConfirm))
        dialog = app.screen
        warning = str(dialog.query_one("#confirm-warning", Static).render())
        assert re.search(r"A stop was accepted [0-9] s ago", warning), warning
        assert "Another stop sends the subscriber another SMS" in warning  # mt-stop: it does
        facts = str(dialog.query_one("#confirm-facts", Static).render())
        assert "unsub" in facts and "already unsubscribed" in facts
        assert app.focused is dialog.query_one("#confirm-again", Input)
        await pilot.press("y", "enter")  # the habit of the ordinary dialog sends nothing here
        await pilot.pause(0.2)
        assert app.screen is dialog
        assert simulator.sim.unsubscribe_count(cid, ACTIVE) == 1
        dialog.query_one("#confirm", Button).press()
        await pilot.pause(0.2)
        assert app.screen is dialog and simulator.sim.unsubscribe_count(cid, ACTIVE) == 1
        await pilot.press(*"again", "enter")
        await settle(app, pilot)
        await settle(app, pilot)
    assert simulator.sim.unsubscribe_count(cid, ACTIVE) == 2  # deliberately, and only then


async def test_a_late_answer_is_never_drawn_under_another_number(simulator, sim_config):
    cid = sim_config.campaign(JOKES).campaign_id
    app = make_app(with_ui(sim_config, refresh_interval=0), campaign=JOKES)
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one("#msisdn", Input).value = SLOW
        await pilot.press("enter")
        await pilot.pause(0.1)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, UnsubscribeConfirm))
        assert app.screen.msisdn == SLOW
        await pilot.press("y")
        await wait_for(pilot, lambda: len(stops_received(simulator)) == 1)
        await lookup(app, pilot, ACTIVE)  # waits for every worker: the slow stop's answer is in
        panel = app.query_one(StatusPanel)
        assert panel.actions[(cid, SLOW)][2] is not None and panel.actions[(cid, SLOW)][2].ok
        assert ACTIVE in text_of(app, "#status-title") and "ACTIVE" in text_of(app, "#state-big")
        assert not app.query_one("#status-action").display
        assert "accepted" not in text_of(app, "#status-action")
        assert simulator.sim.unsubscribe_count(cid, ACTIVE) == 0

        # Half-typed text in the field is not what ctrl+o acts on: the number in the panel is.
        await pilot.press(*"2547000001")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, UnsubscribeConfirm))
        assert app.screen.msisdn == ACTIVE
        title = str(app.screen.query_one("#confirm-title", Static).render())
        assert ACTIVE in title
        await pilot.press("escape")
        await settle(app, pilot)
    assert simulator.sim.unsubscribe_count(cid, SLOW) == 1


async def test_an_answer_the_journal_cannot_take_is_told_as_accepted_and_the_screen_stays_live(
    make_simulator, monkeypatch
):
    import mobitui.tui.app as app_module

    monkeypatch.setattr(app_module, "JOURNAL_BUSY_TIMEOUT", 1.0)  # the console's journal thread waits 1 s
    server = make_simulator(stop_latency_ms=600, apply_late=True)
    cid = server.config.campaign(JOKES).campaign_id
    app = make_app(with_ui(server.config, refresh_interval=0), campaign=JOKES)
    async with app.run_test(size=(120, 36)) as pilot:
        seen = notes(app)
        await stop_the_shown_number(app, pilot, server)
        locker = sqlite3.connect(app.runtime.journal_path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            frames = 0
            while not any("could not be journalled" in n for n in seen):
                await pilot.pause(0.02)  # the loop keeps turning while the journal is locked
                frames += 1
                assert frames < 500
            assert frames > 20
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        (note,) = [n for n in seen if "could not be journalled" in n]
        assert note.startswith(f"Unsubscribe of {ACTIVE} in {JOKES} accepted, could not be journalled: ")
        assert "another process holds its lock" in note
        assert "could not be journalled" in text_of(app, "#status-action")
        assert not any("failed unexpectedly" in n for n in seen)
        await settle(app, pilot)
    assert server.sim.unsubscribe_count(cid, ACTIVE) == 1


async def test_f5_right_after_a_crash_waits_for_the_slow_gateway_and_sends_no_stop_twice(make_simulator):
    """The console's job process dies with stops in the gateway's hands; F5 at once."""
    # The gateway applies each stop 3 s after it arrived; the console is up and F5 pressed
    # sooner than that, so only waiting for the attempts to land (0.5 + 4 + 1 s) tells the truth.
    server = make_simulator(stop_latency_ms=3000, apply_late=True)
    config = parse(config_text(server.base_url, connect=0.5, read=4.0))
    campaign = config.campaign(JOKES)
    numbers = [f"2547160{i:05d}" for i in range(4)]
    for m in numbers:
        server.sim.set_state(campaign.campaign_id, m, "active")
    proc = JobProcess.spawn()
    future = proc.start(
        config,
        DEMO_API_KEY,
        str(default_path()),
        create={
            "campaign_id": campaign.campaign_id,
            "operation": "unsubscribe",
            "rows": list(entry_rows(numbers)),
            "source": "test",
        },
    )
    while len(stops_received(server)) < len(numbers):
        await asyncio.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    try:
        await asyncio.wrap_future(future)
    except JobProcessFailed:
        pass

    app = make_app(with_ui(config, refresh_interval=0), campaign=JOKES)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, None)
        assert len(screen.interrupted) == 1
        await pilot.press("f5")
        await pilot.pause(0.3)
        await run_to_end(screen, pilot)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert all(
            r.result is not None and r.result.ok and r.result.state == "unsub" for r in screen.rows if r.entry.usable
        )
    await applied(server)
    assert len(stops_received(server)) == len(numbers)
    assert all(server.sim.unsubscribe_count(campaign.campaign_id, m) == 1 for m in numbers)
