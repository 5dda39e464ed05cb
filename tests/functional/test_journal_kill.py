"""The audit journal survives a kill -9 between the two writes of a mutating call
(a real process, killed; the rest of the journal's tests are in tests/unit/test_journal.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from mobitui.core.journal import ATTEMPTED, Journal


def test_attempt_written_before_send_survives_kill_9(tmp_path):
    db = tmp_path / "journal.sqlite3"
    script = textwrap.dedent(
        f"""
        import os, signal
        from mobitui.core.config import parse, EXAMPLE
        from mobitui.core.journal import Journal
        j = Journal({str(db)!r})
        c = parse(EXAMPLE).campaigns[0]
        j.begin(c, "254700000101", "unsubscribe", "mt-stop")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script])
    assert proc.returncode == -9
    rows = Journal(db).history("254700000101")
    assert len(rows) == 1
    assert rows[0]["outcome"] == ATTEMPTED
    assert "outcome unknown" in rows[0]["outcome_text"]
    assert rows[0]["finished_at"] is None
