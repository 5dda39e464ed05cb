"""Two journal connections in one process, a third process coming and going.

SQLite's locks are POSIX advisory locks, owned by the *process*: closing any
file descriptor of the database, WAL or SHM file drops every lock the process
holds on it (https://www.sqlite.org/howtocorrupt.html, section 2.2). The console
holds the journal open on its journal thread while the bulk screen opens a job
store on the same file; if opening a connection opened and closed those files
itself, the next process to close its own connection would believe it was the
last one and delete the WAL under the console: the console's later writes then
went into a deleted file (lost from the audit), and the once-only guard could
no longer see stops made elsewhere.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mobitui.core import schema

_OTHER_PROCESS = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
print(db.execute("SELECT count(*) FROM actions").fetchone()[0])
db.close()
"""


def _other_process_count(path: Path) -> int:
    out = subprocess.run([sys.executable, "-c", _OTHER_PROCESS, str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout)


def _insert(db: schema.Connection, msisdn: str) -> None:
    db.execute(
        "INSERT INTO actions (started_at, campaign_id, msisdn, operation, route, outcome)"
        " VALUES ('2026-01-01T00:00:00Z', 'c1', ?, 'status', 'subscription-api', 'ok')",
        (msisdn,),
    )


def test_a_second_connection_in_the_same_process_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    first = schema.connect(path, timeout=1)
    _insert(first, "254700000101")
    second = schema.connect(path, timeout=1)  # the bulk screen's job store, beside the journal thread
    second.close()
    # Another process opens and closes the journal (a CLI command, a job process).
    assert _other_process_count(path) == 1
    assert Path(f"{path}-wal").exists(), "the WAL was deleted while this process still had the journal open"
    _insert(first, "254700000102")
    # What the first connection writes afterwards reaches the file other processes read.
    assert _other_process_count(path) == 2
    first.close()
