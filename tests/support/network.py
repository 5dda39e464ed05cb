"""Short client timeouts for tests that wait out the resume window.

A resume lets an attempt left in flight by a crash land before it re-checks the
number: it waits until the attempt is ``Network.longest_wait`` old (connect
timeout + 2 x read timeout + 1 s; 36 s with the defaults). With these timeouts
the window is 1 + 2 x 2 + 1 = 6 s, and the wait runs through the same code.
The read timeout stays well above the latency the tests' simulators add (at
most 300 ms), so no answer is cut off by it.
"""

from __future__ import annotations

from mobitui.core.config import Config

CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0
NETWORK_TOML = f"\n[network]\nconnect_timeout = {CONNECT_TIMEOUT}\nread_timeout = {READ_TIMEOUT}\n"


def short_window(config: Config) -> Config:
    """``config`` with the short connect and read timeouts (validated like a user's file)."""
    data = config.model_dump(mode="python")
    data["network"].update(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT)
    return Config.model_validate(data)


def short_window_toml(toml: str) -> str:
    """A config file's text (without a ``[network]`` table) with the short timeouts added."""
    if "[network]" in toml:
        raise ValueError("the config already has a [network] table")
    return toml + NETWORK_TOML
