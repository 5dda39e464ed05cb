"""Bulk jobs in the journal's SQLite file: a job, and every number's progress.

A job is one operation (status or unsubscribe) over the lines of one paste,
for one campaign. Every line of the paste is an item, in paste order; lines
that cannot be sent (invalid, duplicate) are items too, ``skipped``, so that
an export shows the whole paste.

Item status (:class:`ItemStatus`): ``pending`` → ``in_flight`` → ``done``
(outcome ok or failed) or ``unknown`` (an unsubscribe whose outcome is
unknown); ``skipped`` for unusable lines. Job state: :class:`JobState`.

What is durable when, and why that is enough for exactly-once:

* Items are inserted ``pending`` in one transaction when the job is created.
* Before an unsubscribe leaves, its item is marked ``in_flight`` in its own
  committed transaction, and then :meth:`Service.unsubscribe` writes the
  journal's ``attempted`` row (also committed) before sending.
* Results are written in batches (every ~100 ms). A crash can lose the last
  batch; an unsubscribe item then still says ``in_flight``, and its journal row
  (found by job id and MSISDN) tells what really happened: a final outcome is
  adopted, anything else is re-checked by status before anything is resent.
* Status items are never marked ``in_flight`` in the database (a status call
  changes nothing, so running it again after a crash is harmless), and their
  journal rows are written with the batch, in the same transaction.

A job row carries the pid, host and process start time of the process
running it, so a job left ``running`` by a dead process can be told from a
live one (:meth:`JobStore.interrupted_jobs`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mobitui.core.config import Campaign, Route
from mobitui.core.journal import ATTEMPTED, Journal, _now
from mobitui.core.msisdn import Parsed, Verdict
from mobitui.core.paste import Entry, EntryVerdict
from mobitui.core.results import Operation, Outcome, Result


class JobState(StrEnum):
    """A job's state, as stored in ``jobs.state`` (the values are on disk: never change one)."""

    RUNNING = "running"  # a process owns it (pid, host, start time); or it died and is not yet seen so
    DONE = "done"  # every number finished
    CANCELLED = "cancelled"  # stopped by the operator; resumable
    INTERRUPTED = "interrupted"  # its process died, or its answers could not all be written; resumable

    @property
    def resumable(self) -> bool:
        return self in (JobState.CANCELLED, JobState.INTERRUPTED)


class ItemStatus(StrEnum):
    """A number's progress in a job, as stored in ``job_items.status`` (values on disk)."""

    PENDING = "pending"  # not sent yet
    IN_FLIGHT = "in_flight"  # an unsubscribe committed as leaving; its journal row says what happened
    DONE = "done"  # answered: outcome ok or failed
    UNKNOWN = "unknown"  # an unsubscribe whose outcome is unknown: re-checked before anything is resent
    SKIPPED = "skipped"  # a line that is not sent (invalid, duplicate)


# A job on another host (a journal on a shared disk) cannot be probed by pid:
# it counts as dead when it has not written a heartbeat for this long.
STALE_AFTER = 300.0
HEARTBEAT_EVERY = 5.0
PAGE = 500


class JobError(Exception):
    """A job cannot be found or taken over; the message says why."""


