"""Typed vocabularies: each one's words, and that a stored or printed word is the same
bare word it was before the enum existed.

The words are written out here, never taken from the enums under test. A vocabulary
whose value leaves the process (SQLite, JSON, CSV, --json, a printed line) must be a
``StrEnum``: a plain ``Enum`` cannot be written to SQLite or JSON at all, and a
``(str, Enum)`` prints and formats as ``KeySource.KEYRING`` instead of ``keyring``.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from enum import Enum
from pathlib import Path

import pytest

from mobitui.core import bodies, errors, export, paste, schema, secrets
from mobitui.core.jobs import JobStore
from mobitui.core.journal import Journal
from mobitui.core.msisdn import Verdict
from mobitui.core.results import Operation
from mobitui.core.transport import Phase, TransportError
from mobitui.simulator.demo import demo_config

# Every vocabulary whose words leave the process, with its words in order.
STORED = {
    errors.FailureKind: [
        "dns",
        "refused",
        "unreachable",
        "tls",
        "connect_timeout",
        "pool_timeout",
        "proxy",
        "unsupported",
        "read_timeout",
        "too_slow",
        "write_timeout",
        "reset",
        "stale",
        "protocol",
        "head_too_large",
        "tls_after",
        "decoding",
        "other",
    ],
    bodies.BodyKind: ["json", "literal", "mt", "zero", "html", "text", "empty"],
    secrets.KeySource: ["environment", "keyring", "demo", "none"],
    Verdict: ["ok", "warning", "invalid"],
    paste.EntryVerdict: ["ok", "warning", "invalid", "duplicate"],
    schema.JournalFaultKind: ["locked", "full", "read-only", "corrupt", "missing-dir", "too-new", "io"],
}


@pytest.mark.parametrize("vocabulary", list(STORED), ids=lambda v: v.__name__)
def test_each_stored_vocabulary_writes_the_same_bare_word_everywhere(vocabulary: type[Enum]) -> None:
    words = STORED[vocabulary]
    assert [m.value for m in vocabulary] == words
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (word TEXT)")
    for member, word in zip(vocabulary, words, strict=True):
        assert member == word and hash(member) == hash(word)  # comparisons with the word hold
        assert str(member) == word and f"{member}" == word and "%s" % member == word  # noqa: UP031  the old formatting, on purpose
        assert json.dumps(member) == json.dumps(word) and json.dumps({member: 1}) == json.dumps({word: 1})
        out = io.StringIO()
        csv.writer(out).writerow([member])
        assert out.getvalue() == word + "\r\n"
        db.execute("DELETE FROM t")
        db.execute("INSERT INTO t VALUES (?)", (member,))
        (back,) = db.execute("SELECT word FROM t").fetchone()
        assert type(back) is str and back == word
        assert db.execute("SELECT count(*) FROM t WHERE word = ?", (word,)).fetchone() == (1,)


def test_in_process_vocabularies_are_plain_enums_that_take_their_word_once() -> None:
    # Never written anywhere: a comparison with a bare word must not pass by accident.
    assert [p.value for p in Phase] == ["pool", "connect", "exchange", "body"]
    assert [f.value for f in export.ExportFormat] == ["csv", "jsonl"]
    assert Phase.CONNECT != "connect" and export.ExportFormat.CSV != "csv"
    # Where a word comes in (older callers), it is read once, at the boundary.
    assert TransportError("connect", "x").phase is Phase.CONNECT and TransportError("pool", "x").not_sent
    assert not TransportError(Phase.BODY, "x").not_sent
    with pytest.raises(ValueError):
        TransportError("connected", "x")
    assert export.format_for("a/b.CSV") is export.ExportFormat.CSV
    assert export.format_for("b.ndjson") is export.ExportFormat.JSONL


def test_bare_words_from_older_callers_become_members_and_a_wrong_word_is_refused(tmp_path: Path) -> None:
    found = secrets.KeyLookup("k" * 20, "environment", "test")
    assert found.source is secrets.KeySource.ENVIRONMENT
    with pytest.raises(ValueError):
        secrets.KeyLookup(None, "env", "test")
    fault = schema.fault("locked", tmp_path / "j.sqlite3")
    assert fault.kind is schema.JournalFaultKind.LOCKED and fault.transient
    assert not schema.fault(schema.JournalFaultKind.READ_ONLY, tmp_path / "j.sqlite3").transient
    with pytest.raises(ValueError):
        schema.fault("readonly", tmp_path / "j.sqlite3")
    failure = errors.TransportFailure("reset", "m", errors.Sent.MAYBE)
    assert failure.kind is errors.FailureKind.RESET and failure.transient
    assert not errors.TransportFailure(errors.FailureKind.DNS, "m", errors.Sent.NO).transient


def test_the_verdict_of_a_pasted_line_is_stored_and_counted_as_its_bare_word(tmp_path: Path) -> None:
    entries = paste.parse(["254700000101", "not a number", "+254 700 000 101", "254700000101.0"], "KE")
    assert [e.verdict for e in entries] == [
        paste.EntryVerdict.OK,
        paste.EntryVerdict.INVALID,
        paste.EntryVerdict.DUPLICATE,
        paste.EntryVerdict.DUPLICATE,
    ]
    assert json.dumps(paste.counts(entries)) == '{"ok": 1, "warning": 0, "invalid": 1, "duplicate": 2}'
    assert all(type(k) is str for k in paste.counts(entries))
    journal = Journal(tmp_path / "j.sqlite3")
    job_id = JobStore(journal).create(demo_config("http://127.0.0.1:9").campaigns[0], Operation.STATUS, entries, 1)
    stored = journal.db.execute(
        "SELECT verdict, typeof(verdict) FROM job_items WHERE job_id=? ORDER BY position", (job_id,)
    ).fetchall()
    assert [tuple(r) for r in stored] == [
        ("ok", "text"),
        ("invalid", "text"),
        ("duplicate", "text"),
        ("duplicate", "text"),
    ]
