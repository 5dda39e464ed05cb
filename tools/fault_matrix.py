"""Print the fault matrix: every operation against every fault the simulator injects.

    python tools/fault_matrix.py [--markdown]

Runs the real client and journal (through Service) against the simulator on
127.0.0.1 with short timeouts, and prints per operation and fault: the
outcome, how many requests the server received (a mutating call must never be
resent once it may have arrived), the journal's outcome, and the start of the
plain-words error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from mobitui.core.client import MobivateClient
from mobitui.core.config import Config
from mobitui.core.journal import Journal
from mobitui.core.service import Service
from mobitui.simulator.demo import DEMO_API_KEY
from mobitui.simulator.samples import FAULTS
from mobitui.simulator.server import SimulatorServer

OPERATIONS = [
    ("status", "Kenya Tips"),
    ("unsubscribe", "Kenya Tips"),
    ("unsubscribe", "Kenya Jokes SMS"),
    ("unsubscribe", "Kenya Web Opt-In"),
]


def tuned(config: Config) -> Config:
    data = config.model_dump(mode="python")
    data["network"].update(read_timeout=1.0, connect_timeout=1.0, status_attempts=3, retry_max_wait=0.2)
    return Config.model_validate(data)


SIMULATORS = 4  # the faults are shared out over this many simulators, run side by side
BULK_JOURNAL: list[Journal] = []  # the bulk cases' journal, set by main()


async def run(server: SimulatorServer, journal: Journal, faults: list[str]) -> list[tuple[str, ...]]:
    """The rows of ``faults`` (magic numbers), one case after another on ``server``."""
    config = tuned(server.config)
    rows = []
    async with MobivateClient(config, DEMO_API_KEY) as client:
        service = Service(config, client, journal)
        for msisdn in faults:
            fault = FAULTS[msisdn][0]
            for op, name in OPERATIONS:
                server.sim.reset()
                campaign = config.campaign(name)
                call = service.status if op == "status" else service.unsubscribe
                result = await call(campaign, msisdn)
                received = sum(1 for r in server.sim.requests if r["msisdn"] == msisdn)
                row = journal.history(msisdn, 1)[0]
                label = op if op == "status" else f"unsubscribe/{campaign.unsubscribe_via.value}"
                error = (result.error or "").split(". ")[0][:70]
                rows.append((fault, label, result.outcome.value, str(received), row["outcome"], error))
            for op, name in (("status", "Kenya Tips"), ("unsubscribe", "Kenya Jokes SMS")):
                rows.append(await bulk_row(server, service, config.campaign(name), op, msisdn, fault))
    return rows


async def bulk_row(server: SimulatorServer, service: Service, campaign, op: str, msisdn: str, fault: str):  # type: ignore[no-untyped-def]
    """The faulty number in a bulk job beside an ordinary one: the job must finish either way."""
    from mobitui.core.bulk import BulkJob
    from mobitui.core.client import Operation
    from mobitui.core.jobs import JobStore

    server.sim.reset()
    operation = Operation.STATUS if op == "status" else Operation.UNSUBSCRIBE
    # Each case stands alone: a journal apart from the single calls' (on theirs, the single
    # unsubscribe of this number a moment before would rightly keep this one from being
    # sent), and an ordinary number of its own beside the faulty one.
    service = Service(service.config, service.client, BULK_JOURNAL[0])
    ordinary = f"2547000002{sorted(FAULTS).index(msisdn):02d}"
    job = BulkJob.create(service, campaign, [msisdn, ordinary], operation, concurrency=2)
    await job.run()
    item = next(r for r in JobStore(service.journal).rows(job.job_id) if r["msisdn"] == msisdn)
    received = sum(1 for r in server.sim.requests if r["msisdn"] == msisdn)
    route = "" if op == "status" else f"/{campaign.unsubscribe_via.value}"
    outcome = item["outcome"] if item["status"] == "done" else item["status"]
    # the job row: done = an answer; unknown = outcome unknown, left for a re-check
    return (fault, f"bulk-{op}{route}", outcome, str(received), item["status"], (item["error"] or "")[:70])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("MOBITUI_DATA_DIR", tempfile.mkdtemp())
    journal = Journal(Path(tempfile.mkdtemp()) / "matrix.sqlite3")
    BULK_JOURNAL.append(Journal(Path(tempfile.mkdtemp()) / "matrix-bulk.sqlite3"))
    numbers = sorted(FAULTS)
    shares = [numbers[i::SIMULATORS] for i in range(SIMULATORS)]
    servers = [SimulatorServer.demo().start() for _ in shares]
    try:

        async def all_rows() -> list[tuple[str, ...]]:
            parts = await asyncio.gather(*(run(sv, journal, share) for sv, share in zip(servers, shares, strict=False)))
            order = {FAULTS[m][0]: i for i, m in enumerate(numbers)}
            return sorted((r for part in parts for r in part), key=lambda r: order[r[0]])  # stable: ops in order

        rows = asyncio.run(all_rows())
    finally:
        for sv in servers:
            sv.stop()
    head = ("fault", "operation", "outcome", "sent", "journal", "error (start)")  # bulk rows: job item status
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(c.replace("|", "/") for c in r) + " |")
    else:
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        for r in [head, *rows]:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip())
    mutating = ("unsubscribe", "bulk-unsubscribe")
    unknown_resent = [r for r in rows if r[1].startswith(mutating) and r[2] == "unknown" and r[3] != "1"]
    if unknown_resent:
        print(f"\nDEFECT: {len(unknown_resent)} mutating calls with unknown outcome were resent", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
