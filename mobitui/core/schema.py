"""The journal's SQLite file: its one owner.

Everything that touches the file's shape or its faults lives here:

* the schema of ``actions`` (the audit journal), ``jobs`` and ``job_items``
  (bulk jobs), as numbered migrations recorded in ``PRAGMA user_version``;
  :func:`connect` brings an older file up to date once, in one transaction,
  and refuses a file written by a newer mobitui. Store objects
  (:class:`~mobitui.core.journal.Journal`, :class:`~mobitui.core.jobs.JobStore`)
  run no DDL.
* the file's privacy: the directory is made 0700, and the database, its WAL
  and its shared-memory file are created 0600 *before* SQLite opens them (SQLite
  gives the WAL and SHM the mode of the database file), whatever the umask.
* its faults: every :class:`sqlite3.Error` and :class:`OSError` on the file
  becomes a :class:`JournalFault` whose message names the path, the cause and
  the way out (locked, full, read-only, corrupt, missing directory, too new).

A connection belongs to the thread that opened it (SQLite's default
``check_same_thread``); the console keeps its journal on a thread of its own
(:class:`~mobitui.core.journal.JournalThread`), so the busy timeout never runs
on its event loop.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from enum import StrEnum
from pathlib import Path
from typing import Any

from mobitui.core import private

# Seconds SQLite waits for another process's lock before giving up;
# $MOBITUI_JOURNAL_BUSY_TIMEOUT overrides (tests use a short one).
logger = logging.getLogger(__name__)
BUSY_TIMEOUT = float(os.environ.get("MOBITUI_JOURNAL_BUSY_TIMEOUT") or 10.0)

# Each entry brings the file from version i to i+1. Never edit one that has
# shipped: add the next. Files written before versioning carry user_version 1
# with `actions` only, or with `jobs` and `job_items` made on the fly as well:
# hence IF NOT EXISTS in migration 2.
MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: the audit journal
    """
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
    """,
    # 1 -> 2: bulk jobs and their items
    """
    CREATE TABLE IF NOT EXISTS jobs (
        id            INTEGER PRIMARY KEY,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        heartbeat     REAL NOT NULL,
        finished_at   TEXT,
        os_user       TEXT,
        host          TEXT,
        ssh_client    TEXT,
        pid           INTEGER,
        pid_start     TEXT,
        campaign_id   TEXT NOT NULL,
        campaign_name TEXT,
        operation     TEXT NOT NULL,
        route         TEXT NOT NULL,
        state         TEXT NOT NULL,
        concurrency   INTEGER NOT NULL,
        total         INTEGER NOT NULL,
        lines         INTEGER NOT NULL,
        source        TEXT,
        counts        TEXT
    );
    CREATE TABLE IF NOT EXISTS job_items (
        job_id      INTEGER NOT NULL,
        position    INTEGER NOT NULL,
        line        INTEGER,
        raw         TEXT,
        msisdn      TEXT,
        verdict     TEXT,
        reason      TEXT,
        status      TEXT NOT NULL,
        outcome     TEXT,
        state       TEXT,
        route       TEXT,
        http_status INTEGER,
        reference   TEXT,
        error       TEXT,
        note        TEXT,
        action_id   INTEGER,
        PRIMARY KEY (job_id, position)
    ) WITHOUT ROWID;
    """,
    # 2 -> 3: a duplicate line's first occurrence as data (it was only in the reason's
    # words); rows written before are filled in once from those words.
    """
    ALTER TABLE job_items ADD COLUMN duplicate_of INTEGER;
    UPDATE job_items SET duplicate_of = CAST(substr(reason, 19) AS INTEGER)
     WHERE verdict = 'duplicate' AND reason GLOB 'duplicate of line [0-9]*';
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class JournalFaultKind(StrEnum):
    """Why the journal file cannot be used. A ``StrEnum``: callers compare
    ``fault.kind`` with the bare word (``"locked"``), which keeps holding."""

    LOCKED = "locked"  # another process holds the lock: transient
    FULL = "full"
    READ_ONLY = "read-only"
    CORRUPT = "corrupt"
    MISSING_DIR = "missing-dir"
    TOO_NEW = "too-new"  # written by a newer mobitui
    IO = "io"


