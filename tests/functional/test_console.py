"""Pilot tests of the console against the simulator over real HTTP."""

from __future__ import annotations

import pytest
from textual.widgets import ContentSwitcher, Static

from mobitui.core import secrets
from mobitui.core.config import Config, ConfigMissing, parse
from mobitui.runtime import Runtime
from mobitui.simulator.demo import DEMO_API_KEY
from mobitui.tui.app import MobituiApp
from mobitui.tui.screens.confirm import UnsubscribeConfirm
from mobitui.tui.screens.exchange import ExchangeDetail
from mobitui.tui.screens.help import HelpScreen
from mobitui.tui.screens.problem import ProblemScreen
from mobitui.tui.widgets.everywhere import EverywhereTable
from mobitui.tui.widgets.request_log import RequestLog
from mobitui.tui.widgets.status import StatusPanel

ACTIVE, ONHOLD = "254700000101", "254700000106"


def with_ui(config: Config, **ui: object) -> Config:
    data = config.model_dump(mode="python")
    data["ui"].update(ui)
    return Config.model_validate(data)


def make_app(config: Config, key: str | None = DEMO_API_KEY, **kw: object) -> MobituiApp:
    found = (
        secrets.KeyLookup(key, "environment", "test")
        if key
        else secrets.KeyLookup(
            None, "none", "none usable", "No usable keyring backend on this machine. Either export MOBITUI_API_KEY …"
        )
    )
    rt = Runtime(config, None, key_lookup=found)
    return MobituiApp(rt, **kw)  # type: ignore[arg-type]


def text_of(app: MobituiApp, selector: str) -> str:
    w = app.query_one(selector, Static)
    return str(w.render())


async def settle(app: MobituiApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await app.workers.wait_for_complete()
    await pilot.pause()


async def lookup(app, pilot, number: str) -> None:  # type: ignore[no-untyped-def]
    inp = app.query_one("#msisdn")
    inp.value = ""
    await pilot.press(*number, "enter")
    await settle(app, pilot)


async def test_lookup_shows_state_and_normalisation_hint(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.focused is app.query_one("#msisdn")
        await pilot.press(*"0700-000-106")
        hint = text_of(app, "#msisdn-hint")
        assert "254700000106" in hint and "national number read as KE" in hint
        await pilot.press("enter")
        await settle(app, pilot)
        assert "ONHOLD" in text_of(app, "#state-big")
        assert "state code onhold" in text_of(app, "#state-desc")
        assert "our interpretation" in text_of(app, "#state-desc")
        assert "-paused" in app.query_one("#state-big").classes
        fields = text_of(app, "#status-fields")
        assert "authenticated yes" in fields and "AP:" in fields
        assert "checked 0 s ago" in text_of(app, "#status-age")
        # a rejected number says why, and sends nothing
        before = len(simulator.sim.requests)
        app.query_one("#msisdn").value = ""
        await pilot.press(*"12ab")
        assert "rejected" in text_of(app, "#msisdn-hint")
        await pilot.press("enter")
        await settle(app, pilot)
        assert len(simulator.sim.requests) == before


async def test_recent_numbers_recalled_with_up(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        await lookup(app, pilot, ONHOLD)
        app.query_one("#msisdn").value = ""
        await pilot.press("up")
        assert app.query_one("#msisdn").value == ONHOLD
        await pilot.press("up")
        assert app.query_one("#msisdn").value == ACTIVE


async def test_live_refresh_marks_a_state_change(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0.3))
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        assert "ACTIVE" in text_of(app, "#state-big")
        campaign = app.campaign
        simulator.sim.set_state(campaign.campaign_id, ACTIVE, "unsub")
        for _ in range(30):
            await pilot.pause(0.1)
            if "UNSUB" in text_of(app, "#state-big"):
                break
        await settle(app, pilot)
        assert "UNSUB" in text_of(app, "#state-big")
        age = text_of(app, "#status-age")
        assert "CHANGED active → unsub" in age
        assert "-changed" in app.query_one(StatusPanel).classes


async def test_stale_answer_never_overwrites_a_newer_one(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        # The slow number answers after 3 s; the next lookup must win at once.
        app.query_one("#msisdn").value = "254799999002"
        await pilot.press("enter")
        await pilot.pause(0.2)
        await lookup(app, pilot, ONHOLD)
        assert "ONHOLD" in text_of(app, "#state-big")
        assert app.query_one(StatusPanel).result.msisdn == ONHOLD


async def test_every_campaign_check(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*ACTIVE, "ctrl+g")
        await settle(app, pilot)
        assert app.query_one("#switcher", ContentSwitcher).current == "everywhere"
        table = app.query_one(EverywhereTable)
        assert table.row_count == len(sim_config.campaigns)
        states = [str(table.get_cell(c.campaign_id, "state")) for c in sim_config.campaigns]
        assert states == ["active"] * len(sim_config.campaigns)
        status_calls = {r["campaign_id"] for r in simulator.sim.requests if r["operation"] == "status"}
        assert status_calls == {c.campaign_id for c in sim_config.campaigns}


@pytest.mark.parametrize("key", ["enter", "escape", "n"])
async def test_unsubscribe_dialog_cancels(sim_config, simulator, key):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, UnsubscribeConfirm)
        assert app.focused.id == "cancel"
        await pilot.press(key)
        await settle(app, pilot)
        assert not isinstance(app.screen, UnsubscribeConfirm)
        assert not [r for r in simulator.sim.requests if r["operation"] == "unsubscribe"]
        assert "ACTIVE" in text_of(app, "#state-big")


async def test_unsubscribe_dialog_confirms_with_y_and_rechecks(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0), campaign="Kenya Jokes SMS")
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        await pilot.press("ctrl+o")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, UnsubscribeConfirm)
        facts = str(dialog.query_one("#confirm-facts", Static).render())
        assert "YOU HAVE UNSUBSCRIBED" in facts and "20456" in facts and ACTIVE in facts
        request = str(dialog.query_one("#confirm-request", Static).render())
        assert "PASSWORD=***" in request and DEMO_API_KEY not in request
        await pilot.press("y")
        await settle(app, pilot)
        await settle(app, pilot)
        sent = [r for r in simulator.sim.requests if r["operation"] == "mt-stop"]
        assert len(sent) == 1
        assert "UNSUB" in text_of(app, "#state-big")
        assert f"unsubscribe of {ACTIVE} in Kenya Jokes SMS accepted" in text_of(app, "#status-action")


