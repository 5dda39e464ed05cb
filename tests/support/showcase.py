"""A frozen, in-process demo of the console, for screenshots and snapshot tests.

The simulator app is served through httpx's ASGI transport at a fixed address,
with seeded references and a stopped clock, so the same scenario draws the
same screen on every machine. Test scaffolding (it patches the core's clock with
unittest.mock): used by tests/test_snapshots.py and tools/screenshots.py, never
shipped in the package.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from unittest import mock

import httpx

from mobitui.core import client as client_mod
from mobitui.core import recorder as recorder_mod
from mobitui.core import results as results_mod
from mobitui.core.config import Config
from mobitui.core.secrets import KeyLookup, KeySource
from mobitui.runtime import Runtime
from mobitui.simulator.app import build_app
from mobitui.simulator.demo import DEMO_API_KEY, demo_config
from mobitui.simulator.options import SimOptions
from mobitui.tui.app import MobituiApp

BASE = "http://simulator.test"
FROZEN = 1_795_442_400.0  # 2026-11-23 14:00:00 UTC

Scenario = Callable[[object], Awaitable[None]]


def showcase_config() -> Config:
    data = demo_config(BASE).model_dump(mode="python")
    data["ui"]["refresh_interval"] = 0
    data["network"]["status_attempts"] = 1
    return Config.model_validate(data)


NO_KEYRING = KeyLookup(
    None, KeySource.NONE, "none usable",
    "No usable keyring backend on this machine (a headless server). Either export MOBITUI_API_KEY in "
    "the shell that runs mobitui, or install and unlock a keyring (see README: The API key).",
)


def frozen_app(*, campaign: str | None = None, read_only: bool = False, keyless: bool = False) -> MobituiApp:
    config = showcase_config()
    sim = build_app(config, DEMO_API_KEY, SimOptions(seed=7))
    transport = httpx.ASGITransport(app=sim)
    key = NO_KEYRING if keyless else KeyLookup(DEMO_API_KEY, KeySource.DEMO, "not consulted (demo)")
    runtime = Runtime(config, None, demo=not keyless, key_lookup=key)
    return MobituiApp(runtime, campaign=campaign, read_only=read_only, clock=lambda: FROZEN, transport=transport)


@contextmanager
def frozen_clock() -> Iterator[None]:
    """Every timestamp and latency the core records reads the stopped clock."""
    fake = SimpleNamespace(time=lambda: FROZEN, perf_counter=lambda: 0.0, strftime=time.strftime, localtime=time.localtime)
    with (
        mock.patch.object(client_mod, "time", fake),
        mock.patch.object(recorder_mod, "time", fake),
        mock.patch.object(results_mod, "time", fake),
    ):
        yield


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.workers.wait_for_complete()
    # A blinking cursor is drawn or not depending on when the picture is taken.
    for screen in pilot.app.screen_stack:
        for field in screen.query("Input, TextArea"):
            field.cursor_blink = False
    # The request log adds its rows in batches on a timer: add them now, then let
    # the table settle its column widths, so the picture does not depend on timing.
    log = getattr(pilot.app, "request_log", None)
    if log is not None:
        log.flush()
    await pilot.pause()
    await pilot.pause()


def steady_cursor(pilot) -> None:  # type: ignore[no-untyped-def]
    """A blinking cursor is drawn or not depending on how long the scenario took:
    the pictures must not depend on timing (a loaded machine, the journal's thread)."""
    from textual.widgets import Input

    for widget in pilot.app.query(Input):
        widget.cursor_blink = False


async def main_with_answer(pilot) -> None:  # type: ignore[no-untyped-def]
    steady_cursor(pilot)
    await pilot.press(*"0700-000-106", "enter")
    await settle(pilot)


async def confirm_dialog(pilot) -> None:  # type: ignore[no-untyped-def]
    steady_cursor(pilot)
    await pilot.press(*"254700000101", "enter")
    await settle(pilot)
    await pilot.press("ctrl+o")
    await settle(pilot)


async def log_detail(pilot) -> None:  # type: ignore[no-untyped-def]
    steady_cursor(pilot)
    await pilot.press(*"254700000101", "enter")
    await settle(pilot)
    await pilot.press("f6", "enter")
    await settle(pilot)


async def error_answer(pilot) -> None:  # type: ignore[no-untyped-def]
    steady_cursor(pilot)
    await pilot.press(*"254799999008", "enter")
    await settle(pilot)


async def every_campaign(pilot) -> None:  # type: ignore[no-untyped-def]
    steady_cursor(pilot)
    await pilot.press(*"254700000101", "ctrl+g")
    await settle(pilot)


async def help_screen(pilot) -> None:  # type: ignore[no-untyped-def]
    steady_cursor(pilot)
    await pilot.press("f1")
    await settle(pilot)


async def bulk_empty(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)  # the core is up: ctrl+n opens the bulk screen only then
    await pilot.press("ctrl+n")
    await settle(pilot)


BULK_PASTE = "254700000101\n+254 700 000 106\n0700-000-101\nhello\n254700000107;254700000113\n254700000102\n"


async def bulk_finished(pilot) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import TextArea

    await settle(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot)
    pilot.app.screen.query_one("#paste", TextArea).load_text(BULK_PASTE)
    await pilot.pause(0.5)
    await settle(pilot)
    await pilot.press("ctrl+r")
    await pilot.pause(0.2)
    screen = pilot.app.screen
    while getattr(screen, "running", None) is not None:
        await pilot.pause(0.05)
    await screen.workers.wait_for_complete()
    await pilot.pause(0.6)  # the idle redraw of the rows
    await settle(pilot)


SCENARIOS: dict[str, tuple[Scenario, dict[str, object]]] = {
    "main": (main_with_answer, {}),
    "confirm": (confirm_dialog, {"campaign": "Kenya Jokes SMS"}),
    "log-detail": (log_detail, {}),
    "error": (error_answer, {}),
    "every-campaign": (every_campaign, {}),
    "help": (help_screen, {}),
    "read-only": (main_with_answer, {"read_only": True}),
    "no-keyring": (main_with_answer, {"keyless": True}),
    "bulk-empty": (bulk_empty, {}),
    "bulk-finished": (bulk_finished, {}),
}
