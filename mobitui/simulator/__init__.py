"""The built-in simulator of the Mobivate endpoints (Starlette on uvicorn).

Public API::

    build_app(config, api_key, options=None) -> SimulatorApp    # ASGI app; .sim is its SimState
    SimulatorServer(config, api_key, options=None, host="127.0.0.1", port=0)   # background thread
    SimulatorServer.demo(options=None)                           # the demo config, pointed at itself
    run_forever(config, api_key, options=None, host=..., port=...)  # foreground, Ctrl-C stops
    SimOptions(latency_ms, jitter_ms, error_rate, hang_rate, reset_rate, rate_limit, docs_bodies, seed)
    SAMPLES, FAULTS, SUBSCRIPTION_STATES, initial_state(campaign_id, msisdn)
    demo_config(base_url), DEMO_ACCOUNT_ID, DEMO_API_KEY

The names are imported on first use, so ``import mobitui.simulator.cli`` (for
the top-level command's parser) does not load starlette and uvicorn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOME = {
    "SimulatorApp": "app",
    "build_app": "app",
    "DEMO_ACCOUNT_ID": "demo",
    "DEMO_API_KEY": "demo",
    "demo_config": "demo",
    "SimOptions": "options",
    "RequestRecord": "record",
    "FAULTS": "samples",
    "SAMPLES": "samples",
    "SUBSCRIPTION_STATES": "samples",
    "initial_state": "samples",
    "SimulatorServer": "server",
    "bind_socket": "server",
    "run_forever": "server",
    "SimState": "state",
}

__all__ = [  # noqa: RUF022 - grouped as in _HOME
    "SimulatorApp",
    "build_app",
    "DEMO_ACCOUNT_ID",
    "DEMO_API_KEY",
    "demo_config",
    "SimOptions",
    "RequestRecord",
    "FAULTS",
    "SAMPLES",
    "SUBSCRIPTION_STATES",
    "initial_state",
    "SimulatorServer",
    "bind_socket",
    "run_forever",
    "SimState",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


if TYPE_CHECKING:
    from mobitui.simulator.app import SimulatorApp, build_app
    from mobitui.simulator.demo import DEMO_ACCOUNT_ID, DEMO_API_KEY, demo_config
    from mobitui.simulator.options import SimOptions
    from mobitui.simulator.record import RequestRecord
    from mobitui.simulator.samples import FAULTS, SAMPLES, SUBSCRIPTION_STATES, initial_state
    from mobitui.simulator.server import SimulatorServer, bind_socket, run_forever
    from mobitui.simulator.state import SimState
