"""Server text from the simulator's hostile answer is inert in both export formats
(the export's own tests, on a stored job: tests/unit/test_export.py)."""

from __future__ import annotations

import re

from mobitui.core import export
from mobitui.core.bulk import BulkJob
from mobitui.core.client import Operation
from mobitui.core.jobs import JobStore
from mobitui.core.journal import Journal
from mobitui.core.service import Service
from mobitui.simulator.demo import DEMO_API_KEY

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


async def test_hostile_server_text_from_the_simulator_is_inert_in_the_export(simulator, sim_config, tmp_path):
    service = Service.open(sim_config, DEMO_API_KEY, Journal(tmp_path / "j.sqlite3"))
    job = BulkJob.create(service, sim_config.campaigns[0], ["254799999016", "254700000101"], Operation.UNSUBSCRIBE)
    await job.run()
    await service.aclose()
    store = JobStore(service.journal)
    hostile = next(store.rows(job.job_id))
    assert "\x1b]52;c;" in hostile["error"]  # stored as received (the journal is not a terminal)
    export.export(store, job.job_id, tmp_path / "x.csv")
    export.export(store, job.job_id, tmp_path / "x.jsonl")
    for name in ("x.csv", "x.jsonl"):
        data = (tmp_path / name).read_bytes().decode("utf-8")
        assert not CONTROL.search(data.replace("\r\n", "").replace("\n", ""))
        assert "\\x1b]52;c;" in data.replace("\\\\", "\\")  # shown, not acted on
