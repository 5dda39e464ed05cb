"""Small things an operator sees: key ids, the demo's settings, hints, hostile names and bodies."""

from __future__ import annotations

import fcntl
import importlib
import inspect
import os
import pkgutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from test_console import make_app, with_ui
from test_read_only_and_terminal import _interrupted_unsubscribe_job
from textual.binding import Binding
from textual.widgets import Input, Static

import mobitui.tui
from mobitui import cli
from mobitui.core import config
from mobitui.core.bulk import Progress
from mobitui.core.client import Operation
from mobitui.core.config import ConfigError, ConfigMissing
from mobitui.core.recorder import Exchange
from mobitui.runtime import open_runtime
from mobitui.simulator.demo import demo_toml
from mobitui.tui.screens.exchange import ExchangeDetail, pretty

ROOT = Path(__file__).resolve().parents[2]


def _console_binding_ids() -> set[str]:
    ids: set[str] = set()
    for mod in pkgutil.walk_packages(mobitui.tui.__path__, "mobitui.tui."):
        module = importlib.import_module(mod.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            for b in getattr(cls, "BINDINGS", []):
                if isinstance(b, Binding) and b.id:
                    ids.add(b.id)
    return ids


def test_every_console_binding_id_is_a_known_key_id_and_no_other():
    assert _console_binding_ids() == set(getattr(config, "KEY_IDS", ()))


def test_an_unknown_key_id_in_ui_keys_is_refused_by_name():
    text = demo_toml("http://127.0.0.1:9") + '\n[ui.keys]\nlookup_all = "ctrl+e"\n'
    with pytest.raises(ConfigError) as caught:
        config.parse(text)
    assert "unknown key id(s) 'lookup_all'" in str(caught.value)
    assert "everywhere" in str(caught.value)  # it lists the ids there are


def test_the_example_config_with_its_commented_keys_switched_on_is_valid():
    lines = config.EXAMPLE.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("# [ui.keys]"))
    lines[at] = "[ui.keys]"
    lines[at + 1] = lines[at + 1].lstrip("# ")
    # [ui.keys] is a sub-table: move it after [ui]'s own keys are done, i.e. where it is.
    parsed = config.parse("\n".join(lines))
    assert parsed.ui.keys == {"everywhere": "f5"}


def test_a_campaign_name_with_a_bidi_override_is_refused():
    text = demo_toml("http://127.0.0.1:9").replace('name = "Kenya Tips"', 'name = "Kenya\u202eTips"', 1)
    with pytest.raises(ConfigError) as caught:
        config.parse(text)
    assert "U+202E" in str(caught.value) and "key name" in str(caught.value)


