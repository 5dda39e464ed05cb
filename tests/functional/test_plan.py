"""The confirmation dialog shows the request that is sent, byte for byte.

A loopback server records every request as it arrives (request target and body,
not decoded); the console's dialog is read from the screen; the parts the dialog
names instead of showing (the key, the journal row, the minute) are filled in with
what they are, and the two must then be equal.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from textual.widgets import Static

from mobitui.core import secrets
from mobitui.core.config import Config, Route
from mobitui.core.journal import default_path
from mobitui.core.routes import plan
from mobitui.runtime import Runtime
from mobitui.simulator.demo import DEMO_API_KEY, demo_config
from mobitui.tui.app import MobituiApp
from mobitui.tui.screens.confirm import UnsubscribeConfirm

ACTIVE = "254700000101"
MT = "MT-" + "ab" * 16


def console(config: Config, campaign: str) -> MobituiApp:
    data = config.model_dump(mode="python")
    data["ui"]["refresh_interval"] = 0
    found = secrets.KeyLookup(DEMO_API_KEY, "environment", "test")
    return MobituiApp(Runtime(Config.model_validate(data), None, key_lookup=found), campaign=campaign)


async def until(pilot, predicate) -> None:  # type: ignore[no-untyped-def]
    """Until ``predicate()`` holds, or fail after 20 s."""
    for _ in range(400):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


class Recording(BaseHTTPRequestHandler):
    """Answers each route's success and keeps (method, target, body) as received."""

    seen: list[tuple[str, str, bytes]]

    def _answer(self, ctype: str, body: str) -> None:
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.server.seen.append((self.command, self.path, body))  # type: ignore[attr-defined]
        return body

    def do_POST(self) -> None:
        self._record()
        state = "unsubscribed" if self.path.endswith("/unsubscribe") else "active"
        self._answer(
            "application/json",
            '{"authenticated": true, "valid_msisdn": true, "valid_campaign": true, '
            f'"state": "{state}", "error": null, "reference": "AP:plan-test"}}',
        )

    def do_GET(self) -> None:
        self._record()
        if self.path.startswith("/api/doi/"):
            self._answer("application/json", f'{{"200": "{MT}"}}')
        else:
            self._answer("text/plain", MT)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def minute(at: float) -> str:
    return quote(datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M"), safe="")


def last_unsubscribe_row() -> int:
    db = sqlite3.connect(default_path())
    try:
        return db.execute("SELECT max(id) FROM actions WHERE operation = 'unsubscribe'").fetchone()[0]
    finally:
        db.close()


@pytest.mark.parametrize("route", list(Route), ids=[r.value for r in Route])
async def test_the_dialog_shows_byte_for_byte_what_the_server_receives(recorder, route):
    base = f"http://127.0.0.1:{recorder.server_port}"
    config = demo_config(base)
    campaign = next(c for c in config.campaigns if c.unsubscribe_via is route)
    seen = recorder.seen
    app = console(config, campaign.name)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press(*ACTIVE, "enter")
        await until(pilot, lambda: len(seen) == 1)  # its status
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, UnsubscribeConfirm))
        dialog = app.screen
        assert isinstance(dialog, UnsubscribeConfirm)
        shown = str(dialog.query_one("#confirm-request", Static).render())
        note = str(dialog.query_one("#confirm-request-note", Static).render())
        checks = len(seen)
        before = time.time()
        await pilot.press("y")
        await until(pilot, lambda: len(seen) > checks)
        after = time.time()
        await app.workers.wait_for_complete()
    stops = [r for r in seen[checks:] if not r[1].endswith("/status")]  # the console re-checks after
    assert len(stops) == 1, seen  # the stop, once
    method, target, body = stops[0]
    received = f"{method} {base}{target}" + (f"\n{body.decode()}" if body else "")

    assert DEMO_API_KEY not in shown + note
    named = {p.shown: p for p in (plan.KEY, plan.JOURNAL_ROW, plan.SENT_MINUTE)}
    holes = [h for h in named if h in shown]
    for h in holes:  # every part not shown is named and said
        assert (plan.WHEN_SENT if named[h].when_sent else f"{h}: {named[h].meaning}") in note
    assert note == (f"Request to be sent ({dialog.plan.note}):" if holes else "Request to be sent:")
    expected = {
        Route.SUBSCRIPTION_API: [],
        Route.MT_STOP: [plan.KEY.shown, plan.SENT_MINUTE.shown],
        Route.DOI: [plan.KEY.shown, plan.JOURNAL_ROW.shown],
    }[route]
    assert sorted(holes) == sorted(expected)

    filled = shown.replace(plan.KEY.shown, quote(DEMO_API_KEY, safe="")).replace(
        plan.JOURNAL_ROW.shown, plan.reference(last_unsubscribe_row())
    )
    candidates = {filled.replace(plan.SENT_MINUTE.shown, minute(at)) for at in (before, after)}
    assert received in candidates, (shown, received)


async def test_a_plan_without_the_key_names_it_and_sends_nothing_for_later(recorder):
    """The client sends only a request with nothing left to fill in; the plan shown never holds the key."""
    from mobitui.core.client import MobivateClient

    config = demo_config(f"http://127.0.0.1:{recorder.server_port}")
    doi = next(c for c in config.campaigns if c.unsubscribe_via is Route.DOI)
    async with MobivateClient(config, DEMO_API_KEY) as client:
        shown = client.plan_unsubscribe(doi, ACTIVE)
        await client.unsubscribe(doi, ACTIVE, reference=plan.reference(41))
    assert DEMO_API_KEY not in repr(shown)
    assert "/***/" in shown.url and "reference=mobitui-<journal row>&" in shown.url
    _, target, _ = recorder.seen[-1]
    assert f"/{DEMO_API_KEY}/" in target and "reference=mobitui-41&" in target
    assert "<" not in target and "***" not in target