class JournalFault(sqlite3.OperationalError):
    """The journal file cannot be used right now; ``str()`` is the one message to show.

    An :class:`sqlite3.OperationalError`, so code that catches SQLite's errors
    catches these too.

    ``kind``: a :class:`JournalFaultKind` (a bare word is taken as the member it names).
    ``path``: the database file. ``transient``: worth retrying by itself (a lock
    held by another process).
    """

    def __init__(self, kind: JournalFaultKind | str, path: Path, cause: str, way_out: str):
        self.kind = JournalFaultKind(kind)
        self.path = path
        self.cause = cause
        self.way_out = way_out
        super().__init__(f"the journal {path} cannot be used: {cause}; {way_out}")

    @property
    def transient(self) -> bool:
        return self.kind is JournalFaultKind.LOCKED


_WAYS: dict[JournalFaultKind, tuple[str, str]] = {
    JournalFaultKind.LOCKED: (
        "another process holds its lock (another mobitui, a backup, an NFS lock)",
        "close that process or wait, then try again",
    ),
    JournalFaultKind.FULL: ("the disk is full", "free space on that disk, then try again"),
    JournalFaultKind.READ_ONLY: (
        "it is read-only here (file, directory or file system)",
        "make it writable, or point MOBITUI_DATA_DIR at a writable directory",
    ),
    JournalFaultKind.CORRUPT: (
        "it is not a readable SQLite database (damaged or not a journal)",
        "move it aside (keep it for the audit; `sqlite3 FILE .recover` may save rows) and mobitui starts a new one",
    ),
    JournalFaultKind.MISSING_DIR: (
        "its directory does not exist and cannot be made",
        "create the directory, or point MOBITUI_DATA_DIR at one that exists",
    ),
    JournalFaultKind.TOO_NEW: (
        "it was written by a newer mobitui (schema version {found}, this one knows {known})",
        "upgrade mobitui, or point MOBITUI_DATA_DIR elsewhere",
    ),
    JournalFaultKind.IO: ("the disk reported an I/O error ({detail})", "check the disk and try again"),
}


def fault(kind: JournalFaultKind | str, path: Path, **details: Any) -> JournalFault:
    """The fault of ``kind`` on the journal at ``path``, in words; ``details`` fill in
    the cause (``found``/``known`` for ``too-new``, ``detail`` for ``io``)."""
    kind = JournalFaultKind(kind)
    cause, way = _WAYS[kind]
    return JournalFault(kind, path, cause.format(**details), way)


def _writable_dir(directory: Path) -> bool:
    return os.access(directory, os.W_OK | os.X_OK)


# Mistakes in the program, not faults of the file: raised as they are.
_PROGRAM_ERRORS = (sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.IntegrityError)


def fault_of(exc: BaseException, path: Path) -> JournalFault:
    """What an exception raised on the journal file means, as a JournalFault."""
    if isinstance(exc, JournalFault):
        return exc
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return fault(JournalFaultKind.FULL, path)
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return fault(JournalFaultKind.READ_ONLY, path)
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return fault(JournalFaultKind.MISSING_DIR, path)
        return fault(JournalFaultKind.IO, path, detail=exc.strerror or type(exc).__name__)
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return fault(JournalFaultKind.LOCKED, path)
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return fault(JournalFaultKind.FULL, path)
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return fault(JournalFaultKind.READ_ONLY, path)
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return fault(JournalFaultKind.CORRUPT, path)
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        if not path.parent.is_dir():
            return fault(JournalFaultKind.MISSING_DIR, path)
        return fault(JournalFaultKind.READ_ONLY, path)
    if name.startswith("SQLITE_IOERR") or "disk i/o" in text:
        return fault(JournalFaultKind.IO, path, detail=str(exc))
    return fault(JournalFaultKind.IO, path, detail=f"{type(exc).__name__}: {exc}")


