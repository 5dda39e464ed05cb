"""The API key never comes back from a server onto a screen, into a record or a file.

A server echoes the key in five encodings (tests/support/echo.py) in every text
the client derives from an answer: the error, a gateway code's detail, the HTML
title, the reference, the answer's fields. Every CLI command and every console
screen is driven against it; then every output, screenshot, clipboard copy,
saved file, export and the journal are decoded every way a reader could, and
searched for the key. Also: keys that cannot be redacted safely are refused,
and a keyring that keeps nothing is not reported as having stored the key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mobitui.core import secrets
from mobitui.core.recorder import Recorder, UnsafeKey, unsafe_key
from mobitui.simulator.demo import demo_toml
from support.echo import ENCODINGS, EchoServer, decodings, encode

ROOT = Path(__file__).resolve().parents[2]
KEY = "Echo+Key/9f8e7d6c=Zq&x"


@pytest.fixture
def echo():  # type: ignore[no-untyped-def]
    server = EchoServer(KEY).start()
    yield server
    server.stop()


def assert_no_key(text: str, where: str) -> None:
    for decoded in decodings(text):
        assert KEY not in decoded, f"the key is readable in {where}"


def test_every_encoding_is_masked_by_the_recorder_and_numbers_are_untouched():
    r = Recorder([KEY])
    for how in ENCODINGS:
        body = f'{{"error": "Username or Password incorrect: PASSWORD={encode(KEY, how)}", "msisdn": "254700000101"}}'
        out = r.redact(body)
        assert_no_key(out, how)
        assert "254700000101" in out and "***" in out, (how, out)


@pytest.mark.parametrize("key", ["abc", "short7!", "254700000101", "+254 700 000 101", "12345678"])
def test_a_key_that_cannot_be_redacted_safely_is_refused(key):
    assert unsafe_key(key)
    with pytest.raises(UnsafeKey):
        Recorder([key])
    with pytest.raises(ValueError):
        secrets.store("acct", key)


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("MOBITUI_", "PYTHON_KEYRING"))}
    e.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        MOBITUI_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
        **extra,
    )
    return e


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mobitui", *args], input=stdin, capture_output=True, text=True, env=env, timeout=90
    )


def test_auth_set_refuses_unsafe_keys_and_a_backend_that_keeps_nothing(tmp_path):
    cfg = tmp_path / "m.toml"
    cfg.write_text(demo_toml("http://127.0.0.1:9"))
    env = cli_env(
        tmp_path,
        PYTHON_KEYRING_BACKEND="support.keyrings.FileKeyring",
        MOBITUI_TEST_KEYRING=str(tmp_path / "keyring.json"),
    )
    r = run(env, "auth", "set", "--config", str(cfg), stdin="254700000101\n")
    assert r.returncode == 2 and "digits only" in r.stderr and "Stored" not in r.stdout
    r = run(env, "auth", "set", "--config", str(cfg), stdin="abc\n")
    assert r.returncode == 2 and "at least 8" in r.stderr
    assert not (tmp_path / "keyring.json").exists()
    null = cli_env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    r = run(null, "auth", "set", "--config", str(cfg), stdin=KEY + "\n")
    assert r.returncode == 2 and "Stored" not in r.stdout, r.stdout
    assert "MOBITUI_API_KEY" in r.stderr and "Traceback" not in r.stderr
    r = run(env, "auth", "set", "--config", str(cfg), stdin=KEY + "\n")
    assert r.returncode == 0 and "Stored" in r.stdout and KEY not in r.stdout
    short_env = cli_env(tmp_path, MOBITUI_API_KEY="1234")
    r = run(short_env, "auth", "status", "--config", str(cfg))
    assert r.returncode == 1 and "at least 8" in r.stdout


def test_every_cli_command_against_a_server_echoing_the_key(tmp_path, echo):
    cfg = tmp_path / "m.toml"
    cfg.write_text(demo_toml(echo.base_url))
    env = cli_env(tmp_path, MOBITUI_API_KEY=KEY)
    c = str(cfg)
    numbers = [f"2547000001{n:02d}" for n in range(1, 7)]
    outputs: list[str] = []
    for args in (
        ("status", "--config", c, "--campaign", "Kenya Tips", *numbers),
        ("status", "--config", c, "--campaign", "Kenya Tips", "--json", *numbers),
        ("unsubscribe", "--config", c, "--campaign", "Kenya Tips", "--yes", *numbers[:3]),
        (
            "unsubscribe",
            "--config",
            c,
            "--campaign",
            "Kenya Jokes SMS",
            "--yes",
            *numbers,
            "--export",
            str(tmp_path / "out.csv"),
        ),
        (
            "unsubscribe",
            "--config",
            c,
            "--campaign",
            "Kenya Web Opt-In",
            "--yes",
            "--json",
            *numbers,
            "--export",
            str(tmp_path / "out.jsonl"),
        ),
        ("history", "--config", c, numbers[0]),
        ("history", "--config", c, numbers[0], "--json"),
        ("jobs", "--config", c),
        ("jobs", "--config", c, "--json"),
    ):
        r = run(env, *args)
        assert "Traceback" not in r.stderr, r.stderr
        outputs += [r.stdout, r.stderr]
    assert echo.count >= 30  # every encoding met every shape
    blob = "\n".join(outputs)
    assert "***" in blob  # the echoed key is there, masked
    assert_no_key(blob, "the CLI's output")
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".toml"]
    assert any(p.name == "journal.sqlite3" for p in files) and (tmp_path / "out.csv").exists()
    for p in files:
        assert_no_key(p.read_bytes().decode("utf-8", "replace"), str(p))


async def enter_number(app, pilot, number: str) -> None:  # type: ignore[no-untyped-def]
    """Look ``number`` up: put it in the field whole and press enter. (Typing it digit by
    digit as test_console's ``lookup`` does costs a screen update per key, some 20 s here;
    what this test checks is what the server's answers put on the screen, not the typing.)"""
    from test_console import settle

    app.query_one("#msisdn").value = number
    await pilot.pause()
    await pilot.press("enter")
    await settle(app, pilot)


async def test_every_console_screen_against_a_server_echoing_the_key(tmp_path, echo):
    from test_console import ACTIVE, make_app, settle, with_ui

    from mobitui.simulator.demo import demo_config
    from mobitui.tui.screens.confirm import UnsubscribeConfirm
    from mobitui.tui.screens.exchange import ExchangeDetail

    config = with_ui(demo_config(echo.base_url), refresh_interval=0)
    app = make_app(config, key=KEY, campaign="Kenya Jokes SMS")
    shots: list[str] = []
    copied: list[str] = []
    async with app.run_test(size=(160, 50)) as pilot:
        orig_copy = app.copy_to_clipboard
        app.copy_to_clipboard = lambda text: (copied.append(text), orig_copy(text))  # type: ignore[method-assign]
        for _ in range(5):
            await enter_number(app, pilot, ACTIVE)
            shots.append(app.export_screenshot())
            await pilot.press("ctrl+r")
            await settle(app, pilot)
            shots.append(app.export_screenshot())
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        shots.append(app.export_screenshot())
        for campaign in ("Kenya Jokes SMS", "Kenya Web Opt-In", "Kenya Tips"):
            await pilot.press("ctrl+f", *campaign, "enter", "escape")
            for _ in range(2):
                await enter_number(app, pilot, ACTIVE)
                await pilot.press("ctrl+o")
                await pilot.pause()
                shots.append(app.export_screenshot())
                await pilot.press("y")
                await pilot.pause()
                if isinstance(app.screen, UnsubscribeConfirm):  # a stop was just accepted: typed `again`
                    shots.append(app.export_screenshot())
                    from textual.widgets import Input

                    app.screen.query_one("#confirm-again", Input).value = ""  # the `y` went into the field
                    await pilot.press(*"again", "enter")
                await settle(app, pilot)
                await settle(app, pilot)
                shots.append(app.export_screenshot())
        await pilot.pause(0.3)
        await pilot.press("f6", "end")
        for _ in range(12):  # the newest exchanges, each in full, copied and saved
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ExchangeDetail)
            shots.append(app.export_screenshot())
            await pilot.press("y", "s")
            await app.workers.wait_for_complete()
            await pilot.press("escape", "up")
        shots += [n.message for n in app._notifications]
    assert echo.count >= 15
    blob = "\n".join(shots + copied)
    assert "***" in blob
    assert_no_key(blob, "the console's screens and clipboard")
    saved = list((Path(os.environ["MOBITUI_DATA_DIR"]) / "exchanges").glob("*.txt"))
    assert len(saved) >= 10
    for p in [*saved, *Path(os.environ["MOBITUI_DATA_DIR"]).rglob("journal.sqlite3*")]:
        assert_no_key(p.read_bytes().decode("utf-8", "replace"), str(p))