@dataclass(frozen=True, slots=True)
class Counts:
    """Items by status; done items by outcome (ok/failed) and by state.

    An unsubscribe whose outcome is unknown is not done: it is counted under
    ``status["unknown"]`` only.
    """

    status: dict[str, int] = field(default_factory=dict)
    outcome: dict[str, int] = field(default_factory=dict)
    state: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, dict[str, int]]:
        return {"status": self.status, "outcome": self.outcome, "state": self.state}

    @classmethod
    def from_json(cls, data: Any) -> Counts:
        data = data if isinstance(data, dict) else {}
        return cls(dict(data.get("status") or {}), dict(data.get("outcome") or {}), dict(data.get("state") or {}))


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: int
    created_at: str
    updated_at: str
    finished_at: str | None
    os_user: str | None
    host: str | None
    pid: int | None
    campaign_id: str
    campaign_name: str | None
    operation: Operation
    route: str
    state: JobState
    concurrency: int
    total: int  # numbers that are sent (usable, not duplicates)
    lines: int  # items, skipped ones included
    source: str | None
    counts: Counts

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "finished_at": self.finished_at,
            "operator": f"{self.os_user}@{self.host}",
            "pid": self.pid,
            "campaign_id": self.campaign_id,
            "campaign_name": self.campaign_name,
            "operation": self.operation.value,
            "route": self.route,
            "state": self.state.value,
            "concurrency": self.concurrency,
            "total": self.total,
            "lines": self.lines,
            "source": self.source,
            "counts": self.counts.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Item:
    position: int
    msisdn: str
    status: ItemStatus


@dataclass(frozen=True, slots=True)
class ItemUpdate:
    """A finished item to write; ``journal``: its result is not in the journal yet."""

    position: int
    status: ItemStatus
    result: Result
    note: str | None = None
    journal: bool = False


