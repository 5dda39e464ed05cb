"""Exports: every paste line, server text made inert, no spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
import re
import stat

import pytest

from mobitui.core import export, paste
from mobitui.core.client import Operation, Outcome, Result
from mobitui.core.config import Route
from mobitui.core.jobs import ItemStatus, ItemUpdate, JobStore
from mobitui.core.journal import Journal
from mobitui.simulator.demo import demo_config

CAMPAIGN = demo_config("http://127.0.0.1:9").campaigns[0]
# The export's columns in order, written out: the spreadsheets and scripts that read the files
# depend on them, so a column renamed, dropped or moved must fail a test.
HEADER = (
    "job_id,position,line,as_pasted,msisdn,verdict,reason,operation,route,item_status,ok,outcome,"
    "state,http_status,reference,error,note"
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
HOSTILE = "\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\r\n\u202egnp.exe [bold red]x[/]" + "A" * 5000


def stored_job(tmp_path):  # type: ignore[no-untyped-def]
    store = JobStore(Journal(tmp_path / "j.sqlite3"))
    lines = ["+254 700 000 101", "=1+2", "0700000102", "254700000101", "@SUM(A1)", "254700000103"]
    job_id = store.create(CAMPAIGN, Operation.STATUS, paste.parse(lines, "KE"), 2)
    cid = CAMPAIGN.campaign_id
    r1 = Result(
        "254700000101",
        cid,
        Operation.STATUS,
        Route.SUBSCRIPTION_API,
        Outcome.OK,
        state="active",
        http_status=200,
        reference="AP:aaaaaaa-bbbbbbbbb-cccccccc",
    )
    r2 = Result(
        "254700000102",
        cid,
        Operation.STATUS,
        Route.SUBSCRIPTION_API,
        Outcome.FAILED,
        state="=cmd|' /C calc'!A0",
        http_status=500,
        reference="-2+3",
        error=HOSTILE,
    )
    store.record(job_id, CAMPAIGN, [ItemUpdate(0, ItemStatus.DONE, r1), ItemUpdate(2, ItemStatus.DONE, r2, "\x07bell")])
    return store, job_id


def test_csv_export_is_inert_bounded_and_formula_safe(tmp_path):
    store, job_id = stored_job(tmp_path)
    path = tmp_path / "out.csv"
    assert export.export(store, job_id, path) == 6
    raw = path.read_text(encoding="utf-8")
    assert not CONTROL.search(raw.replace("\r\n", ""))
    assert "\u202e" not in raw and "\\u202e" in raw and "\\x1b]52" in raw
    assert raw.splitlines()[0] == HEADER  # the file's own first line, as a spreadsheet reads it
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert [r["as_pasted"] for r in rows] == [
        "'+254 700 000 101",
        "'=1+2",
        "0700000102",
        "254700000101",
        "'@SUM(A1)",
        "254700000103",
    ]
    assert [r["verdict"] for r in rows] == ["ok", "invalid", "ok", "duplicate", "invalid", "ok"]
    assert [r["item_status"] for r in rows] == ["done", "skipped", "done", "skipped", "skipped", "pending"]
    bad = rows[2]
    assert bad["state"].startswith("'=cmd") and bad["reference"] == "'-2+3"
    assert bad["ok"] == "false" and bad["outcome"] == "failed" and bad["http_status"] == "500"
    assert len(bad["error"]) < 1100 and "more characters]" in bad["error"]
    assert bad["note"] == "\\x07bell"
    assert rows[0]["ok"] == "true" and rows[0]["reference"] == "AP:aaaaaaa-bbbbbbbbb-cccccccc"
    assert rows[5]["ok"] == "" and rows[5]["outcome"] == ""  # never sent
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_jsonl_export_keeps_types_and_has_no_control_characters(tmp_path):
    store, job_id = stored_job(tmp_path)
    path = tmp_path / "out.jsonl"
    export.export(store, job_id, path)
    text = path.read_text(encoding="utf-8")
    assert not CONTROL.search(text.replace("\n", ""))
    rows = [json.loads(line) for line in text.splitlines()]
    assert all(list(r) == HEADER.split(",") for r in rows)  # every field, in the CSV's order
    assert [r["position"] for r in rows] == list(range(6))
    assert rows[0]["ok"] is True and rows[0]["http_status"] == 200 and rows[0]["line"] == 1
    assert rows[2]["ok"] is False and "\x1b" not in rows[2]["error"]
    assert rows[1]["ok"] is None and rows[1]["reason"].startswith("contains '='")
    assert rows[3]["reason"] == "duplicate of line 1" and rows[3]["msisdn"] is None
    assert rows[2]["state"] == "=cmd|' /C calc'!A0"  # JSON is not a spreadsheet: kept as is


def test_copy_of_a_filtered_column(tmp_path):
    store, job_id = stored_job(tmp_path)
    assert export.column(store, job_id, "msisdn", state="active") == ["254700000101"]
    assert export.column(store, job_id, "msisdn", item_status="pending") == ["254700000103"]
    assert export.column(store, job_id, "as_pasted", verdict="invalid") == ["=1+2", "@SUM(A1)"]
    with pytest.raises(ValueError, match="no column"):
        export.column(store, job_id, "password")
    with pytest.raises(ValueError, match=r"use \.csv or \.jsonl"):
        export.export(store, job_id, tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()
