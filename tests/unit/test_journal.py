"""The audit journal: a mutating call's row completed and redacted, history per number, the operator
(the kill -9 between the two writes: tests/functional/test_journal_kill.py)."""

from __future__ import annotations

from mobitui.core.client import Operation, Outcome, Result
from mobitui.core.config import Route, parse, EXAMPLE
from mobitui.core.journal import Journal, Operator
from mobitui.core.recorder import Recorder

CFG = parse(EXAMPLE)
CAMPAIGN = CFG.campaigns[0]


def test_finish_completes_the_row_with_the_redacted_exchange(tmp_path):
    j = Journal(tmp_path / "j.sqlite3", Operator("ops", "bastion", "10.1.2.3"))
    rec = Recorder(["SECRET-KEY-12345"])
    ex = rec.record(started=0, method="GET", url="https://gw/x?PASSWORD=SECRET-KEY-12345", status=200,
                    response_body="MT-aabbccddeeff00112233445566778899")
    row = j.begin(CAMPAIGN, "254700000101", "unsubscribe", "mt-stop")
    r = Result("254700000101", CAMPAIGN.campaign_id, Operation.UNSUBSCRIBE, Route.MT_STOP, Outcome.OK,
               state="stop-sent", http_status=200, reference="MT-aabbccddeeff00112233445566778899",
               exchanges=[ex])
    j.finish(row, r)
    (got,) = j.history("254700000101")
    assert got["outcome"] == "ok" and got["reference"].startswith("MT-")
    assert got["os_user"] == "ops" and got["ssh_client"] == "10.1.2.3"
    assert got["exchanges"][0]["url"] == "https://gw/x?PASSWORD=***"
    assert b"SECRET-KEY-12345" not in (tmp_path / "j.sqlite3").read_bytes()


def test_history_is_newest_first_and_per_number(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    for state in ("active", "onhold", "unsub"):
        r = Result("254700000101", CAMPAIGN.campaign_id, Operation.STATUS, Route.SUBSCRIPTION_API,
                   Outcome.OK, state=state)
        j.record(CAMPAIGN, r)
    j.record(CAMPAIGN, Result("254700000102", CAMPAIGN.campaign_id, Operation.STATUS,
                              Route.SUBSCRIPTION_API, Outcome.OK, state="nf"))
    assert [r["state"] for r in j.history("254700000101")] == ["unsub", "onhold", "active"]


def test_operator_reads_ssh_client(monkeypatch):
    monkeypatch.setenv("SSH_CLIENT", "192.0.2.7 53422 22")
    assert Operator.current().ssh_client == "192.0.2.7"
    monkeypatch.delenv("SSH_CLIENT")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    assert Operator.current().ssh_client is None
