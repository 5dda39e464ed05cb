"""What a call gives back: typed results, free of any HTTP library.

The console imports these at start-up without paying for httpx.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mobitui.core.config import Route
from mobitui.core.recorder import Exchange

STATES = (
    "active",
    "inactive",
    "nf",
    "nfi",
    "ping",
    "onhold",
    "blocked",
    "reinvite",
    "doi-onhold",
    "doi-declined",
    "suspended",
    "investigate",
    "unsub",
)
ANSWER_FIELDS = (
    "authenticated",
    "valid_msisdn",
    "valid_campaign",
    "campaign_status",
    "campaign_name",
    "campaign_service",
    "state",
    "error",
    "reference",
)


class Operation(str, Enum):
    STATUS = "status"
    UNSUBSCRIBE = "unsubscribe"


class Outcome(str, Enum):
    OK = "ok"
    FAILED = "failed"
    UNKNOWN = "unknown"  # a mutating call that may or may not have been acted on


@dataclass(slots=True)
class Result:
    msisdn: str
    campaign_id: str
    operation: Operation
    route: Route
    outcome: Outcome
    state: str | None = None
    http_status: int | None = None
    reference: str | None = None
    error: str | None = None
    answer: dict[str, Any] = field(default_factory=dict)  # the answer's nine fields, as sent
    exchanges: list[Exchange] = field(default_factory=list)
    retry_after: float | None = None
    transient: bool = False
    checked_at: float = field(default_factory=lambda: time.time())
    # Set when the server's answer could not be written to the journal: the outcome
    # above is still what the server said; the journal's row says 'attempted'.
    journal_error: str | None = None
    # An unsubscribe refused before anything was sent (another one of the number in
    # flight or just accepted; a journal that cannot record it): ``outcome`` is FAILED,
    # ``state`` is not known from this call, and what was known before still holds.
    not_sent: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "msisdn": self.msisdn,
            "campaign_id": self.campaign_id,
            "operation": self.operation.value,
            "route": self.route.value,
            "ok": self.ok,
            "outcome": self.outcome.value,
            "state": self.state,
            "http_status": self.http_status,
            "reference": self.reference,
            "error": self.error,
            "journal_error": self.journal_error,
            "not_sent": self.not_sent,
        }


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """A request as it will be sent, for the confirmation screen
    (:func:`mobitui.core.routes.plan.shown`). ``url`` and ``body`` are the bytes sent,
    except the parts named in ``later``: (what is shown in their place, what is sent
    there), for the key (never shown) and what is known only when it is sent."""

    method: str
    url: str
    body: str
    effect: str
    later: tuple[tuple[str, str], ...] = ()
    note: str = ""  # one line naming what ``later`` lists, for the dialog
