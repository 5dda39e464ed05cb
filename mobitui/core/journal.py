"""The audit journal: every action, in SQLite (WAL), surviving crashes.

A mutating call is written *before* it is sent (outcome ``attempted``) and
completed after; a crash between the two leaves "attempted, outcome unknown",
never nothing. Reads are written once, when the answer is in. Exchanges are
stored as the recorder produced them, so already redacted.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mobitui.core import paths
from mobitui.core.results import Result
from mobitui.core.config import Campaign

ATTEMPTED = "attempted"
# How long a write waits for a lock another connection holds (SQLite's busy timeout), seconds.
BUSY_TIMEOUT = float(os.environ.get("MOBITUI_JOURNAL_BUSY_TIMEOUT") or 10.0)
SCHEMA_VERSION = 1
MAX_STORED_BODY = 256 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    id            INTEGER PRIMARY KEY,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    os_user       TEXT,
    host          TEXT,
    ssh_client    TEXT,
    campaign_id   TEXT NOT NULL,
    campaign_name TEXT,
    msisdn        TEXT NOT NULL,
    operation     TEXT NOT NULL,
    route         TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    state         TEXT,
    http_status   INTEGER,
    reference     TEXT,
    error         TEXT,
    exchanges     TEXT,
    job_id        INTEGER
);
CREATE INDEX IF NOT EXISTS actions_msisdn ON actions (msisdn, id);
CREATE INDEX IF NOT EXISTS actions_job ON actions (job_id, id);
"""


class InFlight(Exception):
    """Another unsubscribe of this number in this campaign is in flight (in another job,
    process or console); nothing was written and nothing may be sent. The message says
    where and since when."""


class RecentlyUnsubscribed(InFlight):
    """This number was unsubscribed in this campaign a moment ago (accepted, or with an
    outcome that is unknown); nothing was written and nothing is sent unless asked again."""


@dataclass(frozen=True, slots=True)
class Operator:
    user: str
    host: str
    ssh_client: str | None

    @classmethod
    def current(cls) -> Operator:
        try:
            user = getpass.getuser()
        except Exception:  # no passwd entry in some containers
            user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
        ssh = os.environ.get("SSH_CLIENT") or os.environ.get("SSH_CONNECTION") or ""
        return cls(user, socket.gethostname(), ssh.split()[0] if ssh.strip() else None)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _ago(seconds: float) -> str:
    """The time ``seconds`` ago, in the journal's format (ISO, UTC, milliseconds)."""
    return datetime.fromtimestamp(time.time() - seconds, timezone.utc).isoformat(timespec="milliseconds")


def default_path(demo: bool = False) -> Path:
    base = paths.data_dir()
    return (base / "demo" if demo else base) / "journal.sqlite3"


def _exchanges_json(result: Result) -> str:
    out = []
    for ex in result.exchanges:
        d = ex.to_dict()
        body = d.get("response_body") or ""
        if len(body) > MAX_STORED_BODY:
            d["response_body"] = body[:MAX_STORED_BODY]
            d["journal_note"] = f"body cut to {MAX_STORED_BODY} characters in the journal"
        out.append(d)
    return json.dumps(out, ensure_ascii=False)


def _answer(result: Result) -> tuple[Any, ...]:
    """outcome, state, http_status, reference, error, exchanges: how a call ended."""
    return (result.outcome.value, result.state, result.http_status, result.reference, result.error,
            _exchanges_json(result))


