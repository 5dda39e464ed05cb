"""Every field of the console takes a burst of keys in order (not only the MSISDN field)."""

from __future__ import annotations

from test_console import make_app, with_ui
from test_console_bulk import open_bulk, run_to_end
from textual import events
from textual.widgets import ContentSwitcher, Input

from mobitui.tui.screens.bulk import ExportPrompt
from mobitui.tui.screens.bulk_confirm import BulkUnsubscribeConfirm


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


async def test_a_remapped_key_that_takes_another_bindings_key_is_refused_and_said(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0, keys={"everywhere": "ctrl+o"}))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any("ctrl+o is both 'everywhere' and 'unsubscribe' (main screen)" in m for m in said), said
        # Nothing was remapped: ctrl+g still checks every campaign.
        await pilot.press(*"254700000101", "ctrl+g")
        await pilot.pause(0.3)
        assert app.query_one("#switcher", ContentSwitcher).current == "everywhere"


async def test_a_remapped_key_free_everywhere_is_applied(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0, keys={"everywhere": "f7"}))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert not [n for n in app._notifications if "[ui.keys]" in n.message]
        await pilot.press(*"254700000101", "f7")
        await pilot.pause(0.3)
        assert app.query_one("#switcher", ContentSwitcher).current == "everywhere"


async def test_the_again_dialog_of_the_subscription_api_route_speaks_of_no_sms(sim_config, simulator):
    from test_console import ACTIVE, lookup, settle
    from test_console_unsubscribe import wait_for
    from textual.widgets import Static

    from mobitui.tui.screens.confirm import UnsubscribeConfirm

    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Tips")  # subscription-api
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, UnsubscribeConfirm))
        await pilot.press("y")
        await settle(app, pilot)
        await settle(app, pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, UnsubscribeConfirm))
        warning = str(app.screen.query_one("#confirm-warning", Static).render())
        assert "another SMS" not in warning
        assert "Another stop asks the Subscription API again (no SMS is sent by mobitui)" in warning


async def test_a_row_marked_with_enter_right_before_ctrl_o_is_what_the_dialog_offers(sim_config, simulator):
    from textual.widgets import DataTable

    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Jokes SMS")
    async with app.run_test(size=(120, 36)) as pilot:
        # Three numbers the demo has active in this campaign (tests/support/api.py).
        screen = await open_bulk(app, pilot, "254711223344\n254711223345\n254711223346\n")
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)
        active = [r.entry.msisdn for r in screen.rows if r.result and r.result.state == "active"]
        assert len(active) >= 2, active
        table = screen.query_one("#bulk-table", DataTable)
        table.focus()
        await pilot.pause()
        _burst(app, "enter", "ctrl+o")  # mark the first row, open the dialog at once
        await pilot.pause(0.3)
        dialog = app.screen
        assert isinstance(dialog, BulkUnsubscribeConfirm)
        assert (dialog.count, dialog.which) == (1, "the marked ones")
        await pilot.press("escape")
    assert not [q for q in simulator.sim.requests if q["operation"] == "mt-stop"]


async def test_ctrl_o_on_the_read_only_bulk_screen_says_why(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Jokes SMS", read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, "254711223344\n")
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)
        await pilot.press("ctrl+o")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, BulkUnsubscribeConfirm)
        assert any(
            n.message.startswith("read-only mode (--read-only or ui.read_only = true): unsubscribe refused")
            for n in app._notifications
        )
    assert not [q for q in simulator.sim.requests if q["operation"] == "mt-stop"]


async def test_an_export_after_a_check_and_an_unsubscribe_names_each_rows_own_job(sim_config, simulator, tmp_path):
    import json

    from mobitui.tui.screens.bulk import ExportPrompt

    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Jokes SMS")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, "254711223344\n254711223345\nhello\n")
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)
        check_job = screen.job_id
        table = screen.query_one("#bulk-table")
        table.focus()
        await pilot.press("enter", "ctrl+o")  # the first row only
        await pilot.pause()
        await pilot.press("1", "enter")
        await pilot.pause()
        await run_to_end(screen, pilot)
        stop_job = screen.job_id
        assert stop_job != check_job
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ExportPrompt)
        assert f"mobitui-jobs-{check_job}-{stop_job}-" in app.screen.default
        target = tmp_path / "rows.jsonl"
        app.screen.dismiss(str(target))
        for _ in range(100):
            if target.exists():
                break
            await pilot.pause(0.05)
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(r["as_pasted"], r["operation"], r["job_id"]) for r in rows] == [
        ("254711223344", "unsubscribe", stop_job),
        ("254711223345", "status", check_job),
        ("hello", None, None),
    ]


async def test_a_remapped_key_that_another_screen_uses_for_its_own_is_applied_and_works_on_each(sim_config, simulator):
    from mobitui.tui.screens.bulk import BulkScreen

    app = make_app(with_ui(sim_config, refresh_interval=0, keys={"bulk_check": "ctrl+g"}))  # ctrl+g: everywhere
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert not [n for n in app._notifications if "[ui.keys]" in n.message]
        screen = await open_bulk(app, pilot, "254711223344\n")
        assert isinstance(screen, BulkScreen)
        await pilot.press("ctrl+g")  # the bulk screen's check, remapped
        await run_to_end(screen, pilot)
        assert [r.result is not None for r in screen.rows] == [True]