class Connection(sqlite3.Connection):
    """A connection whose errors are :class:`JournalFault`s naming the file.

    ``ROLLBACK`` never raises: it runs in ``except`` blocks after a failed
    statement (a full disk, a lost lock), where SQLite may already have rolled
    back, and its own "cannot rollback - no transaction is active" would hide the
    real cause.
    """

    path: Path

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if sql == "ROLLBACK":
            try:
                if self.in_transaction:
                    super().execute(sql)
            except sqlite3.Error:  # the real cause is the exception being handled
                logger.debug("ROLLBACK failed", exc_info=True)
            return self.cursor()
        try:
            return super().execute(sql, parameters)
        except _PROGRAM_ERRORS:
            raise
        except sqlite3.Error as exc:
            raise fault_of(exc, self.path) from exc

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except _PROGRAM_ERRORS:
            raise
        except sqlite3.Error as exc:
            raise fault_of(exc, self.path) from exc


def _prepare_files(path: Path) -> None:
    """The directory (0700) and the database, WAL and SHM files (0600), before SQLite
    creates any of them with the umask's mode."""
    try:
        private.make_dir(path.parent)
    except OSError as exc:
        raise fault_of(exc, path) from None
    for suffix in ("", "-wal", "-shm"):
        try:
            private.touch(Path(f"{path}{suffix}"))
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and suffix:
                continue  # read-only: the open below says so, or reads what it can
            raise fault_of(exc, path) from None


def _migrate(db: Connection, path: Path) -> None:
    found = db.execute("PRAGMA user_version").fetchone()[0]
    if found == SCHEMA_VERSION:
        return
    if found > SCHEMA_VERSION:
        raise fault(JournalFaultKind.TOO_NEW, path, found=found, known=SCHEMA_VERSION)
    db.execute("BEGIN IMMEDIATE")
    try:
        found = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have done it
        for step in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[step].split(";"):
                if statement.strip():
                    db.execute(statement)
        if found < SCHEMA_VERSION:
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def connect(path: Path | str, timeout: float | None = None, read_only: bool = False) -> Connection:
    """Open the journal at ``path`` (made private, migrated) for this thread.

    ``timeout``: seconds to wait for another process's lock (SQLite's busy
    timeout). Autocommit (``isolation_level=None``), WAL, rows as
    :class:`sqlite3.Row`. ``read_only``: for reading a journal that cannot be
    written here (a read-only directory or file system): nothing is created,
    changed or migrated, and a file of an older schema is read as it is.
    Raises :class:`JournalFault`.
    """
    path = Path(path)
    if timeout is None:
        timeout = BUSY_TIMEOUT
    if read_only:
        return _connect_read_only(path, timeout)
    _prepare_files(path)
    try:
        db = sqlite3.connect(path, timeout=timeout, isolation_level=None, factory=Connection)
    except sqlite3.Error as exc:
        raise fault_of(exc, path) from exc
    assert isinstance(db, Connection)
    db.path = path
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes
        _migrate(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _connect_read_only(path: Path, timeout: float) -> Connection:
    if not path.exists():
        raise (
            fault(JournalFaultKind.MISSING_DIR, path)
            if not path.parent.is_dir()
            else fault(JournalFaultKind.READ_ONLY, path)
        )
    last: JournalFault | None = None
    # mode=ro reads a WAL file whose -shm exists; where it cannot be made (a
    # read-only directory), immutable=1 reads the file as it is on disk (SQLite
    # takes no locks then: rows a writer elsewhere has not checkpointed are missed).
    for query in ("mode=ro", "immutable=1"):
        try:
            db = sqlite3.connect(
                f"{path.resolve().as_uri()}?{query}",
                timeout=timeout,
                isolation_level=None,
                factory=Connection,
                uri=True,
            )
        except sqlite3.Error as exc:
            last = fault_of(exc, path)
            continue
        assert isinstance(db, Connection)
        db.path = path
        db.row_factory = sqlite3.Row
        try:
            found = db.execute("PRAGMA user_version").fetchone()[0]
        except JournalFault as exc:
            db.close()
            last = exc
            continue
        if found > SCHEMA_VERSION:
            db.close()
            raise fault(JournalFaultKind.TOO_NEW, path, found=found, known=SCHEMA_VERSION)
        return db
    assert last is not None
    raise last
