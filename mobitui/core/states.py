"""What the subscription states mean: OUR interpretation.

The Mobivate docs list the 13 state codes of the status method but define none
of them. The descriptions and groups below are our reading, marked as such
wherever they are shown, and each description can be overridden in the
``[states]`` table of the config.
"""

from __future__ import annotations

from enum import Enum


class Meaning(str, Enum):
    BILLING = "billing"
    PAUSED = "paused"
    BLOCKED = "blocked"
    GONE = "gone"
    PENDING = "pending"
    UNKNOWN = "unknown"


INTERPRETATION = "our interpretation; the Mobivate docs define no states"

_STATES: dict[str, tuple[Meaning, str]] = {
    "active": (Meaning.BILLING, "subscribed and being billed"),
    "inactive": (Meaning.GONE, "subscription exists but is not active; not billed"),
    "nf": (Meaning.GONE, "not found: no subscription for this number in this campaign"),
    "nfi": (Meaning.GONE, "not found, inactive: no live subscription record"),
    "ping": (Meaning.PENDING, "being checked with the network before billing"),
    "onhold": (Meaning.PAUSED, "on hold: billing paused"),
    "blocked": (Meaning.BLOCKED, "blocked: the number is barred from this service"),
    "reinvite": (Meaning.PENDING, "due to be invited to subscribe again; not billed"),
    "doi-onhold": (Meaning.PAUSED, "double opt-in pending: waiting for the subscriber to confirm"),
    "doi-declined": (Meaning.BLOCKED, "double opt-in declined by the subscriber"),
    "suspended": (Meaning.PAUSED, "suspended: billing stopped for now, may resume"),
    "investigate": (Meaning.BLOCKED, "flagged for investigation; billing held"),
    "unsub": (Meaning.GONE, "unsubscribed: no longer billed"),
    # flow states seen in answers of other methods
    "unsubscribed": (Meaning.GONE, "unsubscribed: no longer billed"),
    "pending_pin": (Meaning.PENDING, "waiting for the subscriber's PIN"),
    "subscribed": (Meaning.BILLING, "subscribed"),
    "stop-sent": (Meaning.PENDING, "stop sent to the gateway; check status to confirm"),
}


def meaning(state: str | None) -> Meaning:
    if not state:
        return Meaning.UNKNOWN
    return _STATES.get(state.lower(), (Meaning.UNKNOWN, ""))[0]


def describe(state: str | None, overrides: dict[str, str] | None = None) -> str:
    """One line for a state code; config overrides win."""
    if not state:
        return "no state in the answer"
    if overrides and state in overrides:
        return overrides[state]
    known = _STATES.get(state.lower())
    return known[1] if known else "a state code the docs do not list"