async def test_a_bulk_stop_refused_as_recent_keeps_the_state_seen_and_says_not_sent(sim_config, simulator):
    from test_console import lookup, settle
    from test_console_unsubscribe import wait_for
    from textual.widgets import DataTable

    from mobitui.tui.screens.confirm import UnsubscribeConfirm

    number = "254711223344"  # active in Kenya Jokes SMS (tests/support/api.py)
    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Jokes SMS")
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, number)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, UnsubscribeConfirm))
        await pilot.press("y")
        await settle(app, pilot)
        await settle(app, pilot)
        screen = await open_bulk(app, pilot, number + "\n")
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)
        [row] = screen.rows
        assert row.result is not None and row.result.state == "unsub"
        screen.query_one("#bulk-table", DataTable).focus()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("1", "enter")
        await pilot.pause()
        await run_to_end(screen, pilot)
        assert row.result is not None and row.result.not_sent
        cells = screen._cells(row)
        assert (cells["state"].plain, cells["outcome"].plain) == ("unsub", "not sent")
        assert cells["error"].plain.startswith("Not sent:")
    stops = [q for q in simulator.sim.requests if q["operation"] == "mt-stop"]
    assert len(stops) == 1  # the console's own stop; the bulk one was not sent


async def test_ctrl_r_right_after_a_paste_checks_that_paste_once_it_is_read(sim_config, simulator):
    from textual.widgets import TextArea

    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Jokes SMS")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, None)
        screen.query_one("#paste", TextArea).load_text("254711223344\n254711223345\n")
        await pilot.press("ctrl+r")  # before the paste was read (it is read 0.25 s after the last change)
        await pilot.pause(0.1)
        assert not [n for n in app._notifications if n.message.startswith("Nothing to check")]
        for _ in range(200):
            if screen.rows and all(r.result is not None for r in screen.rows) and screen.running is None:
                break
            await pilot.pause(0.05)
        assert [(r.entry.msisdn, r.result and r.result.state) for r in screen.rows] == [
            ("254711223344", "active"),
            ("254711223345", "active"),
        ]


async def test_a_list_pasted_into_the_msisdn_field_opens_the_bulk_screen_with_every_line(sim_config, simulator):
    from textual.widgets import TextArea

    from mobitui.tui.screens.bulk import BulkScreen

    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        field = app.query_one("#msisdn", Input)
        field.focus()
        await pilot.pause()
        app.post_message(events.Paste("254700000101\n254700000102\n\n254700000103\n"))
        await pilot.pause(0.5)
        assert isinstance(app.screen, BulkScreen)
        assert app.screen.query_one("#paste", TextArea).text == "254700000101\n254700000102\n\n254700000103\n"
        assert field.value == ""  # not the first line alone
    assert not simulator.sim.requests  # nothing sent until asked


async def test_the_bulk_dialog_names_marked_numbers_not_active_or_not_checked(sim_config, simulator):
    from textual.widgets import DataTable, Static

    app = make_app(with_ui(sim_config, refresh_interval=0))  # Kenya Tips: the Subscription API
    async with app.run_test(size=(120, 36)) as pilot:
        # active, unsub (a sample), a check that fails (the connection resets mid-body)
        screen = await open_bulk(app, pilot, "254700000101\n254700000113\n254799999004\n")
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)
        table = screen.query_one("#bulk-table", DataTable)
        table.focus()
        await pilot.pause()
        await pilot.press("enter", "down", "enter", "down", "enter", "ctrl+o")
        await pilot.pause(0.3)
        dialog = app.screen
        assert isinstance(dialog, BulkUnsubscribeConfirm) and dialog.count == 3
        caution = str(dialog.query_one("#confirm-caution", Static).render())
        assert caution == (
            "! Of these, 1 the last check found not active (unsub 1); 1 with no successful check in this "
            "paste. Each is sent a stop all the same."
        )
        facts = str(dialog.query_one("#confirm-facts", Static).render())
        assert "sent again only if the number is still subscribed" in facts
        await pilot.press("escape")


async def test_the_bulk_dialog_names_marked_numbers_already_sent_a_stop_from_this_paste(sim_config, simulator):
    from textual.widgets import DataTable, Static

    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Jokes SMS")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_bulk(app, pilot, "254711223344\n254711223345\n")
        await pilot.press("ctrl+r")
        await run_to_end(screen, pilot)
        table = screen.query_one("#bulk-table", DataTable)
        table.focus()
        await pilot.pause()
        await pilot.press("enter", "ctrl+o")  # stop the first
        await pilot.pause()
        await pilot.press("1", "enter")
        await pilot.pause()
        await run_to_end(screen, pilot)
        table.focus()
        await pilot.pause()
        await pilot.press("enter", "down", "enter", "ctrl+o")  # both rows now
        await pilot.pause(0.3)
        dialog = app.screen
        assert isinstance(dialog, BulkUnsubscribeConfirm) and dialog.count == 2
        caution = str(dialog.query_one("#confirm-caution", Static).render())
        assert caution == "! Of these, 1 already sent a stop from this paste. Each is sent a stop all the same."
        await pilot.press("escape")
