"""Every field of the console takes a burst of keys in order (not only the MSISDN field)."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from mobitui.tui.screens.bulk import ExportPrompt
from mobitui.tui.screens.bulk_confirm import BulkUnsubscribeConfirm

from test_console import make_app, with_ui
from test_console_bulk import open_bulk, run_to_end


def _burst(app, *keys: str) -> None:  # type: ignore[no-untyped-def]
    """Keys queued together before the first is handled, as tmux send-keys delivers them."""
    for k in keys:
        char = k if len(k) == 1 else {"enter": "\r", "ctrl+u": "\x15", "ctrl+k": "\x0b", "home": None}.get(k)
        app.post_message(events.Key(k, char))


async def test_ctrl_u_then_text_in_one_burst_keeps_the_text_in_every_dialog(sim_config, simulator, tmp_path):
    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Jokes SMS")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, "254700000101\n254700000103\n")
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ExportPrompt)
        target = str(tmp_path / "rows.jsonl")
        _burst(app, "ctrl+u", *target)
        await pilot.pause(0.3)
        assert app.screen.query_one("#export-path", Input).value == target
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, BulkUnsubscribeConfirm)
        _burst(app, "9", "ctrl+u", "1")  # a wrong digit, cleared, the count
        await pilot.pause(0.3)
        assert app.screen.query_one("#confirm-count", Input).value == "1"
        _burst(app, "home", "ctrl+k", "1")
        await pilot.pause(0.3)
        assert app.screen.query_one("#confirm-count", Input).value == "1"
    assert not [q for q in simulator.sim.requests if q["operation"] == "mt-stop"]
