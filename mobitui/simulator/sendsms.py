"""``GET /srs/api/sendsms``: a plain MT send, or an unsubscribe notification.

An unsubscribe is ``STARTED`` ending in ``+STOP`` together with ``CLASS=PAUSE``.
The ``+`` is accepted both ways a client may send it: ``%2B`` (a literal plus)
or a bare ``+`` (which form decoding reads as a space). The campaign is the one
whose keyword is ``KEYWORD`` and whose shortcode is ``ORIGINATOR``.

Success is ``200`` with the text ``MT-<32 hex>``. Failures carry their gateway
code (from the reference sheet's catalogue) in the body, as the DOI route does:
``200 {"506": "Parse error: ..."}``; the HTTP status line is the transport's
(reference sheet, "HTTP status versus gateway codes"). The one exception is
the docs' own 511 tab: bad credentials answer ``511 {"error": "Username or
Password incorrect"}`` (seed 003).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from mobitui.simulator import canned
from mobitui.simulator.decision import Decision, Operation, Style
from mobitui.simulator.gateway import find_campaign, success_variant
from mobitui.simulator.query import Query, redact_param
from mobitui.simulator.render import JSON, TEXT, encode_json, mt_braces, response
from mobitui.simulator.state import SimState
from mobitui.simulator.validation import same_secret, valid_msisdn

REQUIRED = ("USER_NAME", "PASSWORD", "ORIGINATOR", "RECIPIENT", "MESSAGE_TEXT")
REQUIRED_FOR_STOP = ("KEYWORD", "STARTED")
BAD_CREDENTIALS = "Username or Password incorrect"


@dataclass(frozen=True, slots=True)
class MtAnswer:
    reference: str | None = None  # on success
    error: str | None = None  # on failure


class SendSmsApi:
    def __init__(self, sim: SimState):
        self.sim = sim

    async def decide(self, request: Request) -> Decision:
        raw = request.scope["query_string"].decode("latin-1")
        q = Query(raw)
        stop = q.ends_with_stop("STARTED") and (q.get("CLASS") or "").strip().upper() == "PAUSE"
        operation = Operation.MT_STOP if stop else Operation.MT_SEND
        msisdn = (q.get("RECIPIENT") or "").strip() or None
        originator = (q.get("ORIGINATOR") or "").strip()
        keyword = (q.get("KEYWORD") or "").strip() or None
        lookup = find_campaign(self.sim.campaigns.values(), keyword, originator)
        campaign = lookup.campaign

        def decision(status: int, answer: MtAnswer, commit: Callable[[], None] | None = None) -> Decision:
            return Decision(
                operation=operation,
                status=status,
                payload=answer,
                summary=answer.reference or answer.error or "",
                msisdn=msisdn,
                campaign_id=campaign.campaign_id if campaign else None,
                path=request.url.path,
                query=redact_param(raw, "PASSWORD"),
                commit=commit,
            )

        def fail(code: int, text: str) -> Decision:
            return decision(code, MtAnswer(error=text))

        required = REQUIRED + (REQUIRED_FOR_STOP if stop else ())
        missing = [name for name in required if not q.has(name)]
        if missing:
            return fail(506, f"Parse error: missing parameter {', '.join(missing)}")
        user = (q.get("USER_NAME") or "").strip().lower()
        if not (same_secret(user, self.sim.account_id) and same_secret(q.get("PASSWORD"), self.sim.api_key)):
            return fail(511, BAD_CREDENTIALS)
        if not valid_msisdn(msisdn):
            return fail(506, f"Parse error: RECIPIENT '{msisdn or ''}' is not an international number")
        if originator == msisdn:
            return fail(518, "Originator equals recipient")
        if not (q.get("MESSAGE_TEXT") or "").strip():
            return fail(531, "Blank message")
        if lookup.unknown_keyword:
            return fail(550, f"Generic error: unknown KEYWORD '{keyword}'")
        if campaign is None:
            return fail(535, f"Invalid ORIGINATOR address '{originator}'")

        commit = partial(self.sim.unsubscribe, campaign.campaign_id, msisdn) if stop else None
        return decision(200, MtAnswer(reference=self.sim.mt_reference()), commit)

    def render(self, decision: Decision, style: Style) -> Response:
        answer: MtAnswer = decision.payload
        if answer.reference is None:
            return self._error(decision.status, answer.error or "", style)
        ref = answer.reference
        variant = success_variant(ref, style)
        if variant is not None:
            return variant
        match style:
            case Style.DOCS:
                return response(200, mt_braces(ref), JSON)
            case Style.LATIN1:
                return response(200, f"{ref} {canned.LATIN1_TEXT}".encode("latin-1"), TEXT)
            case Style.HOSTILE:
                return response(200, f"{ref} {canned.HOSTILE_ERROR}", TEXT)
            case Style.HUGE:
                return response(200, f"{ref} {canned.padding()}", TEXT)
            case Style.TRUNCATED:
                # The docs' JSON-ish form, cut before the reference.
                return response(200, '{\n  "', JSON)
        return response(200, ref, TEXT)

    @staticmethod
    def _error(code: int, text: str, style: Style) -> Response:
        if style is Style.HOSTILE:
            text = f"{text} {canned.HOSTILE_ERROR}"
        elif style is Style.LATIN1:
            text = f"{text} {canned.LATIN1_TEXT}"
        if code == 511:  # as seed 003 draws it
            return response(511, encode_json({"error": text}, style), JSON)
        return response(200, encode_json({str(code): text}, style), JSON)

    def refuse_credentials(self, decision: Decision, style: Style) -> Response:
        return self._error(511, BAD_CREDENTIALS, style)
