"""The request log tells calls apart and keeps them in the order they were made."""

from __future__ import annotations

from test_console import make_app, with_ui

from mobitui.core.calls import describe
from mobitui.core.recorder import Exchange
from mobitui.tui.widgets.request_log import RequestLog

SUB = "http://127.0.0.1:8080/subscriptions/v1/c71e2c2ee68b410a82d6c5f910c2d428"


def ex(ident: int, started: float, url: str, body: str = "", method: str = "POST") -> Exchange:
    return Exchange(ident, started, method, url, [], body, 200)


def test_each_route_is_named_with_its_number():
    assert describe(ex(1, 0, SUB + "/status", '{"msisdn": "254700000101", "signature": "x"}')) == (
        "status",
        "254700000101",
    )
    assert describe(ex(2, 0, SUB + "/unsubscribe", '{"msisdn": "254700000102", "signature": "x"}')) == (
        "unsubscribe",
        "254700000102",
    )
    mt = (
        "http://gw/srs/api/sendsms?USER_NAME=a&PASSWORD=***&ORIGINATOR=20123&RECIPIENT=254700000103"
        "&PROVIDER=safaricom&MESSAGE_TEXT=BYE&KEYWORD=k&STARTED=2026-11-30%2010:00+STOP&CLASS=PAUSE"
    )
    assert describe(ex(3, 0, mt, method="GET")) == ("mt-stop", "254700000103")
    doi = "http://gw/api/doi/acct/***/?source=20123&destination=254700000104&keyword=k&stop=1"
    assert describe(ex(4, 0, doi, method="GET")) == ("doi-stop", "254700000104")
    assert describe(ex(5, 0, "http://gw/somewhere/else", "<html>")) == ("?", "")


async def test_rows_name_the_operation_and_number_in_the_order_requests_were_made(sim_config):
    app = make_app(with_ui(sim_config, refresh_interval=0))
    async with app.run_test(size=(160, 40)) as pilot:
        log = app.query_one(RequestLog)
        body = '{{"msisdn": "{}", "signature": "x"}}'
        log.queue(ex(1, 100.0, SUB + "/status", body.format("254700000101")))
        log.queue(ex(2, 102.0, SUB + "/unsubscribe", body.format("254700000102")))
        log.flush()
        log.queue(ex(3, 101.0, SUB + "/status", body.format("254700000103")))  # made earlier, answered later
        log.flush()
        await pilot.pause()
        rows = [[str(c) for c in log.get_row_at(i)] for i in range(log.row_count)]
        assert [(r[1], r[2]) for r in rows] == [
            ("status", "254700000101"),
            ("status", "254700000103"),
            ("unsubscribe", "254700000102"),
        ]
        wide = log.columns[next(k for k in log.columns if k.value == "url")].width
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        narrow = log.columns[next(k for k in log.columns if k.value == "url")].width
        assert wide > narrow >= 40  # the URL takes the width there is
        assert wide >= len(SUB + "/unsubscribe")  # at 160 columns the whole URL fits
