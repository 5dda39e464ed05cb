"""The job store on its own: a stored job reads back as the paste and the answers it had.
(Jobs with processes, kills and the CLI: tests/functional/test_jobs.py.)"""

from __future__ import annotations

from mobitui.core.client import Operation
from mobitui.core.jobs import ItemStatus, JobStore
from mobitui.core.journal import Journal
from mobitui.simulator.demo import demo_config


def test_a_stored_job_reads_back_as_the_paste_and_the_answers_it_had(tmp_path):
    from mobitui.core import paste
    from mobitui.core.jobs import entry_of, result_of
    from mobitui.core.results import Outcome, Result

    config = demo_config("http://127.0.0.1:9")
    campaign = config.campaigns[0]
    entries = paste.parse(["254700000101", "hello", "0700 000 101", "+44 7700 900123"], campaign.country)
    store = JobStore(Journal(tmp_path / "j.sqlite3"))
    job_id = store.create(campaign, Operation.STATUS, entries, 5)
    info = store.get(job_id)
    rows = list(store.rows(job_id))
    again = [entry_of(r) for r in rows]
    assert [(e.line, e.raw, e.msisdn, e.verdict, e.reason) for e in again] == [
        (e.line, e.raw, e.msisdn if e.usable else None, e.verdict, e.reason) for e in entries
    ]
    assert again[2].duplicate_of == 1
    assert all(result_of(info, r) is None for r in rows)  # nothing answered yet
    from mobitui.core.jobs import ItemUpdate

    answer = Result(
        "254700000101",
        campaign.campaign_id,
        Operation.STATUS,
        campaign.unsubscribe_via,
        Outcome.OK,
        state="active",
        http_status=200,
    )
    store.record(job_id, campaign, [ItemUpdate(0, ItemStatus.DONE, answer, None, True)])
    got = result_of(info, next(store.rows(job_id)))
    assert got is not None and (got.msisdn, got.state, got.outcome, got.http_status) == (
        "254700000101",
        "active",
        Outcome.OK,
        200,
    )


def test_a_duplicate_keeps_its_first_line_as_data_whatever_its_reason_says(tmp_path):
    """The line of a duplicate's first occurrence is stored as the parser found it, not
    read back out of the reason's words (which may be reworded, or name no line)."""
    from mobitui.core import paste
    from mobitui.core.jobs import entry_of

    campaign = demo_config("http://127.0.0.1:9").campaigns[0]
    store = JobStore(Journal(tmp_path / "j.sqlite3"))
    entries = paste.parse(["", "254700000101", "x", "0700 000 101"], campaign.country)
    pasted = store.create(campaign, Operation.STATUS, entries, 5)
    typed = store.create(campaign, Operation.STATUS, ["254700000101", "254700000102", "254700000101"], 5)
    store.db.execute("UPDATE job_items SET reason='seen before' WHERE verdict='duplicate'")
    firsts = {job: [entry_of(r).duplicate_of for r in store.rows(job)] for job in (pasted, typed)}
    assert firsts == {pasted: [None, None, 2], typed: [None, None, 1]}
