"""Deterministic sample subscribers and the magic numbers that trigger faults.

Every simulator run answers the same way for the same number, so the README,
the tests and an operator trying things out can rely on these:

* ``2547000001NN``: one sample subscriber per subscription state, in the
  documented order (``...101`` is ``active`` up to ``...113`` ``unsub``).
* ``2547999990NN``: magic numbers that make the simulator misbehave in one
  particular way, on any route and any campaign.

Any other number gets a state derived from a hash of campaign and number:
about 60 % ``active``, the rest spread over the other twelve states.
"""

from __future__ import annotations

import hashlib

from mobitui.core.results import STATES

# The thirteen subscription states, in the order the docs list them (one list for
# the client and the simulator). The docs define none of them; the simulator
# only hands them out.
SUBSCRIPTION_STATES: tuple[str, ...] = STATES

ACTIVE_SHARE = 0.6

CORRECT_PIN = "1234"  # the one PIN validate_pin accepts
MAX_PIN_FAILURES = 3  # wrong PINs before the PIN is gone (440)
SLOW_SECONDS = 3.0  # how long the "slow" magic number takes to answer

_NOTES = {
    "active": "a live subscriber: unsubscribe it by any route",
    "unsub": "already unsubscribed",
}
_RAW_CODE = "raw code; the docs do not define it"

# (msisdn, state, note) for each of the thirteen states.
SAMPLES: list[tuple[str, str, str]] = [
    (f"2547000001{index:02d}", state, _NOTES.get(state, _RAW_CODE))
    for index, state in enumerate(SUBSCRIPTION_STATES, start=1)
]

# msisdn -> (fault name, what happens). The behaviour lives in faults.py.
FAULTS: dict[str, tuple[str, str]] = {
    "254799999001": ("hang", "never answers (until the server stops); acted on"),
    "254799999002": ("slow", "answers normally after 3 s; acted on at once"),
    "254799999003": ("reset", "connection reset (TCP RST) before any answer"),
    "254799999004": ("reset-mid-body", "headers, Content-Length, half the body, then TCP RST; acted on"),
    "254799999005": ("http-500", 'HTTP 500 with JSON {"error": "Internal error"}'),
    "254799999006": ("http-503-html", "HTTP 503 with an HTML maintenance page"),
    "254799999007": ("http-429", "HTTP 429 with Retry-After: 1, every time"),
    "254799999008": ("http-502-html", 'HTTP 502 HTML "Bad Gateway" page, as nginx sends it'),
    "254799999009": ("truncated-json", "HTTP 200, body cut in the middle of the JSON object"),
    "254799999010": ("python-literals", 'the docs\' sloppy body (True/Null, { "MT-..." }); acted on'),
    "254799999011": ("empty-body", "HTTP 200 with an empty body"),
    "254799999012": ("huge-body", "HTTP 200, the answer padded to ~3 MiB on one line; acted on"),
    "254799999013": ("non-utf8", "HTTP 200, latin-1 bytes in the body (not UTF-8); acted on"),
    "254799999014": ("http-511", 'HTTP 511 {"error": "Username or Password incorrect"}'),
    "254799999015": ("send-failed-barred", 'HTTP 200 {"590": "SEND_FAILED: subscriber is barred ..."}'),
    "254799999016": ("hostile-text", "Rich markup and ANSI/OSC escapes in name and error; acted on"),
    "254799999017": ("bad-signature", "refused as unauthenticated, whatever the signature or key"),
    "254799999018": ("flaky", "first request per campaign since start/reset: 503; then normal"),
    "254799999019": ("old-zero", "gateway routes answer the old-style body 0 (success); acted on"),
    "254799999020": ("docs-mt-braces", 'gateway routes answer the docs\' { "MT-..." } body; acted on'),
}


def initial_state(campaign_id: str, msisdn: str) -> str:
    """The state a number has before anything changed it; the same on every run."""
    for sample_msisdn, state, _ in SAMPLES:
        if sample_msisdn == msisdn:
            return state
    digest = hashlib.sha256(f"{campaign_id}{msisdn}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    if fraction < ACTIVE_SHARE:
        return "active"
    others = SUBSCRIPTION_STATES[1:]
    index = int((fraction - ACTIVE_SHARE) / (1 - ACTIVE_SHARE) * len(others))
    return others[min(index, len(others) - 1)]
