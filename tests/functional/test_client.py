"""The client against the simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from contextlib import closing

import pytest

from mobitui.core.client import MobivateClient, Operation, Outcome
from mobitui.core.config import Config
from mobitui.core.recorder import Recorder
from mobitui.simulator.demo import DEMO_API_KEY
from support.api import SAMPLE_NUMBERS

SAMPLES = SAMPLE_NUMBERS  # the reference's 13 states, written out (not the client's own table)
(
    HANG,
    SLOW,
    RESET,
    RESET_MID,
    E500,
    E503,
    E429,
    E502HTML,
    TRUNC,
    LITERAL,
    EMPTY,
    HUGE,
    LATIN1,
    G511,
    G590,
    HOSTILE,
    BADSIG,
    FLAKY,
    ZERO,
    BRACES,
) = (f"2547999990{i:02d}" for i in range(1, 21))


def tuned(config: Config, **network: object) -> Config:
    data = config.model_dump(mode="python")
    data["network"].update(network)
    return Config.model_validate(data)


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def cfg(sim_config: Config) -> Config:
    return tuned(sim_config, read_timeout=1.0, connect_timeout=1.0, status_attempts=3)


def campaign(cfg: Config, route: str):
    return next(c for c in cfg.campaigns if c.unsubscribe_via.value == route)


async def test_status_reads_every_documented_state(cfg, simulator):
    async with MobivateClient(cfg, None) as client:
        c = campaign(cfg, "subscription-api")
        for state, msisdn in SAMPLES.items():
            r = await client.status(c, msisdn)
            assert r.ok, r.error
            assert r.state == state
            assert r.answer["authenticated"] is True
            assert r.reference and r.reference.startswith("AP:")
            assert r.operation is Operation.STATUS and r.http_status == 200


@pytest.mark.parametrize("route", ["subscription-api", "mt-stop", "doi"])
async def test_unsubscribe_on_each_route_then_status_shows_unsub(cfg, simulator, route):
    c = campaign(cfg, route)
    msisdn = SAMPLES["active"]
    async with MobivateClient(cfg, DEMO_API_KEY) as client:
        r = await client.unsubscribe(c, msisdn)
        assert r.ok, r.error
        assert r.route.value == route
        if route != "subscription-api":
            assert r.reference and r.reference.startswith("MT-")
        after = await client.status(c, msisdn)
    assert after.state == "unsub"
    blob = json.dumps([e.to_dict() for e in r.exchanges])
    assert DEMO_API_KEY not in blob


async def test_mt_stop_sends_stop_and_pause_as_documented(cfg, simulator):
    c = campaign(cfg, "mt-stop")
    async with MobivateClient(cfg, DEMO_API_KEY) as client:
        await client.unsubscribe(c, SAMPLES["active"])
    (req,) = [r for r in simulator.sim.requests if "sendsms" in r["path"]]
    assert "+STOP&CLASS=PAUSE" in req["query"]
    assert f"RECIPIENT={SAMPLES['active']}" in req["query"]
    assert "MESSAGE_TEXT=YOU%20HAVE%20UNSUBSCRIBED" in req["query"]


async def test_wrong_key_gives_511_on_mt_and_590_on_doi(cfg, simulator):
    async with MobivateClient(cfg, "not-the-right-key") as client:
        mt = await client.unsubscribe(campaign(cfg, "mt-stop"), SAMPLES["active"])
        doi = await client.unsubscribe(campaign(cfg, "doi"), SAMPLES["active"])
    assert mt.outcome is Outcome.FAILED and mt.http_status == 511
    assert "511" in mt.error and "auth set" in mt.error
    assert doi.outcome is Outcome.FAILED and "590" in doi.error and "invalid" in doi.error.lower()


async def test_gateway_routes_without_a_key_send_nothing(cfg, simulator):
    async with MobivateClient(cfg, None) as client:
        r = await client.unsubscribe(campaign(cfg, "mt-stop"), SAMPLES["active"])
    assert r.outcome is Outcome.FAILED and "No API key" in r.error
    assert simulator.sim.requests == []


async def test_unknown_campaign_and_bad_signature(cfg, simulator):
    c = campaign(cfg, "subscription-api")
    unknown = c.model_copy(update={"campaign_id": "0" * 32})
    async with MobivateClient(cfg, None) as client:
        r = await client.status(unknown, SAMPLES["active"])
        assert r.outcome is Outcome.FAILED and r.http_status == 404
        assert r.error.startswith("Campaign not found") and "0" * 32 in r.error
        bad = await client.status(c, BADSIG)
        assert bad.error.startswith("Bad signature") and bad.http_status == 401
    wrong_account = tuned(cfg)
    data = wrong_account.model_dump(mode="python")
    data["account"]["account_id"] = "f" * 32
    async with MobivateClient(Config.model_validate(data), None) as client:
        r = await client.status(c, SAMPLES["active"])
    assert r.error.startswith("Bad signature")


async def test_status_read_timeout_is_retried_and_named(cfg, simulator):
    async with MobivateClient(tuned(cfg, read_timeout=0.3), None, sleep=no_sleep) as client:
        r = await client.status(campaign(cfg, "subscription-api"), HANG)
    assert r.outcome is Outcome.FAILED
    assert r.error.startswith("Read timeout") and "after 3 attempts" in r.error
    assert len(r.exchanges) == 3
    assert len([q for q in simulator.sim.requests if q["msisdn"] == HANG]) == 3


@pytest.mark.parametrize("route", ["subscription-api", "mt-stop", "doi"])
async def test_unsubscribe_after_a_timeout_is_unknown_and_never_resent(cfg, simulator, route):
    async with MobivateClient(tuned(cfg, read_timeout=0.3), DEMO_API_KEY, sleep=no_sleep) as client:
        r = await client.unsubscribe(campaign(cfg, route), HANG)
    assert r.outcome is Outcome.UNKNOWN
    assert "Outcome unknown, check status" in r.error
    assert len([q for q in simulator.sim.requests if q["msisdn"] == HANG]) == 1


@pytest.mark.parametrize("number", [RESET, RESET_MID])
async def test_reset_retries_status_but_not_unsubscribe(cfg, simulator, number):
    async with MobivateClient(cfg, DEMO_API_KEY, sleep=no_sleep) as client:
        s = await client.status(campaign(cfg, "subscription-api"), number)
        assert s.outcome is Outcome.FAILED and len(s.exchanges) == 3
        assert s.error.startswith(("Connection reset", "Broken answer"))
        u = await client.unsubscribe(campaign(cfg, "mt-stop"), number)
    assert u.outcome is Outcome.UNKNOWN and len(u.exchanges) == 1
    assert len([q for q in simulator.sim.requests if q["msisdn"] == number and "sendsms" in q["path"]]) == 1


async def test_429_honours_retry_after(cfg, simulator):
    waits: list[float] = []

    async def record(s: float) -> None:
        waits.append(s)

    async with MobivateClient(cfg, None, sleep=record) as client:
        r = await client.status(campaign(cfg, "subscription-api"), E429)
    assert r.http_status == 429 and "rate limited" in r.error and "1 s" in r.error
    assert waits == [1.0, 1.0]


async def test_flaky_number_succeeds_on_the_second_attempt(cfg, simulator):
    async with MobivateClient(cfg, None, sleep=no_sleep) as client:
        r = await client.status(campaign(cfg, "subscription-api"), FLAKY)
    assert r.ok and [e.status for e in r.exchanges] == [503, 200]


async def test_server_errors_and_odd_bodies_have_specific_messages(cfg, simulator):
    c = campaign(cfg, "subscription-api")
    async with MobivateClient(tuned(cfg, status_attempts=1), None) as client:
        html = await client.status(c, E502HTML)
        assert "HTML page" in html.error and "Bad Gateway" in html.error and html.http_status == 502
        e500 = await client.status(c, E500)
        assert e500.error.startswith("HTTP 500") and "Internal error" in e500.error
        trunc = await client.status(c, TRUNC)
        assert "not the API's JSON" in trunc.error and trunc.http_status == 200
        empty = await client.status(c, EMPTY)
        assert "empty body" in empty.error
        lit = await client.status(c, LITERAL)
        assert lit.ok and lit.answer["error"] is None
        latin = await client.status(c, LATIN1)
        assert latin.ok and "\ufffd" in latin.answer["campaign_name"]
        huge = await client.status(c, HUGE)
        assert not huge.ok and huge.exchanges[0].response_truncated
        assert len(huge.exchanges[0].response_body) <= cfg.network.max_body_bytes


async def test_gateway_body_forms(cfg, simulator):
    async with MobivateClient(cfg, DEMO_API_KEY) as client:
        zero = await client.unsubscribe(campaign(cfg, "mt-stop"), ZERO)
        braces = await client.unsubscribe(campaign(cfg, "mt-stop"), BRACES)
        g590 = await client.unsubscribe(campaign(cfg, "doi"), G590)
        g511 = await client.unsubscribe(campaign(cfg, "mt-stop"), G511)
    assert zero.ok and braces.ok and braces.reference.startswith("MT-")
    assert not g590.ok and "barred" in g590.error and "590" in g590.error
    assert not g511.ok and "511" in g511.error


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pointed_at(cfg: Config, base: str) -> Config:
    data = cfg.model_dump(mode="python")
    data["endpoints"] = {"subscription_api": base + "/subscriptions/v1", "gateway": base}
    return Config.model_validate(data)


async def test_connection_refused_is_retried_for_unsubscribe_and_says_nothing_was_sent(cfg):
    bad = pointed_at(cfg, f"http://127.0.0.1:{_free_port()}")
    async with MobivateClient(bad, DEMO_API_KEY, sleep=no_sleep) as client:
        s = await client.status(campaign(bad, "subscription-api"), SAMPLES["active"])
        u = await client.unsubscribe(campaign(bad, "mt-stop"), SAMPLES["active"])
    assert s.error.startswith("Connection refused") and "Nothing was sent" in s.error
    assert u.outcome is Outcome.FAILED and len(u.exchanges) == 3


async def test_connect_timeout_differs_from_read_timeout(cfg):
    # A listener that never accepts, with its backlog full: SYNs go unanswered.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(8):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    try:
        bad = tuned(pointed_at(cfg, f"http://127.0.0.1:{port}"), connect_timeout=0.3, status_attempts=1)
        async with MobivateClient(bad, None) as client:
            r = await client.status(campaign(bad, "subscription-api"), SAMPLES["active"])
        assert r.error.startswith("Connect timeout"), r.error
        assert "Nothing was sent" in r.error
    finally:
        for s in fillers:
            s.close()
        server.close()


async def test_dns_failure_is_named(cfg, monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *a, **kw):
        if host == "gateway.example.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    bad = tuned(pointed_at(cfg, "http://gateway.example.invalid"), status_attempts=1)
    async with MobivateClient(bad, None) as client:
        r = await client.status(campaign(bad, "subscription-api"), SAMPLES["active"])
    assert r.error.startswith("DNS failure: cannot resolve gateway.example.invalid")


async def test_tls_failure_is_named(cfg, simulator):
    # https:// to a plain-HTTP server fails the handshake.
    bad = tuned(pointed_at(cfg, simulator.base_url.replace("http://", "https://")), status_attempts=1)
    async with MobivateClient(bad, None) as client:
        r = await client.status(campaign(bad, "subscription-api"), SAMPLES["active"])
    assert r.error.startswith("TLS failure"), r.error


async def test_recorder_sees_every_exchange_redacted(cfg, simulator):
    rec = Recorder()
    async with MobivateClient(cfg, DEMO_API_KEY, recorder=rec) as client:
        await client.unsubscribe(campaign(cfg, "doi"), SAMPLES["active"])
        await client.unsubscribe(campaign(cfg, "mt-stop"), SAMPLES["active"])
    urls = [e.url for e in rec.recent]
    assert any("/api/doi/" in u and "/***/" in u for u in urls)
    assert any("PASSWORD=***" in u for u in urls)
    assert DEMO_API_KEY not in json.dumps([e.to_dict() for e in rec.recent])


async def test_plan_shows_the_redacted_request_and_the_effect(cfg):
    client = MobivateClient(cfg, DEMO_API_KEY)
    plan = client.plan_unsubscribe(campaign(cfg, "mt-stop"), SAMPLES["active"])
    await client.aclose()
    assert plan.method == "GET" and "PASSWORD=***" in plan.url and DEMO_API_KEY not in plan.url
    assert "YOU HAVE UNSUBSCRIBED" in plan.effect and "20456" in plan.effect


async def test_a_configured_proxy_carries_the_requests(cfg, simulator):
    """With network.proxy set, requests go through the proxy (httpcore's forward connection), and
    the same rules hold: a reset unsubscribe is not sent again."""
    import asyncio

    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_writer = None
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                seen.append(head.split(b"\r\n", 1)[0])
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                body = await reader.readexactly(length) if length else b""
                if upstream_writer is None:
                    host, port = simulator.base_url.removeprefix("http://").split(":")
                    upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
                upstream_writer.write(head + body)
                status_line = await upstream_reader.readuntil(b"\r\n\r\n")
                n = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in status_line.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                writer.write(status_line + await upstream_reader.readexactly(n))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            if upstream_writer is not None:
                upstream_writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proxied = tuned(cfg, proxy=f"http://127.0.0.1:{port}")
    try:
        async with MobivateClient(proxied, DEMO_API_KEY) as client:
            r = await client.status(campaign(proxied, "subscription-api"), SAMPLES["active"])
            assert r.outcome is Outcome.OK and r.state == "active"
            u = await client.unsubscribe(campaign(proxied, "mt-stop"), RESET)
            assert u.outcome is Outcome.UNKNOWN
    finally:
        server.close()
    # absolute-form request lines: the proxy, not the simulator, was spoken to
    assert seen[0].startswith(b"POST http://127.0.0.1:") and b"/status HTTP/1.1" in seen[0]
    assert sum(1 for line in seen if b"/srs/api/sendsms" in line) == 1  # never resent
    assert len([q for q in simulator.sim.requests if q["msisdn"] == RESET and "sendsms" in q["path"]]) == 1


async def test_a_gateway_code_in_the_body_of_a_refused_mt_stop_is_a_failure_with_the_servers_words(
    sim_config, simulator
):
    """The simulator answers an unknown keyword 200 {"550": "Generic error: ..."}: the stop was refused."""
    data = sim_config.model_dump(mode="python")
    jokes = next(c for c in data["campaigns"] if c["unsubscribe_via"] == "mt-stop")
    jokes["keyword"] = "mv-404"
    config = Config.model_validate(data)
    campaign = next(c for c in config.campaigns if c.unsubscribe_via.value == "mt-stop")
    async with MobivateClient(config, DEMO_API_KEY) as client:
        result = await client.unsubscribe(campaign, "254700000101")
    assert result.outcome is Outcome.FAILED, result.error
    assert "550" in (result.error or "") and "unknown KEYWORD 'mv-404'" in (result.error or "")


@pytest.mark.parametrize(
    ("msisdn", "said", "not_said"),
    [
        # a body {"590": "SEND_FAILED: ..."} on the status route: the server's words, not only "no state"
        ("254799999015", "The server said: 590: SEND_FAILED: subscriber is barred by the network", None),
        # a valid answer padded to ~3 MiB: cut at network.max_body_bytes, and said so
        ("254799999012", "larger than network.max_body_bytes (1,048,576 bytes)", "not the API's JSON."),
        # HTTP 511 on the Subscription API, which takes no key: the key is not blamed
        ("254799999014", "the key is not the cause", "mobitui auth set"),
    ],
)
async def test_status_failures_say_what_the_server_said_and_why(cfg, simulator, msisdn, said, not_said):
    async with MobivateClient(cfg, DEMO_API_KEY) as client:
        r = await client.status(campaign(cfg, "subscription-api"), msisdn)
    assert not r.ok
    assert said in (r.error or ""), r.error
    if not_said:
        assert not_said not in (r.error or "")
