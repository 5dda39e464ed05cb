"""Snapshots of the console at 80x24 and 120x36 (each one was looked at before acceptance).

The scenarios live in mobitui.tui.showcase, which also draws the README's
screenshots: an in-process simulator, seeded references, a stopped clock.
"""

from __future__ import annotations

import pytest

from mobitui.tui import showcase

SIZES = [(80, 24), (120, 36)]
NAMES = ["main", "confirm", "log-detail", "error"]


@pytest.fixture(autouse=True)
def _utc(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", NAMES)
def test_snapshot(snap_compare, name, size):
    scenario, options = showcase.SCENARIOS[name]
    app = showcase.frozen_app(**options)
    with showcase.frozen_clock():
        assert snap_compare(app, terminal_size=size, run_before=scenario)