def test_the_demo_takes_the_operators_ui_settings(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(demo_toml("http://127.0.0.1:9") + '\n[ui.keys]\neverywhere = "f5"\n')
    rt = open_runtime(str(cfg), demo=True, start=False)
    try:
        assert rt.demo and rt.config.ui.keys == {"everywhere": "f5"}
    finally:
        rt.close()
    rt = open_runtime(str(tmp_path / "missing.toml"), demo=True, start=False)  # no config: defaults
    try:
        assert rt.config.ui.keys == {}
    finally:
        rt.close()


async def test_the_demo_samples_are_offered_only_in_the_demo(sim_config):
    for demo in (False, True):
        app = make_app(with_ui(sim_config, refresh_interval=0))
        app.runtime.demo = demo
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            hint = str(app.query_one("#state-desc", Static).render())
            assert "Type a number" in hint
            assert ("Samples in the demo" in hint) is demo


async def test_a_body_nested_too_deeply_for_json_is_shown_as_received(sim_config):
    body = "[" * 200_000
    assert pretty(body) == body
    ex = Exchange(1, 0.0, "POST", "http://127.0.0.1/x", [], "{}", 200, [], body, len(body))
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(ExchangeDetail(ex))
        await pilot.pause()
        assert isinstance(app.screen, ExchangeDetail)
        assert "[[[[" in str(app.screen.query_one("#detail-text", Static).render())


def test_resume_hints_in_the_demo_say_demo(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MOBITUI_DATA_DIR": str(tmp_path / "data")}
    job_id = _interrupted_unsubscribe_job(tmp_path / "data" / "demo" / "journal.sqlite3", ["254700000101"])
    r = subprocess.run(
        [sys.executable, "-m", "mobitui", "--demo", "jobs"], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert f"Resume with `mobitui --demo resume JOB` (resumable: {job_id})" in r.stdout


def test_the_suggested_command_creates_a_config_where_none_was(tmp_path):
    path = tmp_path / "fresh" / "mobitui" / "config.toml"
    command = ConfigMissing.create_command(path)
    assert command.startswith("mkdir -p ")
    shell = command.replace("mobitui config-example", f"{sys.executable} -m mobitui config-example")
    r = subprocess.run(
        ["sh", "-c", shell], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert config.load(path).account.account_id == "43e36f54eef111e270639871000000f1"


def test_the_cli_progress_line_is_cut_to_the_terminal_width():
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))
    with os.fdopen(slave, "w", encoding="utf-8") as stream:
        meter = cli._Progress(stream)
        assert meter.enabled
        p = Progress(
            job_id=1,
            operation=Operation.STATUS,
            total=4000,
            done=1234,
            unknown=3,
            in_flight=50,
            pending=2663,
            left=2713,
            outcomes={"ok": 1200, "failed": 34},
            states={"active": 900, "onhold": 200, "unsub": 100},
            rate=912.0,
            eta=3.0,
        )
        meter(p)
    out = os.read(master, 4096).decode()
    os.close(master)
    line = out.split("\x1b[2K")[-1]
    assert line.startswith("[") and line.endswith("…")
    assert len(line) == 39  # one column short of the width: the cursor never wraps


async def test_every_campaign_view_shows_a_readable_error_not_its_first_letters(sim_config, simulator):
    from test_console import settle
    from textual.widgets import ContentSwitcher

    from mobitui.tui.widgets.everywhere import EverywhereTable

    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"254799999017", "enter")  # refused as unauthenticated in every campaign
        await settle(app, pilot)
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        assert app.query_one("#switcher", ContentSwitcher).current == "everywhere"
        table = app.query_one(EverywhereTable)
        await pilot.pause()
        for c in sim_config.campaigns:
            assert str(table.get_cell(c.campaign_id, "error")) == "Bad signature"
        assert table.columns["error"].get_render_width(table) >= len("Bad signature")
        # on screen beside the state, not scrolled off to the right
        error = table.columns["error"]
        left = sum(col.get_render_width(table) for col in table.ordered_columns[: table.get_column_index("error")])
        assert left + error.get_render_width(table) <= table.scrollable_content_region.width


async def test_one_resize_is_enough_for_the_layout(sim_config):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert not app.has_class("-narrow") and not app.has_class("-short")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.has_class("-narrow") and app.has_class("-short")
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert not app.has_class("-narrow") and not app.has_class("-short")


async def _looked_up(app, pilot) -> str:  # type: ignore[no-untyped-def]
    from test_console import settle

    await settle(app, pilot)
    return str(app.query_one("#status-title", Static).render())


async def test_esc_then_a_number_typed_at_once_reaches_the_field_whole(sim_config, simulator):
    from textual import events

    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f6")  # the request log has focus
        await pilot.pause()
        # Esc and the first digit within ESCDELAY arrive as one Alt key, as a terminal sends them
        app.post_message(events.Key("alt+0", "0"))
        await pilot.press(*"700000105", "enter")
        assert app.query_one("#msisdn", Input).value == "0700000105"
        assert "254700000105" in await _looked_up(app, pilot)


async def test_a_number_typed_or_pasted_on_the_campaign_list_goes_to_the_field(sim_config, simulator):
    from textual import events
    from textual.widgets import OptionList

    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one("#campaign-list", OptionList).focus()
        await pilot.pause()
        await pilot.press("down", "enter")  # choose the next campaign...
        await pilot.press(*"0700000105", "enter")  # ...and type at once
        assert app.campaign.name == sim_config.campaigns[1].name
        assert app.query_one("#msisdn", Input).value == "0700000105"
        assert "254700000105" in await _looked_up(app, pilot)
        app.query_one("#campaign-list", OptionList).focus()
        await pilot.pause()
        app.post_message(events.Paste("+254 700 000 106"))
        await pilot.pause()
        assert app.query_one("#msisdn", Input).value == "+254 700 000 106"


def test_esc_then_a_digit_is_parsed_as_alt_digit_not_as_another_character():
    from textual._xterm_parser import XTermParser

    from mobitui.tui.terminal_keys import keep_esc_before_characters

    keep_esc_before_characters()
    parser = XTermParser()
    keys = [(e.key, e.character) for e in [*parser.feed("\x1b0700"), *parser.feed("")]]
    assert keys == [("alt+0", "0"), ("7", "7"), ("0", "0"), ("0", "0")]
    parser = XTermParser()
    assert [e.key for e in [*parser.feed("\x1bb"), *parser.feed("")]] == ["ctrl+left"]  # keys are kept


async def test_a_check_that_hangs_says_how_many_attempts_and_when_it_gives_up(sim_config, simulator):
    import time as _time

    from mobitui.core.config import Config

    data = with_ui(sim_config, refresh_interval=0).model_dump(mode="python")
    data["network"].update(connect_timeout=2.0, read_timeout=3.0, status_attempts=2, retry_max_wait=1.0)
    now = 1_764_547_200.0  # a fixed clock
    app = make_app(Config.model_validate(data), clock=lambda: now)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"254799999001", "enter")  # never answers
        await pilot.pause(0.3)
        age = str(app.query_one("#status-age", Static).render())
        # 2 attempts x (2 s connect + 3 s read) + 1 s between them = 11 s from now
        assert age == "checking now… up to 2 attempt(s); gives up by " + _time.strftime(
            "%H:%M:%S", _time.localtime(now + 11)
        )


