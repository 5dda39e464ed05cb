"""Per-run behaviour of the simulator: latency, random faults, rate limit, body style."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SimOptions:
    """How the whole simulator misbehaves for one run (the magic numbers come on top).

    Rates are fractions of API requests (0 to 1). A random error answers 500,
    502 or 503 and changes nothing; a random reset drops the connection before
    answering and changes nothing; a random hang applies the request, then
    never answers. ``seed`` makes the random choices reproducible.

    ``apply_late``: a mutating call is applied when its answer leaves, after the
    latency (and the slow number's delay), as a slow gateway does, rather than
    when it arrives. A client that gives up or dies meanwhile does not stop it.
    ``stop_latency_ms`` holds only the calls that change state that much longer
    (status checks keep ``latency_ms``).
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    hang_rate: float = 0.0
    reset_rate: float = 0.0
    rate_limit: float | None = None  # requests per second across the server
    docs_bodies: bool = False  # answer in the docs' sloppy, not-quite-JSON forms
    apply_late: bool = False  # apply a mutating call after the answer's delay, not on arrival
    stop_latency_ms: float = 0.0  # more delay for a call that changes state (a slow gateway)
    seed: int | None = None

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        found: list[str] = []
        for name in ("latency_ms", "jitter_ms", "stop_latency_ms"):
            if getattr(self, name) < 0:
                found.append(f"{name} must be 0 or more, got {getattr(self, name)}")
        rates = ("error_rate", "hang_rate", "reset_rate")
        for name in rates:
            value = getattr(self, name)
            if not 0 <= value <= 1:
                found.append(f"{name} must be between 0 and 1, got {value}")
        total = sum(getattr(self, name) for name in rates)
        if total > 1:
            found.append(f"error_rate + hang_rate + reset_rate must not exceed 1, got {total:g}")
        if self.rate_limit is not None and self.rate_limit <= 0:
            found.append(f"rate_limit must be more than 0 requests per second, got {self.rate_limit}")
        return found
