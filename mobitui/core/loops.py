"""Event loops for the network work: uvloop where it is installed, asyncio's otherwise.

On uvloop, the client spends about a third less CPU per request (measured with
``bench/bulk.py``: 0.6-0.7 ms instead of 0.9-1.0 ms per status call at 50 in
flight), which is most of the gap between a bulk run and its floor N·L/C. The
console's own loop stays asyncio's (Textual's); the bulk engine runs on a loop
of its own (:mod:`mobitui.core.runner`), and the headless CLI runs on one of these.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # not on this platform (Windows), or not installed
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def name() -> str:
    """Which loop :func:`new_event_loop` gives: ``uvloop`` or ``asyncio``."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """Like :func:`asyncio.run`, on the fastest loop available."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
