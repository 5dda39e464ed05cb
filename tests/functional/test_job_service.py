"""The one way to run a bulk job: the jobs service both front ends call, against the simulator."""

from __future__ import annotations

import pytest

from mobitui.core import loops
from mobitui.core.client import Operation
from mobitui.core.job_service import JobRefused, JobService, NewJob
from mobitui.core.jobs import JobError, JobState
from mobitui.core.journal import Journal
from mobitui.core.paste import read
from mobitui.simulator.demo import DEMO_API_KEY

ACTIVE, INACTIVE = "254700000101", "254700000102"


def test_a_job_run_here_is_listed_and_reads_back_as_its_paste_and_answers(sim_config, simulator, tmp_path):
    path = tmp_path / "j.sqlite3"
    jobs = JobService(sim_config, path)
    campaign = sim_config.campaigns[0]
    table = read(f"{ACTIVE}\nhello\n0700 000 101\n{INACTIVE}\n", campaign.country)
    seen: list[object] = []
    journal = Journal(path)
    try:
        ended = loops.run(
            jobs.run(
                journal,
                DEMO_API_KEY,
                new=NewJob.of(campaign, Operation.STATUS, table.entries, "test"),
                on_event=seen.append,
            )
        )
        assert ended.state is JobState.DONE and ended.journal_failure is None and not ended.unwritten
        assert [j.id for j in JobService.list_jobs(journal)] == [ended.job_id]
        assert [r["status"] for r in JobService.rows(journal, ended.job_id)] == ["done", "skipped", "skipped", "done"]
    finally:
        journal.close()
    assert sorted(r.msisdn for r in simulator.sim.records()) == [ACTIVE, INACTIVE]  # each once
    stored = jobs.read(ended.job_id, entries=True)  # type: ignore[arg-type]
    assert stored.entries is not None
    assert [(e.line, e.verdict, e.duplicate_of) for e in stored.entries] == [
        (1, "ok", None),
        (2, "invalid", None),
        (3, "duplicate", 1),
        (4, "ok", None),
    ]
    assert {m: r.state for m, r in stored.results.items()} == {ACTIVE: "active", INACTIVE: "inactive"}


def test_read_only_refuses_unsubscribe_jobs_new_or_resumed_and_nothing_is_sent(sim_config, simulator, tmp_path):
    path = tmp_path / "j.sqlite3"
    jobs = JobService(sim_config, path, read_only=True)
    campaign = sim_config.campaigns[0]
    assert jobs.refusal(Operation.STATUS) is None
    with pytest.raises(JobRefused, match=r"resuming unsubscribe job 4 refused; nothing was sent"):
        jobs.check_allowed(Operation.UNSUBSCRIBE, 4)
    journal = Journal(path)
    try:
        with pytest.raises(JobRefused, match=r": unsubscribe refused; nothing was sent"):
            loops.run(jobs.run(journal, DEMO_API_KEY, new=NewJob.of(campaign, Operation.UNSUBSCRIBE, [ACTIVE])))
        with pytest.raises(JobRefused):
            jobs.start(DEMO_API_KEY, new=NewJob.of(campaign, Operation.UNSUBSCRIBE, [ACTIVE]))
        # A job stored before read-only mode was switched on is not resumed either.
        writable = JobService(sim_config, path)
        stopped = loops.run(
            writable.run(
                journal,
                DEMO_API_KEY,
                new=NewJob.of(campaign, Operation.UNSUBSCRIBE, []),
                on_job=lambda job: job.cancel(),
            )
        )
        with pytest.raises(JobRefused, match=f"resuming unsubscribe job {stopped.job_id} refused"):
            jobs.for_resume(journal, stopped.job_id)  # type: ignore[arg-type]
        with pytest.raises(JobError, match=r"^no job 99 in the journal "):
            jobs.for_resume(journal, 99)
    finally:
        journal.close()
    assert simulator.sim.records() == []


def test_a_job_started_off_the_loop_without_a_spare_process_runs_on_a_thread(sim_config, simulator, tmp_path):
    jobs = JobService(sim_config, tmp_path / "j.sqlite3")
    run = jobs.start(DEMO_API_KEY, new=NewJob.of(sim_config.campaigns[0], Operation.STATUS, [ACTIVE, INACTIVE]))
    progress = run.future.result(timeout=60)
    assert not run.in_process and run.job_id is not None
    assert progress.done == 2 and progress.outcomes == {"ok": 2}
    assert sorted(r.msisdn for r in simulator.sim.records()) == [ACTIVE, INACTIVE]
