"""``GET /api/doi/<account_id>/<api_key>/?...&stop=1``: the MNO Web Opt-In stop (Kenya).

Always HTTP 200; the body says what happened: ``{"200": "MT-..."}`` on success,
``{"590": "SEND_FAILED: <why>"}`` otherwise. Only ``stop=1`` is simulated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from mobitui.simulator import canned
from mobitui.simulator.decision import Decision, Operation, Style
from mobitui.simulator.gateway import find_campaign, success_variant
from mobitui.simulator.query import Query
from mobitui.simulator.render import JSON, encode_json, response
from mobitui.simulator.state import SimState
from mobitui.simulator.validation import same_secret, valid_msisdn

PREFIX = "/api/doi/"
REQUIRED = ("source", "destination", "keyword", "frequency", "campaign", "reference", "stop")
BAD_CREDENTIALS = "SEND_FAILED: invalid account or api key"


class DoiApi:
    def __init__(self, sim: SimState):
        self.sim = sim

    async def decide(self, request: Request) -> Decision:
        # The raw path, so an API key with an encoded "/" stays one segment.
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        rest = raw_path.split("?", 1)[0][len(PREFIX) :].strip("/")
        segments = [unquote(s) for s in rest.split("/")] if rest else []
        raw_query = request.scope["query_string"].decode("latin-1")
        q = Query(raw_query)
        value = {name: (q.get(name) or "").strip() for name in REQUIRED}
        msisdn = value["destination"] or None
        lookup = find_campaign(self.sim.campaigns.values(), value["keyword"] or None, value["source"])
        campaign = lookup.campaign
        account = segments[0] if segments else ""
        logged_path = f"{PREFIX}{account}/***/" if len(segments) > 1 else raw_path

        def decision(answer: dict[str, str], commit: Callable[[], None] | None = None) -> Decision:
            return Decision(
                operation=Operation.DOI_STOP,
                status=200,
                payload=answer,
                summary=next(iter(answer.values())),
                msisdn=msisdn,
                campaign_id=campaign.campaign_id if campaign else None,
                path=logged_path,
                query=raw_query,
                commit=commit,
            )

        def fail(why: str) -> Decision:
            return decision({"590": f"SEND_FAILED: {why}"})

        if len(segments) != 2:
            return fail("expected /api/doi/<account_id>/<api_key>/")
        if not (same_secret(account.lower(), self.sim.account_id) and same_secret(segments[1], self.sim.api_key)):
            return decision({"590": BAD_CREDENTIALS})
        missing = next((name for name in REQUIRED if not value[name]), None)
        if missing:
            return fail(f"missing parameter {missing}")
        if value["stop"] != "1":
            return fail("only stop=1 (unsubscribe) is supported here")
        if not valid_msisdn(msisdn):
            return fail(f"invalid destination {value['destination']}")
        if not value["frequency"].isdigit() or int(value["frequency"]) < 1:
            return fail(f"invalid frequency {value['frequency']}")
        if lookup.unknown_keyword:
            return fail(f"unknown keyword {value['keyword']}")
        if campaign is None:
            return fail(f"source {value['source']} is not the shortcode of keyword {value['keyword']}")
        commit = partial(self.sim.unsubscribe, campaign.campaign_id, msisdn)
        return decision({"200": self.sim.mt_reference()}, commit)

    def render(self, decision: Decision, style: Style) -> Response:
        answer: dict[str, str] = decision.payload
        reference = answer.get("200")
        if reference is not None:
            variant = success_variant(reference, style)
            if variant is not None:
                return variant
        match style:
            case Style.DOCS:
                # The docs print the success with a trailing comma, the failure without.
                comma = "," if reference is not None else ""
                body = "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in answer.items())
                return response(200, body + comma + "\n}", JSON)
            case Style.TRUNCATED if reference is not None:
                return response(200, '{"200": "', JSON)
            case Style.HOSTILE:
                answer = {k: f"{v} {canned.HOSTILE_ERROR}" for k, v in answer.items()}
            case Style.LATIN1:
                answer = {k: f"{v} {canned.LATIN1_TEXT}" for k, v in answer.items()}
        return response(200, encode_json(answer, style), JSON)

    def refuse_credentials(self, decision: Decision, style: Style) -> Response:
        return self.render(Decision(Operation.DOI_STOP, 200, {"590": BAD_CREDENTIALS}, BAD_CREDENTIALS), style)
