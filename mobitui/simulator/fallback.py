"""Any path the simulator does not serve: 404, still logged like every request."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mobitui.simulator.decision import Decision, Operation, Style
from mobitui.simulator.query import redact_param
from mobitui.simulator.render import JSON, encode_json, response


class NotFoundApi:
    async def decide(self, request: Request) -> Decision:
        text = f"Not found: {request.method} {request.url.path}"
        return Decision(
            operation=Operation.UNKNOWN,
            status=404,
            payload={"error": text},
            summary="Not found",
            path=request.url.path,
            query=redact_param(request.scope["query_string"].decode("latin-1"), "PASSWORD"),
        )

    def render(self, decision: Decision, style: Style) -> Response:
        return response(decision.status, encode_json(decision.payload, style), JSON)

    def refuse_credentials(self, decision: Decision, style: Style) -> Response:
        return self.render(decision, style)
