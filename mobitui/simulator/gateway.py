"""What the two gateway routes (sendsms and DOI) share.

Both name a campaign by its keyword and shortcode rather than its id, and both
answer success with an ``MT-`` reference that older or sloppier servers write
as ``0`` or ``{ "MT-..." }``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.responses import Response

from mobitui.core.config import Campaign
from mobitui.simulator.decision import Style
from mobitui.simulator.render import JSON, TEXT, mt_braces, response


@dataclass(frozen=True, slots=True)
class Lookup:
    campaign: Campaign | None
    unknown_keyword: bool = False  # no campaign has this keyword
    wrong_shortcode: bool = False  # the keyword exists, but not on this shortcode


def find_campaign(campaigns: Iterable[Campaign], keyword: str | None, shortcode: str | None) -> Lookup:
    """The campaign with this keyword (if given) on this shortcode."""
    shortcode = (shortcode or "").strip()
    candidates = list(campaigns)
    if keyword:
        candidates = [c for c in candidates if c.keyword and c.keyword.casefold() == keyword.casefold()]
        if not candidates:
            return Lookup(None, unknown_keyword=True)
    for campaign in candidates:
        if campaign.shortcode and campaign.shortcode == shortcode:
            return Lookup(campaign)
    return Lookup(None, wrong_shortcode=True)


def success_variant(reference: str, style: Style) -> Response | None:
    """The old-style and docs-style success bodies common to both routes."""
    if style is Style.OLD_ZERO:
        return response(200, "0", TEXT)
    if style is Style.MT_BRACES:
        return response(200, mt_braces(reference), JSON)
    return None
