"""Snapshots of the console at 80x24 and 120x36 (each one was looked at before acceptance).

The scenarios live in tests/support/showcase.py, which also draws the README's
screenshots: an in-process simulator, seeded references, a stopped clock.
"""

from __future__ import annotations

import pytest

from support import showcase

SIZES = [(80, 24), (120, 36)]
NAMES = [
    "main",
    "confirm",
    "log-detail",
    "error",
    "every-campaign",
    "help",
    "read-only",
    "no-keyring",
    "bulk-empty",
    "bulk-mid-run",
    "bulk-finished",
]


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
    with showcase.frozen_clock(), showcase.ended(app):
        assert snap_compare(app, terminal_size=size, run_before=scenario)


def test_no_snapshot_or_screenshot_carries_the_key():
    from pathlib import Path
    from urllib.parse import quote

    from mobitui.simulator.demo import DEMO_API_KEY

    root = Path(__file__).resolve().parents[2]
    pictures = [*root.glob("tests/**/__snapshots__/**/*.svg"), *root.glob("screenshots/*.svg")]
    assert len(pictures) >= 8
    for p in pictures:
        text = p.read_text()
        assert DEMO_API_KEY not in text and quote(DEMO_API_KEY, safe="") not in text, p
    confirm = next(p for p in pictures if "confirm-120x36" in p.name).read_text()
    assert "PASSWORD=***" in confirm  # the key's place in the URL is there, masked
