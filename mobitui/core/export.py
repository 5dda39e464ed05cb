"""Exports of a job's results: CSV or JSON lines, one row per line of the paste.

Everything that came from outside (the paste, the server's answers) goes
through :func:`mobitui.core.text.inert` first: no control character reaches
the file and every field is bounded. CSV cells that a spreadsheet would run as
a formula (starting with ``= + - @``) get a leading quote. Files are written
next to their target and renamed into place, readable by the owner only (they
hold subscribers' numbers).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from mobitui.core.jobs import ItemStatus, JobError, JobStore
from mobitui.core.text import inert

COLUMNS = (
    "job_id",
    "position",
    "line",
    "as_pasted",
    "msisdn",
    "verdict",
    "reason",
    "operation",
    "route",
    "item_status",
    "ok",
    "outcome",
    "state",
    "http_status",
    "reference",
    "error",
    "note",
)
# Longest text kept per field; the rest is cut with a note saying how much.
LIMITS = {"as_pasted": 200, "reason": 300, "state": 60, "reference": 200, "error": 1000, "note": 300}
FORMULA_START = ("=", "+", "-", "@")


class ExportFormat(Enum):
    """The form of an export file, chosen by its extension. A plain ``Enum``: it never
    leaves the process (the file's name says it), so a bare word never compares equal."""

    CSV = "csv"
    JSONL = "jsonl"  # one JSON object per line


FORMATS = {
    ".csv": ExportFormat.CSV,
    ".jsonl": ExportFormat.JSONL,
    ".ndjson": ExportFormat.JSONL,
    ".json": ExportFormat.JSONL,
}


def rows(store: JobStore, job_id: int) -> Iterator[dict[str, Any]]:
    """The job's items in paste order, inert and bounded, as export rows."""
    info = store.get(job_id)
    if info is None:
        raise JobError(f"no job {job_id} in the journal")
    for r in store.rows(job_id):
        answered = r["status"] in (ItemStatus.DONE.value, ItemStatus.UNKNOWN.value) and r["outcome"]
        yield {
            "job_id": job_id,
            "position": r["position"],
            "line": r["line"],
            "as_pasted": inert(r["raw"], LIMITS["as_pasted"]),
            "msisdn": r["msisdn"],
            "verdict": r["verdict"],
            "reason": inert(r["reason"], LIMITS["reason"]) or None,
            "operation": info.operation.value,
            "route": r["route"] or (info.route if r["msisdn"] else None),
            "item_status": r["status"],
            "ok": (r["outcome"] == "ok") if answered else None,
            "outcome": r["outcome"] if answered else None,
            "state": inert(r["state"], LIMITS["state"]) or None,
            "http_status": r["http_status"],
            "reference": inert(r["reference"], LIMITS["reference"]) or None,
            "error": inert(r["error"], LIMITS["error"]) or None,
            "note": inert(r["note"], LIMITS["note"]) or None,
        }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text  # a spreadsheet would run it as a formula
    return text


def write_csv(store: JobStore, job_id: int, out: TextIO) -> int:
    return _csv(rows(store, job_id), out)


def write_jsonl(store: JobStore, job_id: int, out: TextIO) -> int:
    return _jsonl(rows(store, job_id), out)


def _csv(items: Iterable[dict[str, Any]], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    n = 0
    for row in items:
        writer.writerow([_cell(row.get(c)) for c in COLUMNS])
        n += 1
    return n


def _jsonl(items: Iterable[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for row in items:
        out.write(json.dumps({c: row.get(c) for c in COLUMNS}, ensure_ascii=False) + "\n")
        n += 1
    return n


def inert_row(row: dict[str, Any]) -> dict[str, Any]:
    """An export row built elsewhere (the console's table), made inert and bounded
    like the journal's rows: text fields through :func:`inert` at :data:`LIMITS`."""
    out = dict(row)
    for name, limit in LIMITS.items():
        if out.get(name) is not None:
            out[name] = inert(str(out[name]), limit) or None
    return out


def export_rows(items: Iterable[dict[str, Any]], path: str | os.PathLike[str]) -> int:
    """Write export rows (dicts keyed by :data:`COLUMNS`; missing keys are empty) to
    ``path``, CSV or JSON lines by extension, atomically and owner-only, as
    :func:`export` does. Rows are passed through :func:`inert_row`. Returns the
    number of rows; raises ValueError for an unknown extension, OSError from the disk."""
    target = Path(path).expanduser()
    writer = _csv if format_for(target) is ExportFormat.CSV else _jsonl
    return _write_atomically(target, lambda fh: writer((inert_row(r) for r in items), fh))


def format_for(path: str | os.PathLike[str]) -> ExportFormat:
    """:attr:`ExportFormat.CSV` or :attr:`ExportFormat.JSONL` from the file name's
    extension (.csv; .jsonl, .ndjson, .json); ValueError for anything else."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise ValueError(f"cannot tell the export format of {Path(path).name!r}: use .csv or .jsonl")
    return FORMATS[ext]


def export(store: JobStore, job_id: int, path: str | os.PathLike[str]) -> int:
    """Write the job to ``path`` (format by extension); returns the number of rows."""
    target = Path(path).expanduser()
    writer = write_csv if format_for(target) is ExportFormat.CSV else write_jsonl
    return _write_atomically(target, lambda fh: writer(store, job_id, fh))


def _write_atomically(target: Path, write: Callable[[TextIO], int]) -> int:
    from mobitui.core import private

    return private.write_atomically(target, write, newline="")


def column(store: JobStore, job_id: int, name: str, **where: Any) -> list[str]:
    """One column of the rows matching ``where`` (e.g. ``column(s, 7, "msisdn", state="active")``),
    for copying; empty values are left out."""
    if name not in COLUMNS:
        raise ValueError(f"no column {name!r}; columns: {', '.join(COLUMNS)}")
    unknown = set(where) - set(COLUMNS)
    if unknown:
        raise ValueError(f"no column {sorted(unknown)[0]!r} to filter on")
    out = []
    for row in rows(store, job_id):
        if all(row[k] == v for k, v in where.items()):
            value = row[name]
            if value is not None and value != "":
                out.append(str(value))
    return out