async def test_read_only_removes_unsubscribe(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0), read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not isinstance(app.screen, UnsubscribeConfirm)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any(t.startswith("Unsubscribe") for t in titles)
        assert app.query_one("#readonly-banner")
        await pilot.press("f1")
        await pilot.pause()
        help_rows = [row[2] for row in app.screen.rows] if isinstance(app.screen, HelpScreen) else []
        assert help_rows and "Unsubscribe" not in help_rows


async def test_palette_has_an_unsubscribe_entry(sim_config):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("Unsubscribe") for t in titles)


async def test_log_detail_view(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        log = app.query_one(RequestLog)
        await pilot.pause(0.3)  # the log adds rows in batches
        assert log.row_count == 1
        await pilot.press("f6", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ExchangeDetail)
        detail = str(app.screen.query_one("#detail-text", Static).render())
        assert "## request" in detail and "POST " in detail and '"signature"' in detail
        assert '"authenticated": true' in detail  # pretty-printed JSON
        await pilot.press("s")
        await app.screen.workers.wait_for_complete()
        from mobitui.core import paths

        (saved,) = (paths.data_dir() / "exchanges").glob("exchange-*.txt")
        assert "## response" in saved.read_text() and "HTTP 200" in saved.read_text()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExchangeDetail)
        await pilot.press("ctrl+l")
        assert not log.display


async def test_no_key_is_explained_but_status_still_works(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0), key=None)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        notice = app.query_one("#notice", Static)
        assert notice.display and notice.size.height == 1  # one line that stays, not four
        assert "No API key: status only, no gateway unsubscribe. F1 says how" in str(notice.render())
        told = [n.message for n in app._notifications]  # the whole problem, once
        assert any("No usable keyring backend" in m and "Kenya Jokes SMS" in m for m in told)
        await lookup(app, pilot, ACTIVE)
        assert "ACTIVE" in text_of(app, "#state-big")
        await pilot.press("f1")  # and reachable again from help
        await pilot.pause()
        shown = " ".join(str(w.render()) for w in app.screen.query(".help-notice"))
        assert "No usable keyring backend" in shown and "Kenya Jokes SMS" in shown


async def test_server_unreachable_is_a_clear_message(sim_config):
    data = with_ui(sim_config, refresh_interval=0).model_dump(mode="python")
    data["endpoints"] = {"subscription_api": "http://127.0.0.1:9/subscriptions/v1", "gateway": "http://127.0.0.1:9"}
    data["network"]["status_attempts"] = 1
    app = make_app(Config.model_validate(data))
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, ACTIVE)
        assert "NO STATE" in text_of(app, "#state-big")
        assert "Connection refused by 127.0.0.1:9" in text_of(app, "#status-error")


