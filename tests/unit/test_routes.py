"""The routes' requests as built, and the key rule, without a server (mobitui.core.routes)."""

from __future__ import annotations

import pytest

from mobitui.core.config import Route
from mobitui.core.routes import plan
from mobitui.simulator.demo import DEMO_API_KEY, demo_config

CONFIG = demo_config("http://127.0.0.1:9")
NUMBER = "254700000101"
AT = 1_795_442_400.0  # 2026-11-23 14:00:00 UTC


def campaign(route: Route):  # type: ignore[no-untyped-def]
    return next(c for c in CONFIG.campaigns if c.unsubscribe_via is route)


@pytest.mark.parametrize("route", list(Route), ids=[r.value for r in Route])
def test_what_is_sent_and_what_is_shown_differ_only_where_the_plan_says(route):
    sent = plan.unsubscribe(CONFIG, campaign(route), NUMBER, key=DEMO_API_KEY, reference=plan.reference(17), at=AT)
    shown = plan.unsubscribe(CONFIG, campaign(route), NUMBER, key=plan.KEY)
    assert sent.later == ()
    assert "<" not in sent.url and "***" not in sent.url
    expected = {
        Route.SUBSCRIPTION_API: "http://127.0.0.1:9/subscriptions/v1/de000000000000000000000000c0a001/unsubscribe",
        Route.MT_STOP: (
            "http://127.0.0.1:9/srs/api/sendsms?USER_NAME=de00000000000000000000000000d3e0&PASSWORD=@KEY@"
            "&ORIGINATOR=20456&RECIPIENT=254700000101&PROVIDER=Safaricom&MESSAGE_TEXT=YOU%20HAVE%20UNSUBSCRIBED"
            "&KEYWORD=mv-100620007&STARTED=@MINUTE@+STOP&CLASS=PAUSE"
        ),
        Route.DOI: (
            "http://127.0.0.1:9/api/doi/de00000000000000000000000000d3e0/@KEY@/?source=20789&destination=254700000101"
            "&keyword=mv-100620008&frequency=7&campaign=Kenya%20Web%20Opt-In&reference=@REF@&provider=safaricom&stop=1"
        ),
    }[route]
    assert sent.url == (
        expected.replace("@KEY@", DEMO_API_KEY)
        .replace("@MINUTE@", "2026-11-23%2014%3A00")
        .replace("@REF@", "mobitui-17")
    )
    assert shown.url == (
        expected.replace("@KEY@", "***")
        .replace("@MINUTE@", "<UTC minute when sent>")
        .replace("@REF@", "mobitui-<journal row>")
    )
    assert sent.content == shown.content
    if route is Route.SUBSCRIPTION_API:
        assert sent.content == b'{"msisdn": "254700000101", "signature": "8634d42109d4cf6c7ecbd9f850a74c17"}'
        assert shown.later == ()
    else:
        assert sent.content is None and plan.KEY in shown.later
    assert (sent.reference, shown.reference) == (
        ("mobitui-17", plan.JOURNAL_ROW) if route is Route.DOI else (None, None)
    )


def test_the_dialog_note_names_the_key_and_what_is_filled_in_when_sent():
    mt = plan.shown(plan.unsubscribe(CONFIG, campaign(Route.MT_STOP), NUMBER, key=plan.KEY), "")
    assert mt.note == "***: the API key; <…>: filled in when sent"
    assert dict(mt.later) == {"***": "the API key", "<UTC minute when sent>": "the UTC minute it is sent in"}
    keyless = plan.shown(plan.unsubscribe(CONFIG, campaign(Route.DOI), NUMBER), "")
    assert keyless.note == "<no key>: no API key is set yet, and without one nothing is sent; <…>: filled in when sent"
    assert "/<no key>/" in keyless.url
    restful = plan.shown(plan.unsubscribe(CONFIG, campaign(Route.SUBSCRIPTION_API), NUMBER, key=plan.KEY), "")
    assert restful.note == "" and restful.later == ()


def test_only_the_gateway_routes_need_the_key():
    assert [r for r in Route if r.needs_key] == [Route.MT_STOP, Route.DOI]


def test_no_module_decides_a_route_by_comparing_its_name():
    """Routes are compared as the ``Route`` enum (``is``, ``needs_key``), never with their
    names written out: a renamed or added route would otherwise slip past the comparison."""
    import re
    from pathlib import Path

    import mobitui

    names = "|".join(re.escape(r.value) for r in Route)
    compares = re.compile(rf"""[!=]=\s*["']({names})["']|["']({names})["']\s*[!=]=""")
    root = Path(mobitui.__file__).parent
    found = [
        f"{p.relative_to(root)}:{n}: {line.strip()}"
        for p in sorted(root.rglob("*.py"))
        if "simulator" not in p.parts
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if compares.search(line)
    ]
    assert found == []
