"""``/_simulator/*``: inspect and reset the simulator from another process (loopback only).

* ``GET /_simulator/requests``: the request log, oldest first, as a JSON list.
* ``GET /_simulator/stats``: ``{"total_requests": N, "unsubscribes": {"<campaign_id>:<msisdn>": n}}``.
* ``POST /_simulator/reset``: forget every change, the log and the counters.

These requests are not logged and no fault applies to them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mobitui.simulator.state import SimState

PREFIX = "/_simulator"


def _from_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _loopback_only(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        if not _from_loopback(request):
            return JSONResponse({"error": "the simulator's control endpoints answer loopback only"}, 403)
        return await handler(request)

    return guarded


def control_routes(sim: SimState) -> list[Route]:
    async def requests(request: Request) -> Response:
        return JSONResponse(sim.requests)

    async def stats(request: Request) -> Response:
        return JSONResponse(sim.stats())

    async def reset(request: Request) -> Response:
        sim.reset()
        return JSONResponse({"reset": True})

    return [
        Route(f"{PREFIX}/requests", _loopback_only(requests), methods=["GET"]),
        Route(f"{PREFIX}/stats", _loopback_only(stats), methods=["GET"]),
        Route(f"{PREFIX}/reset", _loopback_only(reset), methods=["POST"]),
    ]
