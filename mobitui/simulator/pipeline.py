"""The path of every API request: decide, pick a fault, act, log, wait, answer."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from mobitui.simulator import faults
from mobitui.simulator.decision import Api, Decision, Style
from mobitui.simulator.record import RequestRecord
from mobitui.simulator.responses import DropResponse, NoAnswer
from mobitui.simulator.state import SimState


def endpoint(api: Api, sim: SimState) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint serving ``api`` through the simulator's faults."""

    async def handle(request: Request) -> Response:
        decision = await api.decide(request)
        style = Style.DOCS if sim.options.docs_bodies else Style.PLAIN
        fault = faults.choose(decision, sim)
        acts = decision.commit is not None and (fault is None or fault.acts)
        answer = api.render(decision, style) if fault is None else faults.respond(fault, decision, api, sim, style)
        delay = sim.latency() + (fault.delay if fault else 0.0)
        if decision.commit is not None:
            delay += sim.options.stop_latency_ms / 1000
        waits = bool(delay) and not isinstance(answer, NoAnswer)
        late = acts and waits and sim.options.apply_late
        if acts and not late:
            decision.commit()  # type: ignore[misc]
        # Logged on arrival, so a test sees the request while the server still holds it.
        record = _record(request, decision, fault, answer, acts and not late)
        sim.log(record)
        if waits and not await sim.waits.sleep(delay):
            return DropResponse()  # the server is stopping
        if late:
            # A slow gateway: the stop takes effect as the answer leaves, whether
            # or not the client is still there to read it.
            decision.commit()  # type: ignore[misc]
            sim.mark_acted(record)
        return answer

    return handle


def _record(
    request: Request, decision: Decision, fault: faults.Fault | None, answer: Response, acted: bool
) -> RequestRecord:
    status = None if isinstance(answer, NoAnswer) else answer.status_code
    if fault is None:
        outcome = f"{status} {decision.summary}".rstrip()
    else:
        outcome = fault.name if status is None else f"{status} {fault.name}"
    return RequestRecord(
        time=time.time(),
        method=request.method,
        path=decision.path or request.url.path,
        query=decision.query,
        msisdn=decision.msisdn,
        campaign_id=decision.campaign_id,
        operation=decision.operation.value,
        outcome=outcome,
        status=status,
        fault=fault.name if fault else None,
        acted=acted,
    )
