"""The Subscription API: ``POST <subscription_api>/<campaign_id>/<method>``.

``status`` and the RESTful ``unsubscribe`` send ``{"msisdn", "signature"}`` as JSON;
the signature is md5(account_id + campaign_id + msisdn), lowercase hex: the order
that reproduces the docs' worked example (the docs' prose lists another order).
No API key is sent on this route. Simulated by :mod:`mobitui.simulator.subscription`.
"""

from __future__ import annotations

import hashlib

from mobitui.core.config import Campaign, Config, Route
from mobitui.core.routes.request import Request

SETTING = "endpoints.subscription_api"  # the config setting that says where this route is


def signature(account_id: str, campaign_id: str, msisdn: str) -> str:
    """MD5 of account_id + campaign_id + msisdn, lowercase hex (the docs' worked example:
    ``43e36f54eef111e270639871000000f1``, ``c71e2c2ee68b410a82d6c5f910c2d428``,
    ``254700000000`` give ``1af289e14aa593c843da7cd869a8e2f7``)."""
    return hashlib.md5(f"{account_id}{campaign_id}{msisdn}".encode()).hexdigest()


def url(config: Config, campaign: Campaign, method: str) -> str:
    """``<subscription_api>/<campaign_id>/<method>``; ``method`` is ``status`` or ``unsubscribe``."""
    return f"{config.endpoints.subscription_api}/{campaign.campaign_id}/{method}"


def signed_body(config: Config, campaign: Campaign, msisdn: str) -> dict[str, str]:
    """``{"msisdn", "signature"}`` for ``msisdn`` (international digits) in ``campaign``."""
    return {"msisdn": msisdn, "signature": signature(config.account.account_id, campaign.campaign_id, msisdn)}


def status(config: Config, campaign: Campaign, msisdn: str) -> Request:
    """The ``status`` request for ``msisdn`` in ``campaign``."""
    return Request(
        Route.SUBSCRIPTION_API, "POST", url(config, campaign, "status"), body=signed_body(config, campaign, msisdn)
    )


def unsubscribe(config: Config, campaign: Campaign, msisdn: str) -> Request:
    """The RESTful ``unsubscribe`` request for ``msisdn`` in ``campaign``."""
    return Request(
        Route.SUBSCRIPTION_API, "POST", url(config, campaign, "unsubscribe"), body=signed_body(config, campaign, msisdn)
    )


def effect(campaign: Campaign) -> str:
    """What unsubscribing on this route does, in plain words."""
    return f"The Subscription API unsubscribes the number from campaign {campaign.name}; no SMS is sent by mobitui."