def _proc_start(pid: int) -> str | None:
    """The kernel's start time of a process (Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


# line, raw, msisdn or None, verdict, reason, line of the first occurrence (duplicates only)
EntryRow = tuple[int, str, "str | None", str, str, "int | None"]


def entry_rows(numbers: Iterable[Entry | str | tuple[Any, ...]]) -> Iterator[EntryRow]:
    """A job's lines as rows to store: (line, raw, msisdn or None, verdict, reason,
    duplicate_of). Entries come from :func:`mobitui.core.paste.read`, whose
    ``duplicate_of`` (the line of the first occurrence) is carried as it is; plain
    strings are taken as MSISDNs, line numbers counted from 1; tuples are rows
    already made (a job handed to another process), of 6 fields or of the 5 before
    ``duplicate_of`` was carried. Raises nothing."""
    seen: dict[str, int] = {}
    for i, n in enumerate(numbers, start=1):
        if isinstance(n, (tuple, list)):
            line, raw, msisdn, verdict, reason, *rest = n
            first = rest[0] if rest else None
            if msisdn:
                seen.setdefault(str(msisdn), int(line))
            yield (
                int(line),
                str(raw),
                (str(msisdn) if msisdn else None),
                str(verdict),
                str(reason),
                None if first is None else int(first),
            )
        elif isinstance(n, Entry):
            if n.usable:
                seen.setdefault(n.msisdn, n.line)  # type: ignore[arg-type]
                yield n.line, n.raw, n.msisdn, n.verdict, n.reason, None
            else:
                yield n.line, n.raw, None, n.verdict, n.reason, n.duplicate_of
        elif n in seen:
            yield i, n, None, "duplicate", "duplicate of an earlier number", seen[n]
        else:
            seen[n] = i
            yield i, n, n, "ok", "", None


class JobStore:
    """Jobs and their items, on the journal's connection (same file, same WAL).

    The tables are the journal's (:mod:`mobitui.core.schema`); making a store runs
    no SQL. Methods raise :class:`~mobitui.core.schema.JournalFault` when the file
    cannot be used.
    """

    def __init__(self, journal: Journal):
        self.journal = journal
        self.db: sqlite3.Connection = journal.db
        self._host = journal.operator.host

    # -- creating and owning -------------------------------------------------
    def create(
        self,
        campaign: Campaign,
        operation: Operation,
        numbers: Iterable[Entry | str | tuple[Any, ...]],
        concurrency: int,
        source: str | None = None,
    ) -> int:
        """One transaction: the job row and every item, ``pending`` or ``skipped``."""
        op = self.journal.operator
        route = (Route.SUBSCRIPTION_API if operation is Operation.STATUS else campaign.unsubscribe_via).value
        now = _now()
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            cur = db.execute(
                "INSERT INTO jobs (created_at, updated_at, heartbeat, os_user, host, ssh_client, pid,"
                " pid_start, campaign_id, campaign_name, operation, route, state, concurrency, total,"
                " lines, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,?)",
                (
                    now,
                    now,
                    time.time(),
                    op.user,
                    op.host,
                    op.ssh_client,
                    os.getpid(),
                    _proc_start(os.getpid()),
                    campaign.campaign_id,
                    campaign.name,
                    operation.value,
                    route,
                    JobState.RUNNING.value,
                    concurrency,
                    source,
                ),
            )
            job_id = int(cur.lastrowid or 0)
            rows = (
                (
                    job_id,
                    pos,
                    line,
                    raw,
                    msisdn,
                    verdict,
                    reason,
                    first,
                    ItemStatus.PENDING.value if msisdn else ItemStatus.SKIPPED.value,
                )
                for pos, (line, raw, msisdn, verdict, reason, first) in enumerate(entry_rows(numbers))
            )
            db.executemany(
                "INSERT INTO job_items (job_id, position, line, raw, msisdn, verdict, reason, duplicate_of,"
                " status) VALUES (?,?,?,?,?,?,?,?,?)",
                rows,
            )
            db.execute(
                "UPDATE jobs SET lines=(SELECT count(*) FROM job_items WHERE job_id=?1),"
                " total=(SELECT count(*) FROM job_items WHERE job_id=?1 AND status!='skipped')"
                " WHERE id=?1",
                (job_id,),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.save_counts(job_id, self.count(job_id))
        return job_id

    def _owner_alive(self, row: sqlite3.Row) -> bool:
        if row["host"] == self._host and row["pid"] is not None:
            if row["pid"] == os.getpid():
                return row["pid_start"] == _proc_start(os.getpid())
            if not _pid_alive(row["pid"]):
                return False
            start = _proc_start(row["pid"])
            return start is None or row["pid_start"] is None or start == row["pid_start"]
        return time.time() - float(row["heartbeat"]) < STALE_AFTER

    def interrupt(self, job_id: int) -> None:
        """The job's run has died: its in-flight items become 'unknown', the job 'interrupted'."""
        self.db.execute(
            "UPDATE job_items SET status='unknown', note=? WHERE job_id=? AND status='in_flight'",
            ("interrupted while in flight: outcome unknown until re-checked", job_id),
        )
        self.db.execute(
            "UPDATE jobs SET state='interrupted', updated_at=?, counts=? WHERE id=?",
            (_now(), json.dumps(self.count(job_id).to_json()), job_id),
        )

    def claim(self, job_id: int, concurrency: int | None = None) -> JobInfo:
        """Take a job over for this process (resume); refuses a job that is still running."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            if row is None:
                raise JobError(f"no job {job_id} in the journal")
            if row["state"] == JobState.RUNNING.value:
                if self._owner_alive(row) and row["pid"] != os.getpid():
                    raise JobError(
                        f"job {job_id} is still running (pid {row['pid']} on {row['host']}); it cannot be resumed twice"
                    )
                self.interrupt(job_id)
            db.execute(
                "UPDATE jobs SET state='running', finished_at=NULL, updated_at=?, heartbeat=?,"
                " os_user=?, host=?, ssh_client=?, pid=?, pid_start=?, concurrency=? WHERE id=?",
                (
                    _now(),
                    time.time(),
                    self.journal.operator.user,
                    self._host,
                    self.journal.operator.ssh_client,
                    os.getpid(),
                    _proc_start(os.getpid()),
                    concurrency or row["concurrency"],
                    job_id,
                ),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        info = self.get(job_id)
        assert info is not None
        return info

    def interrupted_jobs(self) -> list[JobInfo]:
        """Jobs a dead process left 'running' are marked 'interrupted'; all interrupted jobs."""
        db = self.db
        for row in db.execute("SELECT * FROM jobs WHERE state='running'").fetchall():
            if self._owner_alive(row):
                continue
            db.execute("BEGIN IMMEDIATE")
            try:
                again = db.execute("SELECT * FROM jobs WHERE id=?", (row["id"],)).fetchone()
                if again["state"] == JobState.RUNNING.value and not self._owner_alive(again):
                    self.interrupt(row["id"])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return self.list(states=(JobState.INTERRUPTED,))

    def heartbeat(self, job_id: int, counts: Counts) -> bool:
        """Still ours? False when another process has taken the job over."""
        cur = self.db.execute(
            "UPDATE jobs SET heartbeat=?, updated_at=?, counts=? WHERE id=? AND state='running' AND pid=? AND host=?",
            (time.time(), _now(), json.dumps(counts.to_json()), job_id, os.getpid(), self._host),
        )
        return cur.rowcount == 1

    def finish(self, job_id: int, state: JobState, counts: Counts) -> None:
        now = _now()
        self.db.execute(
            "UPDATE jobs SET state=?, updated_at=?, finished_at=?, counts=? WHERE id=?",
            (state.value, now, now if state is JobState.DONE else None, json.dumps(counts.to_json()), job_id),
        )

    def save_counts(self, job_id: int, counts: Counts) -> None:
        self.db.execute("UPDATE jobs SET counts=? WHERE id=?", (json.dumps(counts.to_json()), job_id))

    # -- reading -------------------------------------------------------------
    @staticmethod
    def _info(row: sqlite3.Row) -> JobInfo:
        return JobInfo(
            id=row["id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            finished_at=row["finished_at"],
            os_user=row["os_user"],
            host=row["host"],
            pid=row["pid"],
            campaign_id=row["campaign_id"],
            campaign_name=row["campaign_name"],
            operation=Operation(row["operation"]),
            route=row["route"],
            state=JobState(row["state"]),
            concurrency=row["concurrency"],
            total=row["total"],
            lines=row["lines"],
            source=row["source"],
            counts=Counts.from_json(json.loads(row["counts"]) if row["counts"] else None),
        )

    def get(self, job_id: int) -> JobInfo | None:
        row = self.db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return None if row is None else self._info(row)

    def list(self, limit: int = 50, states: Iterable[JobState] | None = None) -> list[JobInfo]:
        """Newest first."""
        if states is None:
            rows = self.db.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,))
        else:
            wanted = [s.value for s in states]
            marks = ",".join("?" * len(wanted))
            rows = self.db.execute(
                f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY id DESC LIMIT ?", (*wanted, limit)
            )
        return [self._info(r) for r in rows.fetchall()]

    def count(self, job_id: int) -> Counts:
        status: dict[str, int] = {s.value: 0 for s in ItemStatus}
        outcome: dict[str, int] = {}
        state: dict[str, int] = {}
        for st, out, sub, n in self.db.execute(
            "SELECT status, outcome, state, count(*) FROM job_items WHERE job_id=? GROUP BY status, outcome, state",
            (job_id,),
        ):
            status[st] = status.get(st, 0) + n
            if st == ItemStatus.DONE.value and out:
                outcome[out] = outcome.get(out, 0) + n
                if sub and out == "ok":  # counts by state are of answers that succeeded
                    state[sub] = state.get(sub, 0) + n
        return Counts(status, outcome, state)

    def items(self, job_id: int, statuses: Iterable[ItemStatus]) -> Iterator[Item]:
        """Items in paste order, read a page at a time (no cursor held across writes)."""
        wanted = [s.value for s in statuses]
        marks = ",".join("?" * len(wanted))
        after = -1
        while True:
            page = self.db.execute(
                f"SELECT position, msisdn, status FROM job_items WHERE job_id=? AND position>?"
                f" AND status IN ({marks}) ORDER BY position LIMIT ?",
                (job_id, after, *wanted, PAGE),
            ).fetchall()
            if not page:
                return
            for pos, msisdn, st in page:
                yield Item(pos, msisdn, ItemStatus(st))
            after = page[-1][0]

    def rows(self, job_id: int) -> Iterator[dict[str, Any]]:
        """Every item as a dict, in paste order, a page at a time (for exports)."""
        after = -1
        while True:
            cur = self.db.execute(
                "SELECT * FROM job_items WHERE job_id=? AND position>? ORDER BY position LIMIT ?",
                (job_id, after, PAGE),
            )
            page = cur.fetchall()
            if not page:
                return
            for r in page:
                yield dict(r)
            after = page[-1]["position"]

    def last_action(self, job_id: int, msisdn: str, operation: Operation) -> dict[str, Any] | None:
        """The newest journal row of this job for this number and operation."""
        row = self.db.execute(
            "SELECT id, started_at, outcome, state, http_status, reference, error, route FROM actions"
            " WHERE msisdn=? AND job_id=? AND operation=? ORDER BY id DESC LIMIT 1",
            (msisdn, job_id, operation.value),
        ).fetchone()
        return None if row is None else dict(row)

    # -- writing progress ----------------------------------------------------
    def mark_in_flight(self, job_id: int, position: int) -> None:
        """Committed before the request leaves (autocommit connection)."""
        self.db.execute("UPDATE job_items SET status='in_flight' WHERE job_id=? AND position=?", (job_id, position))

    def record(self, job_id: int, campaign: Campaign, updates: Sequence[ItemUpdate]) -> None:
        """A batch of finished items in one transaction, each linked to its journal row.

        A status answer the engine got straight from the client is journalled
        here, in the same transaction as its item: one commit per batch instead
        of two per number, and the item and its journal row can never disagree.
        """
        if not updates:
            return
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = []
            for u in updates:
                action = self.journal.record(campaign, u.result, job_id) if u.journal else None
                r = u.result
                rows.append(
                    (
                        u.status.value,
                        r.outcome.value,
                        r.state,
                        r.route.value,
                        r.http_status,
                        r.reference,
                        r.error,
                        u.note,
                        action,
                        job_id,
                        job_id,
                        u.position,
                    )
                )
            db.executemany(
                "UPDATE job_items SET status=?, outcome=?, state=?, route=?, http_status=?,"
                " reference=?, error=?, note=?, action_id=coalesce(?, (SELECT id FROM actions"
                " WHERE msisdn=job_items.msisdn AND job_id=? ORDER BY id DESC LIMIT 1))"
                " WHERE job_id=? AND position=?",
                rows,
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def entry_of(item: dict[str, Any]) -> Entry:
    """A stored line of a job as a paste entry again (a job resumed on an empty screen)."""
    verdict, reason = item["verdict"] or "ok", item["reason"] or ""
    duplicate_of = None
    # A stored word; the line of the first occurrence, as the paste parser found it.
    if verdict == EntryVerdict.DUPLICATE:
        duplicate_of = item["duplicate_of"] if item.get("duplicate_of") is not None else 0
    kind = Verdict(verdict) if verdict in ("ok", "warning", "invalid") else Verdict.INVALID
    return Entry(item["line"], item["raw"], Parsed(item["raw"], item["msisdn"], kind, reason), duplicate_of)


def result_of(info: JobInfo, item: dict[str, Any]) -> Result | None:
    """A stored item's answer, or None while it has none."""
    if not item["msisdn"] or item["status"] not in (ItemStatus.DONE, ItemStatus.UNKNOWN) or not item["outcome"]:
        return None
    return Result(
        item["msisdn"],
        info.campaign_id,
        info.operation,
        Route(item["route"] or info.route),
        Outcome(item["outcome"]),
        state=item["state"],
        http_status=item["http_status"],
        reference=item["reference"],
        error=item["error"],
    )


def unfinished_action(action: dict[str, Any] | None) -> bool:
    """True when a journal row does not prove how an unsubscribe ended."""
    return action is None or action["outcome"] in (ATTEMPTED, "unknown")