async def test_missing_config_offers_the_demo(tmp_path):
    app = MobituiApp(None, problem=ConfigMissing(tmp_path / "config.toml", explicit=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ProblemScreen)
        way = str(app.screen.query_one("#problem-way-out", Static).render())
        assert "config-example" in way and "--demo" in way
        await pilot.press("d")
        await pilot.pause()
    assert app.return_value == "demo"


async def test_invalid_config_names_the_problem(tmp_path):
    from mobitui.core.config import ConfigError

    with pytest.raises(ConfigError) as exc:
        parse("[account]\naccount_id = 'nope'\n[[campaigns]]\nname='x'\ncampaign_id='y'\n", tmp_path / "c.toml")
    app = MobituiApp(None, problem=exc.value)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        detail = str(app.screen.query_one("#problem-detail", Static).render())
        assert "account_id: expected 32 hexadecimal characters" in detail
        await pilot.press("q")
    assert app.return_value == "quit"


async def test_hostile_server_text_is_inert(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await lookup(app, pilot, "254799999016")
        panel_text = text_of(app, "#status-error") + text_of(app, "#campaign-info")
        assert "\x1b" not in panel_text
        assert "[bold red]" in panel_text or "\\x1b" in panel_text


async def test_quit_mid_request_exits_cleanly(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one("#msisdn").value = "254799999001"  # never answers
        await pilot.press("enter")
        await pilot.pause(0.2)
        await pilot.press("f1")  # the UI still answers keys
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("ctrl+q")
    assert app.return_code in (None, 0)


async def test_keys_are_remappable_from_the_config(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0, keys={"everywhere": "f5"}))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*ACTIVE, "f5")
        await settle(app, pilot)
        assert app.query_one("#switcher", ContentSwitcher).current == "everywhere"
        await pilot.press("f1")
        await pilot.pause()
        rows = app.screen.rows
        assert ("f5", "anywhere", "All campaigns") in rows


async def test_help_lists_every_binding_and_question_mark_types_in_the_field(sim_config):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("?")
        assert app.query_one("#msisdn").value == "?"  # typing, not help
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        described = {row[2] for row in app.screen.rows}
        for binding in MobituiApp.BINDINGS:
            assert binding.description in described
        keys = " ".join(row[0] for row in app.screen.rows)
        assert "ctrl+a" not in keys and "ctrl+b" not in keys


async def test_a_distinctive_key_reaches_no_screen_and_no_file(sim_config, simulator, monkeypatch, tmp_path):
    from urllib.parse import quote, quote_plus

    key = "Xk9+distinctive/KEY=4u&4d8f7e6"
    spellings = {key, quote(key, safe=""), quote_plus(key)}
    monkeypatch.setattr(simulator.sim, "api_key", key)
    app = make_app(with_ui(sim_config, refresh_interval=0), key=key, campaign="Kenya Jokes SMS")
    shots = []
    async with app.run_test(size=(160, 50)) as pilot:
        await lookup(app, pilot, ACTIVE)
        await pilot.press("ctrl+o")
        await pilot.pause()
        shots.append(app.export_screenshot())  # the dialog shows the request to be sent
        await pilot.press("y")
        await settle(app, pilot)
        await settle(app, pilot)
        assert [q["operation"] for q in simulator.sim.requests].count("mt-stop") == 1
        await pilot.pause(0.3)
        shots.append(app.export_screenshot())
        await pilot.press("f6", "end", "enter")  # the newest exchange in full
        await pilot.pause()
        assert isinstance(app.screen, ExchangeDetail)
        shots.append(app.export_screenshot())
        await pilot.press("escape", "ctrl+f")
        for name in ("Kenya Web Opt-In",):
            await pilot.press(*name, "enter")
        await pilot.press("escape")
        await lookup(app, pilot, "254700000102")
        await pilot.press("ctrl+o")
        await pilot.pause()
        shots.append(app.export_screenshot())
        await pilot.press("y")
        await settle(app, pilot)
        shots.append(app.export_screenshot())
    blob = "\n".join(shots)
    assert "PASSWORD=***" in blob and "/***/" in blob  # the places the key would be, masked
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("journal.sqlite3") for p in files)
    for s in spellings:
        assert s not in blob
        for p in files:
            assert s.encode() not in p.read_bytes(), p


def test_terminal_driver_replaces_bytes_that_are_not_utf8_and_still_fits_textual():
    """The console's driver owns one thing, the input thread's decoder; the pinned
    Textual must still build that decoder from the name the driver replaces."""
    import inspect
    import sys

    from textual.drivers import linux_driver

    from mobitui.tui.driver import TerminalDriver, _replacing_decoder

    source = inspect.getsource(linux_driver.LinuxDriver.run_input_thread)
    assert 'getincrementaldecoder("utf-8")()' in source
    decode = _replacing_decoder("utf-8")().decode
    assert decode(b"25\xff4\xc3", final=False) + decode(b"(", final=True) == "25\ufffd4\ufffd("
    if sys.platform != "win32":
        assert MobituiApp(None).get_driver_class() is TerminalDriver


async def test_an_unexpected_exit_has_return_code_1(tmp_path):
    app = MobituiApp(None, problem=ConfigMissing(tmp_path / "config.toml", explicit=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.panic("the input thread died")
    assert app.return_code == 1
