"""The audit journal: every action, in SQLite (WAL), surviving crashes.

A mutating call is written *before* it is sent (outcome ``attempted``) and
completed after; a crash between the two leaves "attempted, outcome unknown",
never nothing. Reads are written once, when the answer is in. Exchanges are
stored as the recorder produced them, so already redacted.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from mobitui.core import paths, schema
from mobitui.core.config import Campaign
from mobitui.core.results import Result
from mobitui.core.schema import SCHEMA_VERSION, JournalFault, JournalFaultKind  # noqa: F401 - part of this module's API

T = TypeVar("T")

logger = logging.getLogger(__name__)
ATTEMPTED = "attempted"
MAX_STORED_BODY = 256 * 1024


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
            logger.debug("no user name for uid %s", getattr(os, "getuid", lambda: "?")(), exc_info=True)
            user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
        ssh = os.environ.get("SSH_CLIENT") or os.environ.get("SSH_CONNECTION") or ""
        return cls(user, socket.gethostname(), ssh.split()[0] if ssh.strip() else None)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _ago(seconds: float) -> str:
    """The time ``seconds`` ago, in the journal's format (ISO, UTC, milliseconds)."""
    return datetime.fromtimestamp(time.time() - seconds, UTC).isoformat(timespec="milliseconds")


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
    return (
        result.outcome.value,
        result.state,
        result.http_status,
        result.reference,
        result.error,
        _exchanges_json(result),
    )


class Journal:
    """The audit journal on one connection, for the thread that made it.

    Opening makes the file private and brings its schema up to date
    (:func:`mobitui.core.schema.connect`). Every method raises
    :class:`JournalFault` when the file cannot be used (locked past
    ``timeout`` seconds, full, read-only, corrupt, its directory missing).
    """

    def __init__(
        self, path: Path | str, operator: Operator | None = None, timeout: float | None = None, read_only: bool = False
    ):
        self.path = Path(path)
        self.operator = operator or Operator.current()
        self.read_only = read_only
        self._db = schema.connect(self.path, schema.BUSY_TIMEOUT if timeout is None else timeout, read_only=read_only)

    def close(self) -> None:
        self._db.close()

    # Below this much free space a write is expected to fail: a journal found full
    # stays so until the disk has room again (a probe that writes nothing cannot tell).
    MIN_FREE_BYTES = 256 * 1024

    def check_writable(self) -> None:
        """Raise JournalFault unless a write could go through now: takes the write lock
        and gives it back (locked, read-only), and looks at the free space (full)."""
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("ROLLBACK")
        try:
            st = os.statvfs(self.path.parent)
        except (OSError, AttributeError):
            logger.debug("free space of %s unknown", self.path.parent, exc_info=True)
            return
        if st.f_bavail * st.f_frsize < self.MIN_FREE_BYTES:
            raise schema.fault(JournalFaultKind.FULL, self.path)

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
            now,
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
                raise RecentlyUnsubscribed(f"an unsubscribe of {msisdn} in {campaign.name} {said}, sent {told(other)}")
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
                now,
                now,
                op.user,
                op.host,
                op.ssh_client,
                campaign.campaign_id,
                campaign.name,
                result.msisdn,
                result.operation.value,
                result.route.value,
                *_answer(result),
                job_id,
            ),
        )
        return int(cur.lastrowid or 0)

    def history(self, msisdn: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT * FROM actions WHERE msisdn=? ORDER BY id DESC LIMIT ?", (msisdn, limit)
        ).fetchall()
        return [self._row(r) for r in rows]

    def history_entries(self, msisdn: str, limit: int = 50) -> list[dict[str, Any]]:
        """A number's journal for a reader, newest first: like :meth:`history`, except
        that a run of status checks which saw the same thing (same campaign, route,
        operator, outcome, state, HTTP status and error: the console's live refresh of
        an unchanged number, every ``ui.refresh_interval`` seconds, or a script that
        polls ``mobitui status``) is one entry, so that an unsubscribe is not pushed
        out of the last ``limit`` by them.

        Every row stays in the journal; each entry is its run's newest row, plus
        ``repeats`` (how many rows it stands for, 1 for most) and ``first_started_at``
        (when the oldest of them started); its ``job_id`` is the newest row's.
        Unsubscribes are never merged. At most ``limit`` entries.
        """
        out: list[dict[str, Any]] = []
        key: tuple[Any, ...] | None = None
        cur = self._db.execute("SELECT * FROM actions WHERE msisdn=? ORDER BY id DESC", (msisdn,))
        for r in cur:
            this = (
                r["campaign_id"],
                r["route"],
                r["os_user"],
                r["host"],
                r["ssh_client"],
                r["outcome"],
                r["state"],
                r["http_status"],
                r["error"],
            )
            if r["operation"] == "status" and out and key == this:
                out[-1]["repeats"] += 1
                out[-1]["first_started_at"] = r["started_at"]
                continue
            if len(out) == limit:
                break
            entry = self._row(r)
            entry["repeats"], entry["first_started_at"] = 1, r["started_at"]
            out.append(entry)
            key = this if r["operation"] == "status" else None
        cur.close()
        return out

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


class JournalThread:
    """The journal on a thread of its own, for a host whose event loop must never
    wait on the disk or on another process's lock (the console).

    Every call runs ``fn(journal, *args)`` on that thread, where the connection
    was made (a connection is never shared across threads). The journal is
    opened on first use and again after a fault, so a lock that is released, a
    disk that is freed or a directory that is made are picked up by the next
    call: no restart needed. A call that cannot reach the journal raises
    :class:`JournalFault`; :attr:`fault` is the last one seen (None once a call
    succeeds again).
    """

    def __init__(self, path: Path | str, operator: Operator | None = None, timeout: float | None = None):
        self.path = Path(path)
        self.operator = operator or Operator.current()
        self.timeout = timeout  # None: schema.BUSY_TIMEOUT
        self._journal: Journal | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="mobitui-journal")
        self._closed = threading.Event()

    def _run(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            if self._journal is None:
                self._journal = Journal(self.path, self.operator, self.timeout)
            value = fn(self._journal, *args)
        except JournalFault as exc:
            logger.debug("journal fault (%s) on %s", exc.kind, self.path, exc_info=True)
            if exc.kind is not JournalFaultKind.LOCKED and self._journal is not None:  # reopened next time
                self._journal.close()
                self._journal = None
            raise
        return value

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(journal, *args)`` on the journal's thread; a Future of its value."""
        if self._closed.is_set():
            f: Future[T] = Future()
            f.set_exception(schema.fault(JournalFaultKind.IO, self.path, detail="the journal was closed"))
            return f
        return self._pool.submit(self._run, fn, *args)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(journal, *args)`` on the journal's thread, awaited (raises JournalFault)."""
        import asyncio

        return await asyncio.wrap_future(self.submit(fn, *args))

    def close(self) -> None:
        """Close the connection on its thread and stop the thread (waits for calls queued)."""
        if self._closed.is_set():
            return

        def shut() -> None:
            if self._journal is not None:
                self._journal.close()
                self._journal = None

        self._pool.submit(shut)
        self._closed.set()
        self._pool.shutdown(wait=True)