class Journal:
    def __init__(self, path: Path | str, operator: Operator | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.operator = operator or Operator.current()
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        try:
            os.chmod(self.path, 0o600)
        except OSError:
            pass

    def close(self) -> None:
        self._db.close()

    @property
    def db(self) -> sqlite3.Connection:
        return self._db

    def begin(
        self,
        campaign: Campaign,
        msisdn: str,
        operation: str,
        route: str,
        job_id: int | None = None,
        *,
        exclusive_for: float | None = None,
        recent_for: float | None = None,
    ) -> int:
        """Write the attempt before the request leaves; returns the row id.

        With ``exclusive_for`` (seconds), the row is also the claim of (campaign, msisdn)
        for this operation, in one ``BEGIN IMMEDIATE`` transaction, so at once across
        jobs, connections and processes: an ``attempted`` row of the same campaign,
        number and operation started less than ``exclusive_for`` seconds ago by anyone
        else raises :class:`InFlight`; with ``recent_for`` too, one accepted (``ok``) or
        of unknown outcome started less than ``recent_for`` seconds ago raises
        :class:`RecentlyUnsubscribed`. Then nothing is written. Rows of the same
        ``job_id`` do not count: a job settles its own.
        Raises ``sqlite3.Error`` when the journal cannot be written.
        """
        op = self.operator
        now = _now()
        values = (
            now, op.user, op.host, op.ssh_client, campaign.campaign_id, campaign.name,
            msisdn, operation, route, ATTEMPTED, job_id,
        )
        insert = (
            "INSERT INTO actions (started_at, os_user, host, ssh_client, campaign_id, campaign_name,"
            " msisdn, operation, route, outcome, job_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        )
        if exclusive_for is None:
            return int(self._db.execute(insert, values).lastrowid or 0)
        in_flight_since = _ago(exclusive_for)
        since = min(in_flight_since, _ago(recent_for or 0.0))
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            others = db.execute(
                "SELECT started_at, job_id, os_user, host, outcome FROM actions WHERE msisdn=?1 AND"
                " campaign_id=?2 AND operation=?3 AND outcome IN (?4, 'ok', 'unknown')"
                " AND started_at>?5 AND (?6 IS NULL OR job_id IS NOT ?6) ORDER BY id DESC LIMIT 20",
                (msisdn, campaign.campaign_id, operation, ATTEMPTED, since, job_id),
            ).fetchall()
            def told(other: sqlite3.Row) -> str:
                where = f"job {other['job_id']}" if other["job_id"] is not None else "a single unsubscribe"
                return f"at {other['started_at'][11:19]} UTC ({where}, {other['os_user']}@{other['host']})"

            for other in others:
                if other["outcome"] == ATTEMPTED and other["started_at"] > in_flight_since:
                    raise InFlight(
                        f"an unsubscribe of {msisdn} in {campaign.name} is already in flight, sent {told(other)}"
                    )
            if recent_for and others:
                other = others[0]
                said = "was accepted" if other["outcome"] == "ok" else "has an unknown outcome"
                raise RecentlyUnsubscribed(
                    f"an unsubscribe of {msisdn} in {campaign.name} {said}, sent {told(other)}"
                )
            row = int(db.execute(insert, values).lastrowid or 0)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return row

    def recent_unsubscribes(self, campaign_id: str, msisdn: str, within: float) -> list[dict[str, Any]]:
        """This number's unsubscribes in this campaign started in the last ``within``
        seconds, newest first, whatever their outcome (for a warning before another)."""
        since = _ago(within)
        rows = self._db.execute(
            "SELECT * FROM actions WHERE msisdn=? AND campaign_id=? AND operation='unsubscribe'"
            " AND started_at>? ORDER BY id DESC LIMIT 20",
            (msisdn, campaign_id, since),
        ).fetchall()
        return [self._row(r) for r in rows]

    def finish(self, row_id: int, result: Result) -> None:
        self._db.execute(
            "UPDATE actions SET finished_at=?, outcome=?, state=?, http_status=?, reference=?,"
            " error=?, exchanges=? WHERE id=?",
            (_now(), *_answer(result), row_id),
        )

    def record(self, campaign: Campaign, result: Result, job_id: int | None = None) -> int:
        """One row for a call that changes nothing (status): written whole, in one statement."""
        op = self.operator
        now = _now()
        cur = self._db.execute(
            "INSERT INTO actions (started_at, finished_at, os_user, host, ssh_client, campaign_id,"
            " campaign_name, msisdn, operation, route, outcome, state, http_status, reference, error,"
            " exchanges, job_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                now, now, op.user, op.host, op.ssh_client, campaign.campaign_id, campaign.name,
                result.msisdn, result.operation.value, result.route.value, *_answer(result), job_id,
            ),
        )
        return int(cur.lastrowid or 0)

    def history(self, msisdn: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT * FROM actions WHERE msisdn=? ORDER BY id DESC LIMIT ?", (msisdn, limit)
        ).fetchall()
        return [self._row(r) for r in rows]

    def rows(self, where: str = "1", params: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        for r in self._db.execute(f"SELECT * FROM actions WHERE {where} ORDER BY id", params):
            yield self._row(r)

    @staticmethod
    def _row(r: sqlite3.Row) -> dict[str, Any]:
        d = dict(r)
        d["exchanges"] = json.loads(d["exchanges"]) if d.get("exchanges") else []
        if d["outcome"] == ATTEMPTED:
            d["outcome_text"] = "attempted, outcome unknown (no answer was recorded)"
        else:
            d["outcome_text"] = d["outcome"]
        return d

