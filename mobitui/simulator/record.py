"""One line of the simulator's request log."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What the simulator received and what it did about it.

    ``path`` and ``query`` are as received (the raw query string, not decoded),
    except that the API key is replaced by ``***``. ``status`` is the HTTP status
    line sent, None when no status line was sent (hang, reset). ``acted`` says
    whether the request's state change was applied, which a fault may prevent.
    """

    time: float
    method: str
    path: str
    query: str
    msisdn: str | None
    campaign_id: str | None
    operation: str  # status|unsubscribe|initiate|validate_pin|mt-send|mt-stop|doi-stop|unknown
    outcome: str  # e.g. "200 active", "401 Invalid signature", "hang", "503 flaky"
    status: int | None
    fault: str | None
    acted: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
