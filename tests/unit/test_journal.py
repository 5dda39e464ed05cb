"""The audit journal: a mutating call's row completed and redacted, history per number, the operator
(the kill -9 between the two writes: tests/functional/test_journal_kill.py)."""

from __future__ import annotations

from mobitui.core.client import Operation, Outcome, Result
from mobitui.core.config import EXAMPLE, Route, parse
from mobitui.core.journal import Journal, Operator
from mobitui.core.recorder import Recorder

CFG = parse(EXAMPLE)
CAMPAIGN = CFG.campaigns[0]


def test_finish_completes_the_row_with_the_redacted_exchange(tmp_path):
    j = Journal(tmp_path / "j.sqlite3", Operator("ops", "bastion", "10.1.2.3"))
    rec = Recorder(["SECRET-KEY-12345"])
    ex = rec.record(
        started=0,
        method="GET",
        url="https://gw/x?PASSWORD=SECRET-KEY-12345",
        status=200,
        response_body="MT-aabbccddeeff00112233445566778899",
    )
    row = j.begin(CAMPAIGN, "254700000101", "unsubscribe", "mt-stop")
    r = Result(
        "254700000101",
        CAMPAIGN.campaign_id,
        Operation.UNSUBSCRIBE,
        Route.MT_STOP,
        Outcome.OK,
        state="stop-sent",
        http_status=200,
        reference="MT-aabbccddeeff00112233445566778899",
        exchanges=[ex],
    )
    j.finish(row, r)
    (got,) = j.history("254700000101")
    assert got["outcome"] == "ok" and got["reference"].startswith("MT-")
    assert got["os_user"] == "ops" and got["ssh_client"] == "10.1.2.3"
    assert got["exchanges"][0]["url"] == "https://gw/x?PASSWORD=***"
    assert b"SECRET-KEY-12345" not in (tmp_path / "j.sqlite3").read_bytes()


def test_history_is_newest_first_and_per_number(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    for state in ("active", "onhold", "unsub"):
        r = Result(
            "254700000101", CAMPAIGN.campaign_id, Operation.STATUS, Route.SUBSCRIPTION_API, Outcome.OK, state=state
        )
        j.record(CAMPAIGN, r)
    j.record(
        CAMPAIGN,
        Result("254700000102", CAMPAIGN.campaign_id, Operation.STATUS, Route.SUBSCRIPTION_API, Outcome.OK, state="nf"),
    )
    assert [r["state"] for r in j.history("254700000101")] == ["unsub", "onhold", "active"]


def test_operator_reads_ssh_client(monkeypatch):
    monkeypatch.setenv("SSH_CLIENT", "192.0.2.7 53422 22")
    assert Operator.current().ssh_client == "192.0.2.7"
    monkeypatch.delenv("SSH_CLIENT")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    assert Operator.current().ssh_client is None


def _live_checks(j: Journal, state: str, n: int) -> None:
    for _ in range(n):
        j.record(
            CAMPAIGN,
            Result(
                "254700000101", CAMPAIGN.campaign_id, Operation.STATUS, Route.SUBSCRIPTION_API, Outcome.OK, state=state
            ),
        )


def test_history_entries_merge_repeated_unchanged_checks_so_the_unsubscribe_stays_in_view(tmp_path):
    """A console left on a number re-checks it every refresh_interval seconds; each
    check is journalled (every call is), but 50 of them must not hide the stop."""
    db = tmp_path / "j.sqlite3"
    j = Journal(db, Operator("ops", "bastion", None))
    _live_checks(j, "active", 61)
    row = j.begin(CAMPAIGN, "254700000101", "unsubscribe", "mt-stop")
    j.finish(
        row,
        Result(
            "254700000101",
            CAMPAIGN.campaign_id,
            Operation.UNSUBSCRIBE,
            Route.MT_STOP,
            Outcome.OK,
            state="stop-sent",
            http_status=200,
            reference="MT-00",
        ),
    )
    _live_checks(j, "unsub", 59)
    _live_checks(Journal(db, Operator("lead", "bastion", None)), "unsub", 1)  # another operator: its own entry
    _live_checks(j, "unsub", 1)

    assert len(j.history("254700000101", 1000)) == 123  # every call is still in the journal
    assert "unsubscribe" not in [r["operation"] for r in j.history("254700000101")]  # what was seen before

    got = j.history_entries("254700000101")
    assert [(r["operation"], r["state"], r["os_user"], r["repeats"]) for r in got] == [
        ("status", "unsub", "ops", 1),
        ("status", "unsub", "lead", 1),
        ("status", "unsub", "ops", 59),
        ("unsubscribe", "stop-sent", "ops", 1),
        ("status", "active", "ops", 61),
    ]
    assert got[2]["first_started_at"] < got[2]["started_at"]
    assert [r["operation"] for r in j.history_entries("254700000101", limit=4)][-1] == "unsubscribe"


def test_history_entries_merge_a_script_polling_status_one_job_at_a_time(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    for job in (1, 2, 3):  # `mobitui status N` runs as a job of one number
        j.record(
            CAMPAIGN,
            Result(
                "254700000101",
                CAMPAIGN.campaign_id,
                Operation.STATUS,
                Route.SUBSCRIPTION_API,
                Outcome.OK,
                state="onhold",
            ),
            job_id=job,
        )
    (got,) = j.history_entries("254700000101")
    assert got["repeats"] == 3 and got["job_id"] == 3


def test_history_entries_never_merge_unsubscribes_or_a_changed_answer(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    for _ in range(2):
        row = j.begin(CAMPAIGN, "254700000101", "unsubscribe", "mt-stop")
        j.finish(
            row,
            Result(
                "254700000101",
                CAMPAIGN.campaign_id,
                Operation.UNSUBSCRIBE,
                Route.MT_STOP,
                Outcome.OK,
                state="stop-sent",
                http_status=200,
                reference="MT-00",
            ),
        )
    _live_checks(j, "active", 1)
    _live_checks(j, "onhold", 1)
    _live_checks(j, "active", 1)
    got = j.history_entries("254700000101")
    assert [(r["operation"], r["state"], r["repeats"]) for r in got] == [
        ("status", "active", 1),
        ("status", "onhold", 1),
        ("status", "active", 1),
        ("unsubscribe", "stop-sent", 1),
        ("unsubscribe", "stop-sent", 1),
    ]
