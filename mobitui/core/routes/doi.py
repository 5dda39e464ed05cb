"""The MNO Web Opt-In stop: ``GET <doi host>/api/doi/<account_id>/<api_key>/?…&stop=1``.

The API key is a path segment: it is redacted wherever the URL is shown or stored.
``reference`` is the caller's own reference, echoed in the network's asynchronous
answers; mobitui sends ``mobitui-<journal row>`` (:func:`mobitui.core.routes.plan.reference`).
Simulated by :mod:`mobitui.simulator.doi`.
"""

from __future__ import annotations

from mobitui.core.config import Campaign, Config, Route
from mobitui.core.routes.request import Part, Request, encode, holes, query

SETTING = "endpoints.doi (or endpoints.gateway)"


def stop(config: Config, campaign: Campaign, msisdn: str, key: Part, reference: Part) -> Request:
    """The Web Opt-In stop for ``msisdn``, with API key ``key`` and our ``reference``."""
    params: list[tuple[str, Part]] = [
        ("source", str(campaign.shortcode)),
        ("destination", msisdn),
        ("keyword", str(campaign.keyword)),
        ("frequency", str(campaign.frequency)),
        ("campaign", campaign.doi_campaign),
        ("reference", reference),
    ]
    if campaign.provider:
        params.append(("provider", campaign.provider))
    params.append(("stop", "1"))
    account = config.account.account_id
    url = f"{config.endpoints.doi_host}/api/doi/{account}/{encode(key)}/?{query(params)}"
    return Request(Route.DOI, "GET", url, params=tuple(params), reference=reference, later=holes(key, reference))


def effect(campaign: Campaign) -> str:
    """What the Web Opt-In stop does, in plain words."""
    return (
        f"A Web Opt-In stop (stop=1) for keyword {campaign.keyword} from "
        f"{campaign.shortcode} is sent to the network; billing stops once the "
        "network confirms."
    )
