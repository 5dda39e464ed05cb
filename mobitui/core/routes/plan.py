"""The one place a request is planned: what the confirmation dialog shows is what is sent.

:func:`unsubscribe` builds the request a campaign's unsubscribe sends. The client
calls it with the key, the reference and the moment of sending, and sends what it
returns; the dialog shows :func:`shown` of the same function called without them.
So the two differ only where a :class:`~mobitui.core.routes.request.Later` stands,
and the dialog names each such part:

* the API key (``***``): never shown;
* the DOI ``reference`` (``mobitui-<journal row>``): the journal row is made when
  the operator confirms, by the claim that keeps a number from being stopped twice
  (:meth:`mobitui.core.journal.Journal.begin`). It is not reserved before the
  dialog: a row made for a dialog that is then cancelled would read as a stop that
  may have been sent;
* the MT stop's ``STARTED`` (``<UTC minute when sent>``): the minute the request
  leaves, which an open dialog cannot know.
"""

from __future__ import annotations

from mobitui.core.config import Campaign, Config, Route
from mobitui.core.recorder import MASK
from mobitui.core.results import PlannedRequest
from mobitui.core.routes import doi, sendsms, subscription
from mobitui.core.routes.request import Later, Part, Request

REFERENCE_PREFIX = "mobitui-"

# What the dialog shows instead of the parts it cannot or must not show.
KEY = Later(MASK, "the API key", when_sent=False)
NO_KEY = Later("<no key>", "no API key is set yet, and without one nothing is sent", when_sent=False)
JOURNAL_ROW = Later(
    f"{REFERENCE_PREFIX}<journal row>", "mobitui- and the number of this stop's journal row, made when it is sent"
)
SENT_MINUTE = sendsms.SENT_MINUTE

_ROUTES = {Route.SUBSCRIPTION_API: subscription, Route.MT_STOP: sendsms, Route.DOI: doi}


def reference(row: int) -> str:
    """The reference sent with the stop recorded in journal row ``row`` (DOI's ``reference``)."""
    return f"{REFERENCE_PREFIX}{row}"


def status(config: Config, campaign: Campaign, msisdn: str) -> Request:
    """The ``status`` request for ``msisdn`` (international digits) in ``campaign``."""
    return subscription.status(config, campaign, msisdn)


def unsubscribe(
    config: Config,
    campaign: Campaign,
    msisdn: str,
    *,
    key: Part | None = None,
    reference: Part | None = None,
    at: float | Later | None = None,
) -> Request:
    """The request that unsubscribes ``msisdn`` from ``campaign`` on its route.

    ``key`` is the API key (the gateway routes only), ``reference`` our reference
    (DOI only; :func:`reference` of the journal row), ``at`` the moment of sending in
    seconds since the epoch (the MT stop's ``STARTED``). Each one left None is
    written as the :class:`Later` that names it (``KEY``/``NO_KEY`` is up to the
    caller), and listed in the request's ``later``. Raises nothing."""
    route = campaign.unsubscribe_via
    if route is Route.MT_STOP:
        return sendsms.stop(config, campaign, msisdn, NO_KEY if key is None else key, SENT_MINUTE if at is None else at)
    if route is Route.DOI:
        return doi.stop(
            config, campaign, msisdn, NO_KEY if key is None else key, JOURNAL_ROW if reference is None else reference
        )
    return subscription.unsubscribe(config, campaign, msisdn)


def effect(campaign: Campaign) -> str:
    """What unsubscribing on ``campaign``'s route does, in plain words."""
    return _ROUTES[campaign.unsubscribe_via].effect(campaign)


def unknown_outcome_rule(route: Route) -> str:
    """One sentence: what a resumed job does with a stop of ``route`` whose outcome is
    unknown (README "A number is stopped once"). The Subscription API's own status is
    the stop's outcome, so a number still subscribed is sent again; on the SMS routes
    the gateway may apply a stop later, so none is sent again automatically."""
    if route.resent_on_resume:
        return (
            "A stop whose outcome is unknown is re-checked by status when the job is resumed, and sent again "
            "only if the number is still subscribed (this route sends no SMS)."
        )
    return (
        "A stop whose outcome is unknown is never sent again automatically: a resume re-checks it by status "
        "and leaves it to you (the gateway may still apply it, and each stop is an SMS)."
    )


def setting(route: Route) -> str:
    """The config setting that says where ``route``'s requests go."""
    return _ROUTES[route].SETTING


def shown(request: Request, effect_text: str) -> PlannedRequest:
    """``request`` as the confirmation dialog shows it: method, URL and body as
    sent, with each part known only at sending (or never shown) named in ``later``
    as (what is shown, what is sent there). ``request`` must be built without the
    key (``key=KEY``): a request that carries the key is never shown."""
    return PlannedRequest(
        request.method,
        request.url,
        request.body_text,
        effect_text,
        later=tuple((p.shown, p.meaning) for p in request.later),
        note=note(request.later),
    )


WHEN_SENT = "<…>: filled in when sent"


def note(later: tuple[Later, ...]) -> str:
    """One line saying what the parts not shown are: each never-shown part with its
    meaning, then :data:`WHEN_SENT` once for the parts filled in when sent (their
    names say what they are). '' when the request is shown whole."""
    said = [f"{p.shown}: {p.meaning}" for p in later if not p.when_sent]
    if any(p.when_sent for p in later):
        said.append(WHEN_SENT)
    return "; ".join(said)
