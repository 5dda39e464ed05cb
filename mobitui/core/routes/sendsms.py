"""The MT stop notification: ``GET <gateway>/srs/api/sendsms?…&STARTED=<ts>+STOP&CLASS=PAUSE``.

``USER_NAME`` is the account id, ``PASSWORD`` the API key (in the URL: it is
redacted wherever the URL is shown or stored). ``STARTED`` is the UTC minute the
request is sent, ``YYYY-MM-DD HH:MM``. The ``+`` before ``STOP`` is sent raw, byte
for byte as in the docs' example (a form-decoding server reads it as a space); the
simulator (:mod:`mobitui.simulator.sendsms`) accepts either.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mobitui.core.config import Campaign, Config, Route
from mobitui.core.routes.request import Later, Part, Request, encode, holes, query

SETTING = "endpoints.gateway"
PATH = "/srs/api/sendsms"

# Shown in the dialog in STARTED's place: the minute is the one the request leaves in.
SENT_MINUTE = Later("<UTC minute when sent>", "the UTC minute it is sent in")


def started(at: float | Later) -> Part:
    """``STARTED``'s value for a request sent at ``at`` (seconds since the epoch): the UTC minute."""
    if isinstance(at, Later):
        return at
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M")


def stop(config: Config, campaign: Campaign, msisdn: str, key: Part, at: float | Later) -> Request:
    """The stop notification to ``msisdn``, sent with API key ``key`` at ``at`` (epoch seconds)."""
    params: list[tuple[str, Part]] = [
        ("USER_NAME", config.account.account_id),
        ("PASSWORD", key),
        ("ORIGINATOR", str(campaign.shortcode)),
        ("RECIPIENT", msisdn),
        ("PROVIDER", str(campaign.provider)),
        ("MESSAGE_TEXT", campaign.stop_message),
        ("KEYWORD", str(campaign.keyword)),
    ]
    when = started(at)
    # "+STOP" raw, as in the docs' example; see the module docstring.
    q = query(params) + f"&STARTED={encode(when)}+STOP&CLASS=PAUSE"
    params += [("STARTED", when), ("CLASS", "PAUSE")]
    return Request(
        Route.MT_STOP, "GET", f"{config.endpoints.gateway}{PATH}?{q}", params=tuple(params), later=holes(key, when)
    )


def effect(campaign: Campaign) -> str:
    """What the stop notification does, in plain words."""
    return (
        f"An SMS '{campaign.stop_message}' is sent to the subscriber from "
        f"{campaign.shortcode} via {campaign.provider}, marked +STOP / CLASS=PAUSE, "
        "which ends the subscription."
    )
