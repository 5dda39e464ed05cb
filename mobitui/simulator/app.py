"""The simulator as an ASGI application.

Serves the three Mobivate routes (paths as on the real hosts; point both the
Subscription API and the gateway base URLs of a config at the same simulator):

* ``POST /subscriptions/v1/<campaign_id>/status|unsubscribe|initiate|validate_pin``
* ``GET /srs/api/sendsms?...``
* ``GET /api/doi/<account_id>/<api_key>/?...``

plus the loopback-only ``/_simulator/*`` control endpoints. Every other path
answers 404 and is logged like any request.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mobitui.core.config import Config
from mobitui.simulator.connection import remember_transport
from mobitui.simulator.control import control_routes
from mobitui.simulator.doi import DoiApi
from mobitui.simulator.fallback import NotFoundApi
from mobitui.simulator.options import SimOptions
from mobitui.simulator.pipeline import endpoint
from mobitui.simulator.sendsms import SendSmsApi
from mobitui.simulator.state import SimState
from mobitui.simulator.subscription import SubscriptionApi

__all__ = ["SimOptions", "SimulatorApp", "build_app"]

_ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class SimulatorApp:
    """The ASGI app; ``.sim`` is its :class:`SimState`."""

    def __init__(self, sim: SimState):
        self.sim = sim
        subscription = endpoint(SubscriptionApi(sim), sim)
        routes = [
            Route("/subscriptions/v1/{campaign_id}/{method}", subscription, methods=_ANY_METHOD),
            Route("/subscriptions/v1/{campaign_id}/{method}/", subscription, methods=_ANY_METHOD),
            Route("/srs/api/sendsms", endpoint(SendSmsApi(sim), sim), methods=_ANY_METHOD),
            Route("/api/doi/{rest:path}", endpoint(DoiApi(sim), sim), methods=_ANY_METHOD),
            *control_routes(sim),
            Route("/{path:path}", endpoint(NotFoundApi(), sim), methods=_ANY_METHOD),
        ]
        self._app = Starlette(routes=routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Outermost layer: only here is uvicorn's own `send` still unwrapped.
        remember_transport(scope, send)
        await self._app(scope, receive, send)


def build_app(config: Config, api_key: str, options: SimOptions | None = None) -> SimulatorApp:
    return SimulatorApp(SimState(config, api_key, options))
