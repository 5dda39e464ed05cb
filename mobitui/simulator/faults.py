"""Which fault, if any, spoils a request, and what the client then gets.

Checked in this order: the rate limit, the magic number (see samples.FAULTS),
then the per-run random error, hang and reset rates.

A fault normally strikes *before* the server acts, so a faulted unsubscribe
changes nothing. The exceptions (``acts=True``) are the faults where the server
did its work and only the answer went wrong: a hang, a slow answer, a reset in
the middle of the body (the client cannot know what happened: "outcome
unknown" is real), and the answers that are complete but written oddly
(Python literals, padding, latin-1, hostile text, ``0``, ``{ "MT-..." }``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from starlette.responses import Response

from mobitui.simulator import canned
from mobitui.simulator.decision import Api, Decision, Style
from mobitui.simulator.render import HTML, json_response, response
from mobitui.simulator.responses import HangResponse, PartialBodyResponse, ResetResponse
from mobitui.simulator.samples import FAULTS, SLOW_SECONDS
from mobitui.simulator.state import SimState


@dataclass(frozen=True, slots=True)
class Fault:
    name: str  # as logged
    kind: str  # the behaviour, see respond()
    acts: bool = False  # the request's state change is applied anyway
    delay: float = 0.0  # seconds before the answer
    retry_after: int = 1  # for the 429s


def _magic(name: str, acts: bool = False, delay: float = 0.0) -> Fault:
    return Fault(name, name, acts, delay)


BY_NAME: dict[str, Fault] = {
    f.name: f
    for f in (
        _magic("hang", acts=True),
        _magic("slow", acts=True, delay=SLOW_SECONDS),
        _magic("reset"),
        _magic("reset-mid-body", acts=True),
        _magic("http-500"),
        _magic("http-503-html"),
        _magic("http-429"),
        _magic("http-502-html"),
        _magic("truncated-json"),
        _magic("python-literals", acts=True),
        _magic("empty-body"),
        _magic("huge-body", acts=True),
        _magic("non-utf8", acts=True),
        _magic("http-511"),
        _magic("send-failed-barred"),
        _magic("hostile-text", acts=True),
        _magic("bad-signature"),
        _magic("flaky"),
        _magic("old-zero", acts=True),
        _magic("docs-mt-braces", acts=True),
    )
}
MAGIC: dict[str, Fault] = {msisdn: BY_NAME[name] for msisdn, (name, _) in FAULTS.items()}

RATE_LIMITED = Fault("rate-limited", "http-429")
RANDOM_ERRORS = (
    Fault("random-500", "http-500"),
    Fault("random-502", "http-502-html"),
    Fault("random-503", "http-503-html"),
)
RANDOM_HANG = Fault("random-hang", "hang", acts=True)
RANDOM_RESET = Fault("random-reset", "reset")


def choose(decision: Decision, sim: SimState) -> Fault | None:
    wait = sim.admit()
    if wait is not None:
        return replace(RATE_LIMITED, retry_after=wait)
    magic = MAGIC.get(decision.msisdn or "")
    if magic is not None:
        if magic.kind == "flaky" and not sim.first_contact(decision.campaign_id or "", decision.msisdn or ""):
            return None
        return magic
    opts = sim.options
    if not (opts.error_rate or opts.hang_rate or opts.reset_rate):
        return None
    draw = sim.draw()
    if draw < opts.error_rate:
        return RANDOM_ERRORS[int(draw / opts.error_rate * len(RANDOM_ERRORS)) % len(RANDOM_ERRORS)]
    if draw < opts.error_rate + opts.hang_rate:
        return RANDOM_HANG
    if draw < opts.error_rate + opts.hang_rate + opts.reset_rate:
        return RANDOM_RESET
    return None


def respond(fault: Fault, decision: Decision, api: Api, sim: SimState, style: Style) -> Response:
    """What the client gets; ``style`` is the run's normal answer style."""
    match fault.kind:
        case "hang":
            return HangResponse(sim.waits)
        case "slow":
            return api.render(decision, style)
        case "reset":
            return ResetResponse()
        case "reset-mid-body":
            return PartialBodyResponse(api.render(decision, style))
        case "http-500":
            return json_response(500, {"error": "Internal error"})
        case "http-503-html" | "flaky":
            return response(503, canned.MAINTENANCE_HTML, HTML)
        case "http-429":
            return json_response(429, {"error": "Too Many Requests"}, {"Retry-After": str(fault.retry_after)})
        case "http-502-html":
            return response(502, canned.NGINX_502_HTML, HTML, {"Server": "nginx"})
        case "truncated-json":
            return api.render(decision, Style.TRUNCATED)
        case "python-literals":
            return api.render(decision, Style.DOCS)
        case "empty-body":
            return response(200, b"", "application/json")
        case "huge-body":
            return api.render(decision, Style.HUGE)
        case "non-utf8":
            return api.render(decision, Style.LATIN1)
        case "http-511":
            return json_response(511, {"error": "Username or Password incorrect"})
        case "send-failed-barred":
            return json_response(200, {"590": "SEND_FAILED: subscriber is barred by the network"})
        case "hostile-text":
            return api.render(decision, Style.HOSTILE)
        case "bad-signature":
            return api.refuse_credentials(decision, style)
        case "old-zero":
            return api.render(decision, Style.OLD_ZERO)
        case "docs-mt-braces":
            return api.render(decision, Style.MT_BRACES)
    raise ValueError(f"unknown fault kind {fault.kind!r}")
