"""The headless CLI as a script would use it: real processes, the simulator, a test keyring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from mobitui.core import secrets
from mobitui.simulator.demo import DEMO_API_KEY, demo_toml

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"msisdn", "campaign_id", "operation", "route", "ok", "state", "http_status", "reference", "error"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("MOBITUI_", "PYTHON_KEYRING"))}
    e.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        MOBITUI_DATA_DIR=str(tmp_path / "mobitui-data"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
        PYTHON_KEYRING_BACKEND="support.keyrings.FileKeyring",
        MOBITUI_TEST_KEYRING=str(tmp_path / "keyring.json"),
    )
    return e


@pytest.fixture
def config_file(tmp_path: Path, simulator) -> Path:  # type: ignore[no-untyped-def]
    p = tmp_path / "mobitui.toml"
    p.write_text(demo_toml(simulator.base_url))
    return p


def mobitui(env: dict[str, str], *args: str, stdin: str | None = None, extra: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "mobitui", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env={**env, **(extra or {})},
        timeout=60,
    )


def test_status_json_one_object_per_number_and_invalid_lines_exit_1(env, config_file, simulator):
    r = mobitui(
        env,
        "status",
        "--config",
        str(config_file),
        "--campaign",
        "Kenya Tips",
        "--json",
        "254700000101",
        "0700-000-106",
        "not-a-number",
    )
    assert r.returncode == 1
    assert "input argument 3" in r.stderr and "not a phone number" in r.stderr
    assert "line 3" not in r.stderr  # an argument is not a line
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["state"] for row in rows] == ["active", "onhold"]


def test_input_is_placed_by_argument_then_by_line_of_the_file(env, config_file, simulator):
    r = mobitui(
        env,
        "status",
        "--config",
        str(config_file),
        "--campaign",
        "Kenya Tips",
        "--json",
        "254700000101",
        "not-a-number",
        "0700-000-101",
        "--file",
        "-",
        stdin="0700-000-106\nhello\n+254 700 000 101\n",
    )
    assert r.returncode == 1
    err = r.stderr
    assert "input argument 2: 'not-a-number' rejected: " in err, err
    assert "input argument 3: 254700000101 duplicate of argument 1: sent once" in err, err
    assert "input line 2: 'hello' rejected: " in err, err  # line 2 of stdin, not line 5 of all
    assert "input line 3: 254700000101 duplicate of argument 1: sent once" in err, err
    assert "line 5" not in err and "line 6" not in err, err
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["state"] for row in rows] == ["active", "onhold"]
    assert all(set(row) >= KEYS for row in rows)
    assert rows[1]["msisdn"] == "254700000106" and rows[1]["ok"] is True


def test_status_table_and_exit_0_from_a_file_on_stdin(env, config_file, simulator):
    r = mobitui(
        env,
        "status",
        "--config",
        str(config_file),
        "--campaign",
        "c0a001".rjust(32, "0").replace("0" * 26 + "c0a001", "de000000000000000000000000c0a001"),
        "--file",
        "-",
        stdin="254700000101\n254700000107;254700000113\n",
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["MSISDN", "OPERATION", "ROUTE", "OK", "STATE", "HTTP", "REFERENCE", "ERROR"]
    assert [line.split()[4] for line in lines[1:]] == ["active", "blocked", "unsub"]


def test_unsubscribe_without_yes_off_a_terminal_refuses_and_sends_nothing(env, config_file, simulator):
    r = mobitui(env, "unsubscribe", "--config", str(config_file), "--campaign", "Kenya Tips", "254700000101")
    assert r.returncode == 2
    assert "--yes" in r.stderr and "nothing was sent" in r.stderr
    assert simulator.sim.requests == []


def test_unsubscribe_with_yes_on_each_route(env, config_file, simulator):
    for campaign in ("Kenya Tips", "Kenya Jokes SMS", "Kenya Web Opt-In"):
        r = mobitui(
            env,
            "unsubscribe",
            "--config",
            str(config_file),
            "--campaign",
            campaign,
            "--yes",
            "--json",
            "254700000101",
            extra={"MOBITUI_API_KEY": DEMO_API_KEY},
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert json.loads(r.stdout)["ok"] is True
    ops = [q["operation"] for q in simulator.sim.requests]
    assert ops == ["unsubscribe", "mt-stop", "doi-stop"]


def test_usage_and_config_errors_exit_2_without_traceback(env, config_file, tmp_path):
    r = mobitui(env, "status", "--config", str(config_file), "--campaign", "Nope", "254700000101")
    assert r.returncode == 2 and "no campaign named" in r.stderr and "Kenya Tips" in r.stderr
    r = mobitui(env, "status", "--campaign", "x", "254700000101")
    assert r.returncode == 2 and "config-example" in r.stderr and "--demo" in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[account]\naccount_id = 'zz'\n")
    r = mobitui(env, "status", "--config", str(bad), "--campaign", "x", "1")
    assert r.returncode == 2 and str(bad) in r.stderr and "account.account_id" in r.stderr
    for out in (r.stdout, r.stderr):
        assert "Traceback" not in out


def test_auth_set_status_delete_with_a_keyring(env, config_file):
    r = mobitui(env, "auth", "set", "--config", str(config_file), stdin="k3y-for-the-auth-test-0001\n")
    assert r.returncode == 0, r.stderr
    assert "FileKeyring" in r.stdout and "k3y-for-the-auth-test-0001" not in r.stdout
    r = mobitui(env, "auth", "status", "--config", str(config_file))
    assert r.returncode == 0
    assert "source:   keyring" in r.stdout and "0001 (26 characters)" in r.stdout
    assert "k3y-for-the-auth-test-0001" not in r.stdout
    r = mobitui(env, "auth", "delete", "--config", str(config_file))
    assert r.returncode == 0 and "Deleted" in r.stdout
    r = mobitui(env, "auth", "status", "--config", str(config_file))
    assert r.returncode == 1 and "auth set" in r.stdout


def test_auth_with_no_keyring_backend_says_how_out(env, config_file):
    no = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    r = mobitui(env, "auth", "status", "--config", str(config_file), extra=no)
    assert r.returncode == 1
    assert "No usable keyring backend" in r.stdout and "MOBITUI_API_KEY" in r.stdout
    r = mobitui(env, "auth", "set", "--config", str(config_file), stdin="abc-def-ghi-jkl\n", extra=no)
    assert r.returncode == 2 and "No usable keyring backend" in r.stderr
    assert not list(Path(env["XDG_DATA_HOME"]).rglob("*")), "nothing may fall back to a file"


def test_keyring_that_hangs_or_fails_is_reported_not_waited_for(monkeypatch):
    import keyring

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for support
    from support.keyrings import BrokenKeyring, HangingKeyring

    monkeypatch.setattr(keyring, "get_keyring", lambda: HangingKeyring())
    got = secrets.lookup("a" * 32, timeout=0.3)
    assert got.key is None and "did not answer within 0.3 s" in got.problem
    monkeypatch.setattr(keyring, "get_keyring", lambda: BrokenKeyring())
    got = secrets.lookup("a" * 32, timeout=2)
    assert got.key is None and "refused" in got.problem and "MOBITUI_API_KEY" in got.problem


def test_history_shows_repeated_live_checks_once_and_the_unsubscribe_among_them(env, config_file, simulator):
    from mobitui.core.config import Route
    from mobitui.core.config import parse as parse_config
    from mobitui.core.journal import Journal
    from mobitui.core.results import Operation, Outcome, Result

    campaign = parse_config(config_file.read_text()).campaigns[1]  # Kenya Jokes SMS: mt-stop
    journal = Journal(Path(env["MOBITUI_DATA_DIR"]) / "journal.sqlite3")

    def checks(state: str, n: int) -> None:
        for _ in range(n):
            journal.record(
                campaign,
                Result(
                    "254700000101",
                    campaign.campaign_id,
                    Operation.STATUS,
                    Route.SUBSCRIPTION_API,
                    Outcome.OK,
                    state=state,
                ),
            )

    checks("active", 3)
    row = journal.begin(campaign, "254700000101", "unsubscribe", "mt-stop")
    journal.finish(
        row,
        Result(
            "254700000101",
            campaign.campaign_id,
            Operation.UNSUBSCRIBE,
            Route.MT_STOP,
            Outcome.OK,
            state="stop-sent",
            http_status=200,
            reference="MT-00",
        ),
    )
    checks("unsub", 80)  # a console left open on the number, refreshing
    journal.close()

    r = mobitui(env, "history", "--config", str(config_file), "254700000101")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1 + 3 + 1, r.stdout  # header, three entries, the note
    assert "status ×80 since" in lines[1] and "unsub" in lines[1]
    assert "unsubscribe" in lines[2] and "stop-sent" in lines[2]
    assert "status ×3 since" in lines[3] and "active" in lines[3]
    assert "--all lists each" in lines[4]

    r = mobitui(env, "history", "--config", str(config_file), "254700000101", "--all", "--limit", "500", "--json")
    assert len(r.stdout.splitlines()) == 84  # every call is in the journal


def test_history_newest_first(env, config_file, simulator):
    mobitui(env, "status", "--config", str(config_file), "--campaign", "Kenya Tips", "254700000101")
    mobitui(env, "unsubscribe", "--config", str(config_file), "--campaign", "Kenya Tips", "--yes", "254700000101")
    r = mobitui(env, "history", "--config", str(config_file), "+254 700 000 101", "--json")
    assert r.returncode == 0
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["operation"] for row in rows] == ["unsubscribe", "status"]
    assert rows[0]["outcome"] == "ok" and rows[0]["os_user"]
    r = mobitui(env, "history", "--config", str(config_file), "254700000101")
    assert "unsubscribe" in r.stdout.splitlines()[1]


def test_the_api_key_appears_nowhere(env, config_file, simulator, tmp_path, monkeypatch):
    """A distinctive key through every command; then every output and every file is searched."""
    key = "S3cret+Key/With=Odd&Chars-9f8e7d6c5b4a"
    monkeypatch.setattr(simulator.sim, "api_key", key)  # accepted for this test only
    spellings = {key, quote(key, safe=""), quote_plus(key), quote(key)}
    with_key = {"MOBITUI_API_KEY": key}
    outputs = []
    c = str(config_file)
    for args in (
        ("status", "--config", c, "--campaign", "Kenya Tips", "254700000101", "254799999014"),
        ("unsubscribe", "--config", c, "--campaign", "Kenya Jokes SMS", "--yes", "254700000101", "254799999014"),
        (
            "unsubscribe",
            "--config",
            c,
            "--campaign",
            "Kenya Web Opt-In",
            "--yes",
            "--json",
            "254700000102",
            "254799999015",
            "254799999016",
        ),
        ("unsubscribe", "--config", c, "--campaign", "Kenya Jokes SMS", "--yes", "254799999003"),
        ("history", "--config", c, "254700000101", "--json"),
        ("history", "--config", c, "254799999014"),
        ("auth", "status", "--config", c),
        ("--help",),
        ("status", "--help"),
        ("simulator", "--help"),
    ):
        r = mobitui(env, *args, extra=with_key)
        assert "Traceback" not in r.stderr, r.stderr
        outputs.append(r.stdout + r.stderr)
    r = mobitui(env, "auth", "set", "--config", c, stdin=key + "\n")
    outputs.append(r.stdout + r.stderr)
    blob = "\n".join(outputs)
    assert "stop-sent" in blob  # the calls really ran
    for s in spellings:
        assert s not in blob
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "keyring.json"]
    assert any(p.name.startswith("journal.sqlite3") for p in files)
    for p in files:
        data = p.read_bytes()
        for s in spellings:
            assert s.encode() not in data, p


def test_hostile_server_text_reaches_the_terminal_inert(env, config_file, simulator):
    for fmt in ((), ("--json",)):
        r = mobitui(env, "status", "--config", str(config_file), "--campaign", "Kenya Tips", *fmt, "254799999016")
        out = r.stdout + r.stderr
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
        assert "[bold red]" in out  # shown as the literal characters it is
    r = mobitui(env, "history", "--config", str(config_file), "254799999016")
    assert "\x1b" not in r.stdout and r.returncode == 0


def test_the_resume_hint_for_stops_of_unknown_outcome_says_what_each_route_resends(env, config_file, simulator):
    said = {}
    for campaign in ("Kenya Tips", "Kenya Jokes SMS"):
        r = mobitui(
            env,
            "unsubscribe",
            "--config",
            str(config_file),
            "--campaign",
            campaign,
            "--yes",
            "254799999004",  # the connection resets mid-answer: the stop's outcome is unknown
            extra={"MOBITUI_API_KEY": DEMO_API_KEY},
        )
        assert r.returncode == 1, r.stdout + r.stderr
        [hint] = [line for line in r.stderr.splitlines() if "with outcome unknown" in line]
        said[campaign] = hint.split("re-checks them by status; ", 1)[1]
    assert said == {
        "Kenya Tips": "it sends again only where still subscribed",
        "Kenya Jokes SMS": "it sends none of them again (each stop is an SMS): decide from the state it shows",
    }


def test_a_stop_answered_429_is_unknown_and_a_second_command_does_not_send_it_again(env, config_file, simulator):
    answers = []
    for _ in range(2):
        r = mobitui(
            env,
            "unsubscribe",
            "--config",
            str(config_file),
            "--campaign",
            "Kenya Jokes SMS",
            "--yes",
            "--json",
            "254799999007",  # the simulator answers HTTP 429 (Retry-After: 1)
            extra={"MOBITUI_API_KEY": DEMO_API_KEY},
        )
        assert r.returncode == 1, r.stdout + r.stderr
        answers.append(json.loads(r.stdout.splitlines()[0]))
    first, second = answers
    assert first["outcome"] == "unknown" and "HTTP 429" in first["error"]
    assert second["outcome"] == "failed" and second["error"].startswith("Not sent:")
    stops = [q for q in simulator.sim.requests if q["operation"] == "mt-stop"]
    assert len(stops) == 1  # the server had the first; nothing proves it did not act
