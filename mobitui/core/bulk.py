"""Running one operation over many numbers with bounded concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from mobitui.core.client import Operation, Result
from mobitui.core.config import Campaign
from mobitui.core.service import Service

OnResult = Callable[[int, Result], None]


async def run_many(
    service: Service,
    campaign: Campaign,
    msisdns: Sequence[str],
    operation: Operation,
    concurrency: int,
    on_result: OnResult | None = None,
) -> list[Result | None]:
    """Results in input order; ``on_result(index, result)`` as each arrives."""
    results: list[Result | None] = [None] * len(msisdns)
    call = service.status if operation is Operation.STATUS else service.unsubscribe
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(msisdns)):
        queue.put_nowait(i)

    async def worker() -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            result = await call(campaign, msisdns[i])
            results[i] = result
            if on_result is not None:
                on_result(i, result)

    workers = [asyncio.create_task(worker()) for _ in range(max(1, min(concurrency, len(msisdns))))]
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()
    return results
