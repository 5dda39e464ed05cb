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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mobitui.core import paths
from mobitui.core.results import Result
from mobitui.core.config import Campaign

ATTEMPTED = "attempted"
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
        self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
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
    ) -> int:
        """Write the attempt before the request leaves; returns the row id."""
        op = self.operator
        cur = self._db.execute(
            "INSERT INTO actions (started_at, os_user, host, ssh_client, campaign_id, campaign_name,"
            " msisdn, operation, route, outcome, job_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                _now(),
                op.user,
                op.host,
                op.ssh_client,
                campaign.campaign_id,
                campaign.name,
                msisdn,
                operation,
                route,
                ATTEMPTED,
                job_id,
            ),
        )
        return int(cur.lastrowid or 0)

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

