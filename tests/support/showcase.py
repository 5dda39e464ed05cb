"""A frozen, in-process demo of the console, for screenshots and snapshot tests.

The simulator app is served through httpx's ASGI transport at a fixed address,
with seeded references and a stopped clock, so the same scenario draws the
same screen on every machine. Test scaffolding (it patches the core's clock with
unittest.mock): used by tests/test_snapshots.py and tools/screenshots.py, never
shipped in the package.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from unittest import mock

import httpx

from mobitui.core import bulk as bulk_mod
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
    None,
    KeySource.NONE,
    "none usable",
    "No usable keyring backend on this machine (a headless server). Either export MOBITUI_API_KEY in "
    "the shell that runs mobitui, or install and unlock a keyring (see README: The API key).",
)


HELD = ("254700000108", "254700000111")  # status checks of these wait until released


class Held:
    """An ASGI layer in front of the simulator that holds every request naming one of
    ``numbers`` until :meth:`release`, then passes it on (it is answered normally).

    A picture of a run in progress needs requests that stay in flight for as long as
    it takes to draw it, and then end: a bulk job runs on a thread with an event loop
    of its own, and a job still running when its test ends stays registered as
    running in this process (``mobitui.core.bulk``), so the next test's job of the
    same id would be refused. The simulator's own hanging number is no use here:
    over httpx's ASGI transport (no timeouts) it never ends.
    """

    def __init__(self, app: object, numbers: tuple[str, ...]) -> None:
        self.app = app
        self.numbers = tuple(n.encode() for n in numbers)
        self._lock = threading.Lock()
        self._released = False
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # type: ignore[operator]
            return
        messages = []
        while True:  # the whole request body: the number is in it (status) or in the query
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(m.get("body", b"") for m in messages) + scope.get("query_string", b"")
        if any(n in body for n in self.numbers):
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            with self._lock:
                if not self._released:
                    self._waiting.append((loop, waiter))
                else:
                    waiter.set_result(None)
            await waiter
        replay = iter(messages)

        async def again():  # type: ignore[no-untyped-def]
            return next(replay, None) or await receive()

        await self.app(scope, again, send)  # type: ignore[operator]

    def release(self) -> None:
        """Let every held request through, now and from now on. Any thread."""
        with self._lock:
            self._released = True
            waiting, self._waiting = self._waiting, []
        for loop, waiter in waiting:
            try:
                loop.call_soon_threadsafe(_let_through, waiter)
            except RuntimeError:  # that loop is closed: nothing waits there any more
                pass


def _let_through(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ShowcaseApp(MobituiApp):
    """The console with its bulk jobs kept in view, so a test can end them."""

    held: Held
    job_threads: list[threading.Thread]

    def start_bulk_job(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        run, future = super().start_bulk_job(*args, **kwargs)
        thread = getattr(run, "thread", None)
        if thread is not None:
            self.job_threads.append(thread)
        return run, future


def frozen_app(*, campaign: str | None = None, read_only: bool = False, keyless: bool = False) -> ShowcaseApp:
    config = showcase_config()
    sim = Held(build_app(config, DEMO_API_KEY, SimOptions(seed=7)), HELD)
    transport = httpx.ASGITransport(app=sim)  # type: ignore[arg-type]
    key = NO_KEYRING if keyless else KeyLookup(DEMO_API_KEY, KeySource.DEMO, "not consulted (demo)")
    runtime = Runtime(config, None, demo=not keyless, key_lookup=key)
    app = ShowcaseApp(runtime, campaign=campaign, read_only=read_only, clock=lambda: FROZEN, transport=transport)
    app.held, app.job_threads = sim, []
    return app


@contextmanager
def ended(app: ShowcaseApp, timeout: float = 30.0) -> Iterator[None]:
    """On the way out, release the held requests and wait for the app's bulk jobs to
    end (their threads outlive the app): the next scenario starts with none running."""
    try:
        yield
    finally:
        app.held.release()
        for thread in app.job_threads:
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError(f"a bulk job of the showcase did not end within {timeout:g} s")


@contextmanager
def frozen_clock() -> Iterator[None]:
    """Every timestamp and latency the core records reads the stopped clock."""
    fake = SimpleNamespace(
        time=lambda: FROZEN, perf_counter=lambda: 0.0, strftime=time.strftime, localtime=time.localtime
    )
    # A bulk job's rate, ETA and elapsed time read its own clock (a keyword default):
    # stopped, the rate of a run in progress is 0/s whenever the picture is taken.
    job_clock = {"clock": lambda: 0.0}
    with (
        mock.patch.object(client_mod, "time", fake),
        mock.patch.object(recorder_mod, "time", fake),
        mock.patch.object(results_mod, "time", fake),
        mock.patch.dict(bulk_mod.BulkJob.__init__.__kwdefaults__, job_clock),  # type: ignore[arg-type]
    ):
        yield


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.workers.wait_for_complete()
    # A blinking cursor is drawn or not depending on when the picture is taken.
    for screen in pilot.app.screen_stack:
        for field in screen.query("Input, TextArea"):
            field.cursor_blink = False
            steady_lines(field)
    # The request log adds its rows in batches on a timer: add them now, then let
    # the table settle its column widths, so the picture does not depend on timing.
    log = getattr(pilot.app, "request_log", None)
    if log is not None:
        log.flush()
    await pilot.pause()
    await pilot.pause()


def steady_lines(field: object) -> None:
    """A TextArea caches its drawn lines under a key that names the cursor only
    while it blinks: a line drawn in the blink's off phase was reused, without
    its cursor, once blinking stopped (Textual 8.2.8). Drawn again now."""
    from textual.widgets import TextArea

    if isinstance(field, TextArea):
        field.notify_style_update()  # clears its line cache
        field.refresh()


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


MID_RUN_PASTE = BULK_PASTE + "254700000108\n254700000111\n"  # the last two are held


async def bulk_mid_run(pilot) -> None:  # type: ignore[no-untyped-def]
    """A check of 9 lines in progress: 5 numbers answered, 2 held in flight."""
    from textual.widgets import Static, TextArea

    await settle(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot)
    pilot.app.screen.query_one("#paste", TextArea).load_text(MID_RUN_PASTE)
    await pilot.pause(0.5)
    await settle(pilot)
    await pilot.press("ctrl+r")
    screen = pilot.app.screen
    answered = [r for r in screen.rows if r.entry.usable and r.entry.msisdn not in HELD]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # polled: the job runs on a thread of its own
        await pilot.pause(0.05)
        stats = str(screen.query_one("#bulk-stats", Static).render())
        if (
            screen.running is not None
            and all(r.result is not None for r in answered)
            and not screen._dirty
            and not screen._stale
            and "in flight 2" in stats
            and f"{len(answered)}/{len(answered) + len(HELD)}" in stats
        ):
            break
    else:
        raise AssertionError("the run did not reach 5 answered and 2 in flight within 30 s")
    # Waiting for the workers would wait for the run: only the cursor is steadied.
    area = screen.query_one("#paste", TextArea)
    area.cursor_blink = False
    steady_lines(area)
    await pilot.pause()
    await pilot.pause()


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
    "bulk-mid-run": (bulk_mid_run, {}),
    "bulk-finished": (bulk_finished, {}),
}
