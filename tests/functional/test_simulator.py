"""The simulator over real HTTP on 127.0.0.1, probed with plain httpx (not the mobitui client)."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from mobitui.simulator import SimulatorServer, cli
from mobitui.simulator.demo import (
    DEMO_ACCOUNT_ID,
    DEMO_API_KEY,
    DEMO_JOKES_ID,
    DEMO_OPT_IN_ID,
    DEMO_TIPS_ID,
    demo_toml,
)
from support.api import MAGIC_NUMBERS, SAMPLE_NUMBERS

ROOT = Path(__file__).resolve().parents[2]
ACTIVE, UNSUB = "254700000101", "254700000113"
OTHER = "254711223344"  # not a sample: state from the hash
MAGIC = {name: msisdn for msisdn, name in MAGIC_NUMBERS.items()}
REFERENCE = re.compile(r"AP:[0-9a-f]{7}-[0-9a-f]{9}-[0-9a-f]{8}")
MT = re.compile(r"MT-[0-9a-f]{32}")
NINE_FIELDS = {
    "authenticated",
    "valid_msisdn",
    "valid_campaign",
    "campaign_status",
    "campaign_name",
    "campaign_service",
    "state",
    "error",
    "reference",
}


# -- helpers ----------------------------------------------------------------------

# Plain HTTP only; one TLS context for every client spares loading CA bundles each time.
_TLS = ssl.create_default_context()


def client(server: SimulatorServer, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=timeout, verify=_TLS)


def async_client(server: SimulatorServer, timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base_url, timeout=timeout, verify=_TLS)


def sign(campaign_id: str, msisdn: str) -> str:
    return hashlib.md5(f"{DEMO_ACCOUNT_ID}{campaign_id}{msisdn}".encode()).hexdigest()


def api(http: httpx.Client, method: str, msisdn: str, campaign_id: str = DEMO_TIPS_ID, **extra: str) -> httpx.Response:
    body = {"msisdn": msisdn, "signature": sign(campaign_id, msisdn), **extra}
    return http.post(f"/subscriptions/v1/{campaign_id}/{method}", json=body)


def sendsms_path(
    msisdn: str,
    *,
    stop: str | None = "+STOP",
    password: str = DEMO_API_KEY,
    keyword: str = "mv-100620007",
    originator: str = "20456",
    drop: str | None = None,
) -> str:
    """The sendsms path and raw query, with ``stop`` appended to STARTED exactly as given."""
    params = {
        "USER_NAME": DEMO_ACCOUNT_ID,
        "PASSWORD": password,
        "ORIGINATOR": originator,
        "RECIPIENT": msisdn,
        "PROVIDER": "Safaricom",
        "MESSAGE_TEXT": "YOU%20HAVE%20UNSUBSCRIBED",
        "KEYWORD": keyword,
        "STARTED": "2024-05-01%2010:30" + (stop or ""),
    }
    if stop:
        params["CLASS"] = "PAUSE"
    params.pop(drop or "", None)
    return "/srs/api/sendsms?" + "&".join(f"{k}={v}" for k, v in params.items())


def doi_path(msisdn: str, *, key: str = DEMO_API_KEY, account: str = DEMO_ACCOUNT_ID, drop: str | None = None) -> str:
    params = {
        "source": "20789",
        "destination": msisdn,
        "keyword": "mv-100620008",
        "frequency": "7",
        "campaign": "Kenya%20Web%20Opt-In",
        "reference": "test-ref",
        "provider": "safaricom",
        "stop": "1",
    }
    params.pop(drop or "", None)
    return f"/api/doi/{account}/{key}/?" + "&".join(f"{k}={v}" for k, v in params.items())


def state(server: SimulatorServer, msisdn: str, campaign_id: str = DEMO_TIPS_ID) -> str:
    return server.sim.state_of(campaign_id, msisdn)


def last_record(server: SimulatorServer) -> dict[str, object]:
    return server.sim.requests[-1]


@pytest.fixture
def http(simulator: SimulatorServer) -> Iterator[httpx.Client]:
    with client(simulator) as http_client:
        yield http_client


# -- Subscription API ---------------------------------------------------------------


@pytest.mark.parametrize(("msisdn", "expected"), [(m, s) for s, m in SAMPLE_NUMBERS.items()])
def test_status_of_each_sample(http: httpx.Client, msisdn: str, expected: str) -> None:
    r = api(http, "status", msisdn)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == NINE_FIELDS
    assert body["state"] == expected
    assert body["authenticated"] is True and body["valid_msisdn"] is True and body["valid_campaign"] is True
    assert body["campaign_status"] == "active"
    assert body["campaign_name"] == "Kenya Tips" and body["campaign_service"] == "20123"
    assert body["error"] is None
    assert REFERENCE.fullmatch(body["reference"])


def test_references_differ_between_answers(http: httpx.Client) -> None:
    refs = {api(http, "status", ACTIVE).json()["reference"] for _ in range(5)}
    assert len(refs) == 5


def test_status_of_other_numbers_follows_the_hash(http: httpx.Client) -> None:
    # The states the demo has always given this number (a stable hash of campaign and
    # number): the campaign takes part, so Kenya Tips and Kenya Jokes SMS differ.
    assert api(http, "status", OTHER).json()["state"] == "doi-declined"
    assert api(http, "status", OTHER, DEMO_JOKES_ID).json()["state"] == "active"


def test_docs_request_body_without_commas_is_understood(http: httpx.Client) -> None:
    body = f'{{\n    "msisdn":"{ACTIVE}"\n    "signature":"{sign(DEMO_TIPS_ID, ACTIVE)}"\n}}'
    r = http.post(f"/subscriptions/v1/{DEMO_TIPS_ID}/status", content=body)
    assert r.status_code == 200 and r.json()["state"] == "active"


def test_wrong_signature_is_401_with_all_fields(http: httpx.Client) -> None:
    r = http.post(f"/subscriptions/v1/{DEMO_TIPS_ID}/status", json={"msisdn": ACTIVE, "signature": "0" * 32})
    assert r.status_code == 401
    body = r.json()
    assert set(body) == NINE_FIELDS
    assert body["authenticated"] is False and body["error"] == "Invalid signature" and body["state"] is None


def test_unknown_campaign_is_404_with_the_documented_text(http: httpx.Client) -> None:
    unknown = "0123456789abcdef0123456789abcdef"
    r = api(http, "initiate", ACTIVE, unknown, keyword="mv-100620006")
    assert r.status_code == 404
    body = r.json()
    assert set(body) == NINE_FIELDS
    assert body["valid_campaign"] is False and body["authenticated"] is True
    assert body["error"] == f"CampaignID '{unknown}' not found!"


@pytest.mark.parametrize("msisdn", [None, "0700000101", "+254700000101", "abc"])
def test_missing_or_invalid_msisdn_is_400(http: httpx.Client, msisdn: str | None) -> None:
    body = {} if msisdn is None else {"msisdn": msisdn, "signature": sign(DEMO_TIPS_ID, msisdn)}
    r = http.post(f"/subscriptions/v1/{DEMO_TIPS_ID}/status", json=body)
    assert r.status_code == 400
    assert set(r.json()) == NINE_FIELDS and r.json()["valid_msisdn"] is False


def test_unsubscribe_then_status_shows_unsub(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = api(http, "unsubscribe", ACTIVE)
    assert r.status_code == 200 and r.json()["state"] == "unsubscribed"
    assert api(http, "status", ACTIVE).json()["state"] == "unsub"
    assert simulator.sim.unsubscribe_count(DEMO_TIPS_ID, ACTIVE) == 1
    # Per campaign: the same number elsewhere is untouched.
    assert api(http, "status", ACTIVE, DEMO_JOKES_ID).json()["state"] == "active"


def test_initiate_needs_the_keyword(http: httpx.Client) -> None:
    assert api(http, "initiate", ACTIVE).status_code == 400
    assert api(http, "initiate", ACTIVE, keyword="mv-999").status_code == 400
    r = api(http, "initiate", ACTIVE, keyword="mv-100620006")
    assert r.status_code == 200 and r.json()["state"] == "pending_pin"


def test_validate_pin_accepts_1234_and_activates(http: httpx.Client) -> None:
    api(http, "initiate", UNSUB, keyword="mv-100620006")
    r = api(http, "validate_pin", UNSUB, keyword="mv-100620006", pin="1234")
    assert r.status_code == 200 and r.json()["state"] == "subscribed"
    assert api(http, "status", UNSUB).json()["state"] == "active"


def test_validate_pin_417_then_440_after_three_failures(http: httpx.Client) -> None:
    api(http, "initiate", ACTIVE, keyword="mv-100620006")
    for _ in range(3):
        r = api(http, "validate_pin", ACTIVE, keyword="mv-100620006", pin="0000")
        assert r.status_code == 417 and r.json()["error"] == "Invalid PIN"
    r = api(http, "validate_pin", ACTIVE, keyword="mv-100620006", pin="1234")
    assert r.status_code == 440
    assert r.json()["error"] == "Maximum number of failed attempts! PIN is no longer existing!"
    # A new PIN starts over.
    api(http, "initiate", ACTIVE, keyword="mv-100620006")
    assert api(http, "validate_pin", ACTIVE, keyword="mv-100620006", pin="1234").status_code == 200


# -- sendsms (MT stop) --------------------------------------------------------------


@pytest.mark.parametrize(("stop", "as_received"), [("+STOP", "+STOP"), ("%2BSTOP", "%2BSTOP")])
def test_both_decodings_of_plus_stop_unsubscribe(
    http: httpx.Client, simulator: SimulatorServer, stop: str, as_received: str
) -> None:
    r = http.get(sendsms_path(ACTIVE, stop=stop))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert MT.fullmatch(r.text)
    record = last_record(simulator)
    assert record["operation"] == "mt-stop" and record["acted"] is True
    assert f"{as_received}&CLASS=PAUSE" in str(record["query"])  # the spelling really reached the server
    assert state(simulator, ACTIVE, DEMO_JOKES_ID) == "unsub"
    assert simulator.sim.unsubscribe_count(DEMO_JOKES_ID, ACTIVE) == 1


def test_plain_send_changes_nothing(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = http.get(sendsms_path(ACTIVE, stop=None))
    assert r.status_code == 200 and MT.fullmatch(r.text)
    assert last_record(simulator)["operation"] == "mt-send"
    assert state(simulator, ACTIVE, DEMO_JOKES_ID) == "active"


def test_stop_without_pause_class_is_a_plain_send(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = http.get(sendsms_path(ACTIVE).replace("CLASS=PAUSE", "CLASS=NORMAL"))
    assert r.status_code == 200
    assert state(simulator, ACTIVE, DEMO_JOKES_ID) == "active"


def test_sendsms_bad_credentials_is_511(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = http.get(sendsms_path(ACTIVE, password="wrong"))
    assert r.status_code == 511 and r.json() == {"error": "Username or Password incorrect"}
    assert state(simulator, ACTIVE, DEMO_JOKES_ID) == "active"
    assert "PASSWORD=***" in str(last_record(simulator)["query"])  # the key never reaches the log
    http.get(sendsms_path(ACTIVE))
    assert DEMO_API_KEY not in json.dumps(simulator.sim.requests)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"keyword": "mv-404"}, 550),
        ({"originator": "99999"}, 535),
        ({"drop": "ORIGINATOR"}, 506),
        ({"drop": "KEYWORD"}, 506),
    ],
)
def test_sendsms_gateway_error_codes(http: httpx.Client, simulator: SimulatorServer, kwargs: dict, status: int) -> None:
    r = http.get(sendsms_path(ACTIVE, **kwargs))
    # the gateway code is in the body; the status line is the transport's
    assert r.status_code == 200 and list(r.json()) == [str(status)]
    assert state(simulator, ACTIVE, DEMO_JOKES_ID) == "active"


# -- DOI --------------------------------------------------------------------------


def test_doi_stop_unsubscribes(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = http.get(doi_path(ACTIVE))
    assert r.status_code == 200
    ((code, ref),) = r.json().items()
    assert code == "200" and MT.fullmatch(ref)
    assert state(simulator, ACTIVE, DEMO_OPT_IN_ID) == "unsub"
    record = last_record(simulator)
    assert record["operation"] == "doi-stop" and "/***/" in str(record["path"])


@pytest.mark.parametrize(("kwargs"), [{"key": "wrong"}, {"account": "f" * 32}])
def test_doi_bad_account_or_key_is_590(http: httpx.Client, simulator: SimulatorServer, kwargs: dict) -> None:
    r = http.get(doi_path(ACTIVE, **kwargs))
    assert r.status_code == 200 and r.json() == {"590": "SEND_FAILED: invalid account or api key"}
    assert state(simulator, ACTIVE, DEMO_OPT_IN_ID) == "active"


@pytest.mark.parametrize("name", ["source", "destination", "keyword", "frequency", "campaign", "reference", "stop"])
def test_doi_missing_parameter_is_named(http: httpx.Client, name: str) -> None:
    r = http.get(doi_path(ACTIVE, drop=name))
    assert r.json() == {"590": f"SEND_FAILED: missing parameter {name}"}


@pytest.mark.parametrize(
    ("campaign_id", "unsubscribe"),
    [
        (DEMO_TIPS_ID, lambda http, m: api(http, "unsubscribe", m)),
        (DEMO_JOKES_ID, lambda http, m: http.get(sendsms_path(m))),
        (DEMO_OPT_IN_ID, lambda http, m: http.get(doi_path(m))),
    ],
    ids=["subscription-api", "mt-stop", "doi"],
)
def test_status_after_unsubscribe_by_each_route_shows_unsub(
    http: httpx.Client, campaign_id: str, unsubscribe: Callable[[httpx.Client, str], httpx.Response]
) -> None:
    assert api(http, "status", ACTIVE, campaign_id).json()["state"] == "active"
    assert unsubscribe(http, ACTIVE).status_code == 200
    assert api(http, "status", ACTIVE, campaign_id).json()["state"] == "unsub"


def test_unknown_path_is_404_and_logged(http: httpx.Client, simulator: SimulatorServer) -> None:
    assert http.get("/nowhere").status_code == 404
    assert last_record(simulator)["operation"] == "unknown"


# -- control endpoints --------------------------------------------------------------


def test_control_endpoints(http: httpx.Client, simulator: SimulatorServer) -> None:
    api(http, "unsubscribe", ACTIVE)
    http.get(sendsms_path(ACTIVE))
    log = http.get("/_simulator/requests").json()
    assert [(r["operation"], r["msisdn"]) for r in log] == [("unsubscribe", ACTIVE), ("mt-stop", ACTIVE)]
    assert log[0]["query"] == "" and log[0]["status"] == 200 and log[0]["outcome"] == "200 unsubscribed"
    stats = http.get("/_simulator/stats").json()
    assert stats == {
        "total_requests": 2,
        "unsubscribes": {f"{DEMO_TIPS_ID}:{ACTIVE}": 1, f"{DEMO_JOKES_ID}:{ACTIVE}": 1},
    }
    assert http.post("/_simulator/reset").json() == {"reset": True}
    assert api(http, "status", ACTIVE).json()["state"] == "active"
    assert http.get("/_simulator/stats").json() == {"total_requests": 1, "unsubscribes": {}}


# -- magic numbers ------------------------------------------------------------------


def test_hang_times_out_a_client_and_still_acts(http: httpx.Client, simulator: SimulatorServer) -> None:
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            f"/subscriptions/v1/{DEMO_TIPS_ID}/unsubscribe",
            json={"msisdn": MAGIC["hang"], "signature": sign(DEMO_TIPS_ID, MAGIC["hang"])},
            timeout=0.5,
        )
    assert state(simulator, MAGIC["hang"]) == "unsub"  # the server acted; the client never learned
    assert last_record(simulator)["outcome"] == "hang"


async def test_slow_answers_after_three_seconds_and_acts_at_once(simulator: SimulatorServer) -> None:
    slow = MAGIC["slow"]

    async def status_in_full() -> tuple[float, httpx.Response]:
        async with async_client(simulator, timeout=10) as http:
            t0 = time.perf_counter()
            body = {"msisdn": slow, "signature": sign(DEMO_JOKES_ID, slow)}
            r = await http.post(f"/subscriptions/v1/{DEMO_JOKES_ID}/status", json=body)
            return time.perf_counter() - t0, r

    async def unsubscribe_impatiently() -> None:
        async with async_client(simulator, timeout=1.0) as http:
            body = {"msisdn": slow, "signature": sign(DEMO_TIPS_ID, slow)}
            with pytest.raises(httpx.ReadTimeout):
                await http.post(f"/subscriptions/v1/{DEMO_TIPS_ID}/unsubscribe", json=body)
        assert state(simulator, slow) == "unsub"

    (elapsed, r), _ = await asyncio.gather(status_in_full(), unsubscribe_impatiently())
    assert elapsed >= 3.0  # held three seconds; it did answer (the client allows 10 s)
    assert r.status_code == 200 and r.json()["state"] == "nf"  # the hash's state, untouched


def raw_exchange(server: SimulatorServer, request: bytes) -> tuple[bytes, BaseException | None]:
    """Send raw bytes; everything received until the connection ends, and how it ended."""
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError as exc:
            return received, exc
    return received, None


def raw_post(campaign_id: str, method: str, msisdn: str) -> bytes:
    body = json.dumps({"msisdn": msisdn, "signature": sign(campaign_id, msisdn)}).encode()
    head = (
        f"POST /subscriptions/v1/{campaign_id}/{method} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def test_reset_is_a_real_tcp_rst_before_any_byte(http: httpx.Client, simulator: SimulatorServer) -> None:
    received, ended = raw_exchange(simulator, raw_post(DEMO_TIPS_ID, "unsubscribe", MAGIC["reset"]))
    assert received == b"" and isinstance(ended, ConnectionResetError)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        api(http, "status", MAGIC["reset"])
    assert state(simulator, MAGIC["reset"]) == "active"  # nothing done: still the hash's state
    assert simulator.sim.unsubscribe_count(DEMO_TIPS_ID, MAGIC["reset"]) == 0


def test_reset_mid_body_sends_headers_and_part_then_rst(http: httpx.Client, simulator: SimulatorServer) -> None:
    received, ended = raw_exchange(simulator, raw_post(DEMO_TIPS_ID, "unsubscribe", MAGIC["reset-mid-body"]))
    assert isinstance(ended, ConnectionResetError)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
    assert 0 < len(body) < length
    assert state(simulator, MAGIC["reset-mid-body"]) == "unsub"  # acted on, answer lost
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        api(http, "status", MAGIC["reset-mid-body"])


def test_500_json(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = api(http, "unsubscribe", MAGIC["http-500"])
    assert r.status_code == 500 and r.json() == {"error": "Internal error"}
    assert state(simulator, MAGIC["http-500"]) != "unsub"  # a faulted unsubscribe changes nothing
    assert simulator.sim.unsubscribe_count(DEMO_TIPS_ID, MAGIC["http-500"]) == 0


def test_503_html_maintenance(http: httpx.Client) -> None:
    r = api(http, "status", MAGIC["http-503-html"])
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert "maintenance" in r.text.lower()


def test_429_with_retry_after_every_time(http: httpx.Client) -> None:
    for _ in range(2):
        r = api(http, "status", MAGIC["http-429"])
        assert r.status_code == 429 and r.headers["retry-after"] == "1"


def test_502_nginx_page(http: httpx.Client) -> None:
    r = http.get(sendsms_path(MAGIC["http-502-html"]))
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in r.text and "nginx" in r.text


def test_truncated_json(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = api(http, "unsubscribe", MAGIC["truncated-json"])
    assert r.status_code == 200 and r.text.startswith('{"authenticated": true')
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)
    assert state(simulator, MAGIC["truncated-json"]) != "unsub"
    gateway = http.get(doi_path(MAGIC["truncated-json"]))
    assert gateway.status_code == 200 and not MT.search(gateway.text)


def test_python_literal_body(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = api(http, "unsubscribe", MAGIC["python-literals"])
    assert r.status_code == 200
    assert '"authenticated" : True' in r.text and '"error" : Null' in r.text
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)
    body = ast.literal_eval(r.text.replace("Null", "None"))
    assert body["state"] == "unsubscribed" and set(body) == NINE_FIELDS
    assert state(simulator, MAGIC["python-literals"]) == "unsub"


def test_empty_body(http: httpx.Client) -> None:
    r = api(http, "status", MAGIC["empty-body"])
    assert r.status_code == 200 and r.content == b""


def test_huge_body_is_one_line_of_three_mib(http: httpx.Client) -> None:
    r = api(http, "status", MAGIC["huge-body"])
    assert r.status_code == 200
    assert len(r.content) >= 3 * 1024 * 1024 and b"\n" not in r.content
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.json()["state"] == "active"


def test_non_utf8_body(http: httpx.Client) -> None:
    r = api(http, "status", MAGIC["non-utf8"])
    assert r.status_code == 200
    with pytest.raises(UnicodeDecodeError):
        r.content.decode("utf-8")
    assert "Año" in json.loads(r.content.decode("latin-1"))["campaign_name"]


def test_511_on_any_route(http: httpx.Client) -> None:
    for r in (api(http, "status", MAGIC["http-511"]), http.get(doi_path(MAGIC["http-511"]))):
        assert r.status_code == 511 and r.json() == {"error": "Username or Password incorrect"}


def test_590_barred(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = http.get(doi_path(MAGIC["send-failed-barred"]))
    assert r.status_code == 200 and r.json() == {"590": "SEND_FAILED: subscriber is barred by the network"}
    assert state(simulator, MAGIC["send-failed-barred"], DEMO_OPT_IN_ID) != "unsub"


def test_hostile_text(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = api(http, "unsubscribe", MAGIC["hostile-text"])
    body = r.json()
    assert r.status_code == 200 and body["state"] == "unsubscribed"
    for needle in ("[bold red]x[/]", "[link=http://evil.example]click[/link]", "\x1b[31m", "\x1b[2J"):
        assert needle in body["campaign_name"] and needle in body["error"]
    assert "\x1b]52;c;" in body["campaign_name"] and "\x1b]0;" in body["error"]
    assert state(simulator, MAGIC["hostile-text"]) == "unsub"
    gateway = http.get(sendsms_path(MAGIC["hostile-text"]))
    assert "\x1b]52;c;" in gateway.text and MT.search(gateway.text)


def test_bad_signature_whatever_is_sent(http: httpx.Client, simulator: SimulatorServer) -> None:
    r = api(http, "unsubscribe", MAGIC["bad-signature"])
    assert r.status_code == 401 and r.json()["authenticated"] is False and set(r.json()) == NINE_FIELDS
    assert http.get(sendsms_path(MAGIC["bad-signature"])).status_code == 511
    assert http.get(doi_path(MAGIC["bad-signature"])).json() == {"590": "SEND_FAILED: invalid account or api key"}
    assert simulator.sim.unsubscribe_count(DEMO_TIPS_ID, MAGIC["bad-signature"]) == 0


def test_flaky_fails_once_per_campaign_until_reset(http: httpx.Client, simulator: SimulatorServer) -> None:
    flaky = MAGIC["flaky"]
    assert [api(http, "status", flaky).status_code for _ in range(3)] == [503, 200, 200]
    assert api(http, "status", flaky, DEMO_JOKES_ID).status_code == 503
    simulator.sim.reset()
    assert api(http, "status", flaky).status_code == 503


def test_old_style_zero_on_gateway_routes(http: httpx.Client, simulator: SimulatorServer) -> None:
    zero = MAGIC["old-zero"]
    assert http.get(sendsms_path(zero)).text == "0"
    assert http.get(doi_path(zero)).text == "0"
    assert state(simulator, zero, DEMO_JOKES_ID) == "unsub" and state(simulator, zero, DEMO_OPT_IN_ID) == "unsub"
    assert api(http, "status", zero).json()["state"] == "active"  # Kenya Tips untouched


def test_docs_mt_braces_on_gateway_routes(http: httpx.Client) -> None:
    r = http.get(sendsms_path(MAGIC["docs-mt-braces"]))
    assert r.status_code == 200 and re.fullmatch(r'\{\n  "MT-[0-9a-f]{32}"\n\}', r.text)


@pytest.mark.parametrize(("msisdn", "fault"), list(MAGIC_NUMBERS.items()))
def test_every_magic_number_is_logged_with_its_fault(simulator: SimulatorServer, msisdn: str, fault: str) -> None:
    with (
        client(simulator, timeout=0.3) as http,
        contextlib.suppress(httpx.HTTPError),
    ):  # hang, slow and the resets
        api(http, "status", msisdn)
    record = last_record(simulator)
    assert record["msisdn"] == msisdn and record["fault"] == fault


# -- per-run options ----------------------------------------------------------------


def test_error_rate_answers_5xx_and_changes_nothing(make_simulator: Callable[..., SimulatorServer]) -> None:
    server = make_simulator(error_rate=1.0, seed=1)
    with client(server, timeout=5) as http:
        statuses = {api(http, "unsubscribe", ACTIVE).status_code for _ in range(12)}
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    assert state(server, ACTIVE) == "active"


def test_seed_makes_random_faults_reproducible(make_simulator: Callable[..., SimulatorServer]) -> None:
    server = make_simulator(error_rate=0.5, seed=7)

    def run() -> list[int]:
        with client(server, timeout=5) as http:
            return [api(http, "status", ACTIVE).status_code for _ in range(20)]

    first = run()
    server.sim.reset()
    assert run() == first
    assert 200 in first and set(first) - {200}


def test_hang_rate_acts_then_never_answers(make_simulator: Callable[..., SimulatorServer]) -> None:
    server = make_simulator(hang_rate=1.0)
    with client(server, timeout=0.5) as http, pytest.raises(httpx.ReadTimeout):
        api(http, "unsubscribe", ACTIVE)
    assert state(server, ACTIVE) == "unsub"


def test_reset_rate_resets_and_changes_nothing(make_simulator: Callable[..., SimulatorServer]) -> None:
    server = make_simulator(reset_rate=1.0)
    with client(server, timeout=5) as http, pytest.raises(httpx.ReadError):
        api(http, "unsubscribe", ACTIVE)
    assert state(server, ACTIVE) == "active"


def test_latency_and_jitter_delay_every_answer(make_simulator: Callable[..., SimulatorServer]) -> None:
    server = make_simulator(latency_ms=200, jitter_ms=100)
    with client(server, timeout=5) as http:
        for _ in range(3):
            t0 = time.perf_counter()
            assert api(http, "status", ACTIVE).status_code == 200
            assert time.perf_counter() - t0 >= 0.2  # never sooner than the latency


def test_rate_limit_answers_429_with_retry_after(make_simulator: Callable[..., SimulatorServer]) -> None:
    server = make_simulator(rate_limit=5)
    with client(server, timeout=5) as http:
        answers = [api(http, "status", ACTIVE) for _ in range(20)]
        ok = [r for r in answers if r.status_code == 200]
        limited = [r for r in answers if r.status_code == 429]
        assert 5 <= len(ok) <= 7 and len(ok) + len(limited) == 20
        assert all(int(r.headers["retry-after"]) >= 1 for r in limited)
        time.sleep(0.3)  # 1.5 tokens come back
        assert api(http, "status", ACTIVE).status_code == 200
    assert sum(r["fault"] == "rate-limited" for r in server.sim.requests) == len(limited)


def test_docs_bodies_option(make_simulator: Callable[..., SimulatorServer]) -> None:
    server = make_simulator(docs_bodies=True)
    with client(server, timeout=5) as http:
        sub = api(http, "status", ACTIVE).text
        assert '"authenticated" : True' in sub and '"error" : Null' in sub
        assert re.search(r'"reference": "AP:[0-9a-f-]+"\n\}$', sub)
        mt = http.get(sendsms_path(ACTIVE)).text
        assert re.fullmatch(r'\{\n  "MT-[0-9a-f]{32}"\n\}', mt)
        doi = http.get(doi_path(UNSUB)).text
        assert re.fullmatch(r'\{\n  "200": "MT-[0-9a-f]{32}",\n\}', doi)


def test_stop_returns_promptly_with_a_hang_in_flight(make_simulator: Callable[..., SimulatorServer]) -> None:
    server = make_simulator()
    errors: list[BaseException] = []

    def hang() -> None:
        with client(server, timeout=30) as http:
            try:
                api(http, "status", MAGIC["hang"])
            except httpx.HTTPError as exc:
                errors.append(exc)

    thread = threading.Thread(target=hang)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.sim.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.perf_counter()
    server.stop()
    assert time.perf_counter() - t0 < 2.0
    thread.join(5)
    assert not thread.is_alive()
    assert len(errors) == 1 and not isinstance(errors[0], httpx.TimeoutException)


# -- the command line ----------------------------------------------------------------


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mobitui.simulator", *args],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_help_documents_every_flag_and_magic_number() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for msisdn, name in MAGIC_NUMBERS.items():
        assert msisdn in out.stdout and name in out.stdout
    for msisdn in SAMPLE_NUMBERS.values():
        assert msisdn in out.stdout
    flags = (
        "--host --port --allow-remote --config --api-key --demo --latency-ms --jitter-ms "
        "--error-rate --hang-rate --reset-rate --rate-limit --docs-bodies --seed --list"
    )
    for flag in flags.split():
        assert re.search(rf"^  {flag}\b.*\S", out.stdout, re.M), flag  # listed, with its help text


def test_list_prints_all_states_and_magic_numbers() -> None:
    out = run_cli("--list")
    assert out.returncode == 0
    rows = out.stdout.splitlines()
    for state_name, msisdn in SAMPLE_NUMBERS.items():
        assert any(row.split()[:2] == [msisdn, state_name] for row in rows)
    for msisdn, name in MAGIC_NUMBERS.items():
        assert any(row.split()[:2] == [msisdn, name] for row in rows)


def run_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """cli.main in this process: the exit code and stderr."""
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--demo", "--host", "0.0.0.0"), "--allow-remote"),
        (("--config", "/nonexistent/mobitui.toml"), "does not exist"),
        (("--demo", "--error-rate", "0.7", "--hang-rate", "0.7"), "must not exceed 1"),
        (("--demo", "--error-rate", "2"), "between 0 and 1"),
        (("--demo", "--port", "70000"), "0 to 65535"),
    ],
)
def test_cli_errors_are_one_clear_message(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, err = run_in_process(capsys, *args)
    assert code == 2 and message in err


def test_cli_without_a_key_refuses(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(demo_toml("http://127.0.0.1:1"))
    code, err = run_in_process(capsys, "--config", str(config), "--port", "0")
    assert code == 2 and "no API key" in err


def test_cli_port_in_use_is_a_clear_error(capsys: pytest.CaptureFixture[str], simulator: SimulatorServer) -> None:
    code, err = run_in_process(capsys, "--demo", "--port", str(simulator.port))
    assert code == 2 and f"cannot listen on 127.0.0.1:{simulator.port}" in err


def test_cli_server_serves_on_loopback_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(demo_toml("http://127.0.0.1:1"))
    with subprocess.Popen(
        [sys.executable, "-m", "mobitui.simulator", "--config", str(config), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "MOBITUI_API_KEY": "key-from-env"},
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stderr is not None
            banner = proc.stdout.readline()
            match = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", banner)
            assert match, banner + proc.stderr.read()
            url, port = match.group(1), int(match.group(2))
            listening = [c for c in psutil.Process(proc.pid).net_connections("tcp") if c.status == psutil.CONN_LISTEN]
            assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", port)]

            body = json.dumps({"msisdn": ACTIVE, "signature": sign(DEMO_TIPS_ID, ACTIVE)})
            status_url = f"{url}/subscriptions/v1/{DEMO_TIPS_ID}/status"
            status = subprocess.run(
                ["curl", "-sS", "--max-time", "5", "-X", "POST", "-d", body, status_url],
                capture_output=True,
                text=True,
                timeout=10,
            )
            assert status.returncode == 0, status.stderr
            assert json.loads(status.stdout)["state"] == "active"
            stop = subprocess.run(
                ["curl", "-sS", "--max-time", "5", url + sendsms_path(ACTIVE, password="key-from-env")],
                capture_output=True,
                text=True,
                timeout=10,
            )
            assert MT.fullmatch(stop.stdout), stop.stdout + stop.stderr

            proc.send_signal(signal.SIGINT)
            assert proc.wait(5) == 0
            rest, errors = proc.stdout.read(), proc.stderr.read()
            assert "Traceback" not in errors
            assert "API key" in rest and "from the environment" in rest and "key-from-env" not in banner + rest
        finally:
            if proc.poll() is None:
                proc.kill()
