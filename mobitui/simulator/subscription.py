"""``POST /subscriptions/v1/<campaign_id>/<method>``: status, unsubscribe, initiate, validate_pin.

Checks in this order: the MSISDN (400), the signature (401), the campaign
(404), then the method's own parameters. Every answer carries the nine fields
the docs list; only ``state`` and ``error`` vary much.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mobitui.core.config import Campaign
from mobitui.simulator import canned, lenient
from mobitui.simulator.decision import Decision, Operation, Style
from mobitui.simulator.render import JSON, encode_json, python_literal, response
from mobitui.simulator.samples import CORRECT_PIN, MAX_PIN_FAILURES
from mobitui.simulator.state import SimState
from mobitui.simulator.validation import expected_signature, same_secret, valid_msisdn

_OPERATIONS = {
    "status": Operation.STATUS,
    "unsubscribe": Operation.UNSUBSCRIBE,
    "initiate": Operation.INITIATE,
    "validate_pin": Operation.VALIDATE_PIN,
}


def _text(value: Any) -> str | None:
    """A body field as text; numbers are accepted (msisdn often arrives as one)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else None


class SubscriptionApi:
    def __init__(self, sim: SimState):
        self.sim = sim

    async def decide(self, request: Request) -> Decision:
        path_id: str = request.path_params["campaign_id"]
        method: str = request.path_params["method"]
        campaign = self.sim.campaign(path_id)
        campaign_id = campaign.campaign_id if campaign else path_id.lower()
        data = lenient.parse_object(await request.body()) or {}
        msisdn = _text(data.get("msisdn"))
        operation = _OPERATIONS.get(method, Operation.UNKNOWN)

        def answer(
            status: int,
            state: str | None,
            error: str | None = None,
            *,
            authenticated: bool = True,
            msisdn_ok: bool = True,
            commit: Callable[[], None] | None = None,
        ) -> Decision:
            fields = {
                "authenticated": authenticated,
                "valid_msisdn": msisdn_ok,
                "valid_campaign": campaign is not None,
                "campaign_status": "active" if campaign else None,
                "campaign_name": campaign.name if campaign else None,
                "campaign_service": campaign.shortcode if campaign else None,
                "state": state,
                "error": error,
                "reference": self.sim.reference(),
            }
            return Decision(
                operation=operation,
                status=status,
                payload=fields,
                summary=error or state or "",
                msisdn=msisdn,
                campaign_id=campaign_id,
                path=request.url.path,
                query=request.scope["query_string"].decode("latin-1"),
                commit=commit,
            )

        signed = self._signed(data.get("signature"), path_id, campaign_id, msisdn or "")
        if operation is Operation.UNKNOWN:
            return answer(404, None, f"Method '{method}' not found", authenticated=signed)
        if request.method != "POST":
            return answer(405, None, "Method not allowed: use POST", authenticated=signed)
        if msisdn is None:
            return answer(400, None, "Missing parameter: msisdn", authenticated=signed, msisdn_ok=False)
        if not valid_msisdn(msisdn):
            return answer(
                400,
                None,
                f"Invalid MSISDN '{msisdn}': digits only, international format",
                authenticated=signed,
                msisdn_ok=False,
            )
        if not signed:
            return answer(401, None, "Invalid signature", authenticated=False)
        if campaign is None:
            return answer(404, None, f"CampaignID '{path_id}' not found!")

        sim = self.sim
        if operation is Operation.STATUS:
            return answer(200, sim.state_of(campaign_id, msisdn))
        if operation is Operation.UNSUBSCRIBE:
            return answer(200, "unsubscribed", commit=partial(sim.unsubscribe, campaign_id, msisdn))

        keyword_problem = self._keyword_problem(campaign, _text(data.get("keyword")))
        if keyword_problem:
            return answer(400, None, keyword_problem)
        if operation is Operation.INITIATE:
            return answer(200, "pending_pin", commit=partial(sim.issue_pin, campaign_id, msisdn))

        pin = _text(data.get("pin"))
        if not pin:
            return answer(400, None, "Missing parameter: pin")
        if sim.pin_failures(campaign_id, msisdn) >= MAX_PIN_FAILURES:
            return answer(
                440,
                sim.state_of(campaign_id, msisdn),
                "Maximum number of failed attempts! PIN is no longer existing!",
            )
        if pin == CORRECT_PIN:
            return answer(200, "subscribed", commit=partial(sim.confirm_pin, campaign_id, msisdn))
        return answer(417, "pending_pin", "Invalid PIN", commit=partial(sim.fail_pin, campaign_id, msisdn))

    def _signed(self, given: Any, path_id: str, campaign_id: str, msisdn: str) -> bool:
        if not isinstance(given, str):
            return False
        given = given.strip().lower()
        account = self.sim.account_id
        # The campaign id as the client wrote it in the path, or in canonical lowercase.
        return any(same_secret(given, expected_signature(account, cid, msisdn)) for cid in {path_id, campaign_id})

    @staticmethod
    def _keyword_problem(campaign: Campaign, keyword: str | None) -> str | None:
        if not keyword:
            return "Missing parameter: keyword"
        if campaign.keyword and keyword.casefold() != campaign.keyword.casefold():
            return f"Keyword '{keyword}' does not belong to campaign '{campaign.name}'"
        return None

    def render(self, decision: Decision, style: Style) -> Response:
        fields: dict[str, Any] = decision.payload
        if style is Style.DOCS:
            return response(decision.status, python_literal(fields), JSON)
        if style is Style.HOSTILE:
            fields = {**fields, "campaign_name": canned.HOSTILE_NAME, "error": canned.HOSTILE_ERROR}
        elif style is Style.LATIN1:
            name = fields["campaign_name"] or "Campaign"
            fields = {**fields, "campaign_name": f"{name} {canned.LATIN1_TEXT}"}
        # OLD_ZERO and MT_BRACES are gateway forms; here they read as PLAIN.
        return response(decision.status, encode_json(fields, style), JSON)

    def refuse_credentials(self, decision: Decision, style: Style) -> Response:
        fields = {**decision.payload, "authenticated": False, "state": None, "error": "Invalid signature"}
        refused = Decision(decision.operation, 401, fields, "Invalid signature")
        return self.render(refused, style)