def _burst(app, *keys: str) -> None:  # type: ignore[no-untyped-def]
    """Keys arriving together, as tmux send-keys or a fast typist delivers them: all are
    queued before the first is handled (pilot.press waits between keys)."""
    from textual import events

    for k in keys:
        char = k if len(k) == 1 else {"enter": "\r", "backspace": "\x7f", "ctrl+u": "\x15"}.get(k)
        app.post_message(events.Key(k, char))


async def test_keys_in_a_burst_land_in_order_and_unchanged(sim_config, simulator):
    from test_console import settle

    async def until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
        """Wait (up to 10 s: a loaded machine) for the keys to be handled; then say what was seen."""
        for _ in range(200):
            if predicate():
                return
            await pilot.pause(0.05)
        raise AssertionError(what)

    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(120, 36)) as pilot:
        field = app.query_one("#msisdn", Input)
        _burst(app, *"0700000112", "backspace", "3")  # a typo corrected at once
        await until(lambda: field.value == "0700000113", f"field: {field.value!r}")
        _burst(app, "ctrl+u", *"0700000105")  # clear the line, type a new number
        await until(lambda: field.value == "0700000105", f"field: {field.value!r}")
        _burst(app, "enter")  # look it up
        await settle(app, pilot)
        app.request_log.flush()
        _burst(app, "f6", "enter")  # then open its exchange from the log
        await until(lambda: isinstance(app.screen, ExchangeDetail), f"screen: {app.screen!r}")
        await pilot.press("escape")
        _burst(app, "ctrl+f", *"jokes", "enter", *"0700000107", "enter")
        await until(
            lambda: "254700000107 in Kenya Jokes SMS" in str(app.query_one("#status-title", Static).render()),
            "the lookup of 254700000107 in Kenya Jokes SMS",
        )
        await settle(app, pilot)
        assert app.campaign.name == "Kenya Jokes SMS"
        assert field.value == "0700000107"


async def test_the_unsubscribe_key_in_read_only_says_why(sim_config, simulator):
    app = make_app(with_ui(sim_config, refresh_interval=0), read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"254700000101", "enter", "ctrl+o")
        await pilot.pause(0.2)
        assert any(
            n.message.startswith("read-only mode (--read-only or ui.read_only = true): unsubscribe refused")
            for n in app._notifications
        )
    assert not [r for r in simulator.sim.records() if "unsubscribe" in r.path or "sendsms" in r.path]


async def test_every_campaign_view_shows_each_route_at_80x24(sim_config, simulator):
    from test_console import settle
    from textual.widgets import ContentSwitcher

    from mobitui.tui.widgets.everywhere import EverywhereTable

    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"254700000101", "ctrl+g")
        await settle(app, pilot)
        assert app.query_one("#switcher", ContentSwitcher).current == "everywhere"
        table = app.query_one(EverywhereTable)
        await pilot.pause()
        # every column on screen, none scrolled off to the right or cut
        whole = sum(col.get_render_width(table) for col in table.ordered_columns)
        assert whole <= table.scrollable_content_region.width, (whole, table.scrollable_content_region.width)
        for c in sim_config.campaigns:
            shown = str(table.get_cell(c.campaign_id, "campaign"))
            assert c.name in shown and c.unsubscribe_via.value in shown, shown
