"""The Mobivate client: sends ``status`` and ``unsubscribe`` and reads the answers.

``status`` always goes to the Subscription API. ``unsubscribe`` sends the request
:func:`mobitui.core.routes.plan.unsubscribe` builds for the campaign's route (the
same function the confirmation dialog shows): how each route is called is in
:mod:`mobitui.core.routes` (``subscription``, ``sendsms``, ``doi``). This module
owns the transport, the retry policy and reading answers into a :class:`Result`.

Retries: ``status`` is retried with backoff on transient failures, bounded by
``network.status_attempts``. ``unsubscribe`` is resent only when the request
provably never left (connect refused / connect timeout); after anything that
may have reached the server it reports "outcome unknown, check status",
because the MT route sends the subscriber an SMS.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt

from mobitui import __version__
from mobitui.core import errors
from mobitui.core.bodies import Body, BodyKind, read_body
from mobitui.core.config import Campaign, Config, Route
from mobitui.core.recorder import Exchange, Recorder
from mobitui.core.results import (  # noqa: F401  (re-exported: the client's vocabulary)
    ANSWER_FIELDS,
    STATES,
    Operation,
    Outcome,
    PlannedRequest,
    Result,
)
from mobitui.core.routes import plan
from mobitui.core.routes.plan import effect as unsubscribe_effect
from mobitui.core.routes.request import Request
from mobitui.core.routes.subscription import signature  # noqa: F401  (re-exported)

RETRYABLE_HTTP = {429, 500, 502, 503, 504}
# Idle connections are closed after this long: shorter than servers' own keep-alive
# (5 s and more), so a request rarely meets a connection the server is closing.
KEEPALIVE_EXPIRY = 2.0
USER_AGENT = f"mobitui/{__version__}"
# A stop answered 429 reached the server: nothing proves it was not acted on, so its
# outcome is unknown (never sent again by itself, and the 10-minute guard covers it).
NOT_RESENT_AFTER_429 = " The server had the request: outcome unknown, check status before trying again."


def _last_result(state: RetryCallState) -> Result:
    """The last attempt's result (tenacity sets ``outcome`` before it asks how long to
    wait or calls ``retry_error_callback``)."""
    assert state.outcome is not None
    result: Result = state.outcome.result()
    return result


def _header_pairs(headers: httpx.Headers) -> list[tuple[str, str]]:
    """What ``multi_items()`` gives, with the encoding looked up once instead of twice per header."""
    enc = headers.encoding
    return [(k.decode(enc).lower(), v.decode(enc)) for k, v in headers.raw]


@dataclass(slots=True)
class _Reply:
    status: int | None
    reason: str
    body: Body | None
    headers: list[tuple[str, str]]
    failure: errors.TransportFailure | None
    exchange: Exchange


def _other_words(data: dict[str, Any]) -> str:
    """What else a state-less answer said, in the server's words: a body such as
    ``{"590": "SEND_FAILED: subscriber is barred by the network"}`` carries the
    reason in a field of its own. '' when there is nothing but the API's fields."""
    extra = [f"{k}: {v}" for k, v in data.items() if k not in ANSWER_FIELDS and isinstance(v, str) and v.strip()]
    return f" The server said: {'; '.join(extra)}" if extra else ""  # cut after redaction (Recorder.scrub)


def _flag(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in {"true", "false"}:
        return v.strip().lower() == "true"
    return None


def _text(v: Any, limit: int = 65_536) -> str | None:
    """A server's field as text. Not cut to its display length here: a key echoed
    in it must be whole when it is redacted (Recorder.scrub cuts, after redacting);
    ``limit`` only bounds memory."""
    if v is None:
        return None
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    return s[:limit]


def retry_after_seconds(headers: list[tuple[str, str]]) -> float | None:
    for k, v in headers:
        if k.lower() == "retry-after":
            try:
                return max(0.0, float(v.strip()))
            except ValueError:
                return None
    return None


@functools.lru_cache(maxsize=4)
def ssl_context(ca_bundle: Any = None) -> ssl.SSLContext:
    """TLS verification is always on; a custom CA bundle may replace the default.
    Made once per bundle: loading certificates takes tens of milliseconds."""
    if ca_bundle:
        return ssl.create_default_context(cafile=str(ca_bundle))
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover
        return ssl.create_default_context()


def make_transport(config: Config, *, concurrency: int = 50) -> httpx.AsyncBaseTransport:
    """httpcore's connections under the client's pool policy (:mod:`mobitui.core.transport`,
    README: Performance), through ``network.proxy`` when one is set. TLS always verified."""
    from mobitui.core.transport import HttpcoreTransport

    net = config.network
    return HttpcoreTransport(
        ssl_context(net.ca_bundle),
        max_connections=max(concurrency, 10),
        keepalive_expiry=KEEPALIVE_EXPIRY,
        proxy=net.proxy,
    )


class MobivateClient:
    """Async client for one account. Use as ``async with MobivateClient(...)``."""

    def __init__(
        self,
        config: Config,
        api_key: str | None,
        recorder: Recorder | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        concurrency: int = 50,
    ):
        self.config = config
        self._api_key = api_key
        self.recorder = recorder or Recorder()
        self.recorder.add_secret(api_key)
        # Requests go straight to the transport: httpx.AsyncClient's cookie jar,
        # redirect and auth machinery cost a third of the CPU of a bulk run and
        # do nothing for this API (no cookies, no redirects followed).
        self._transport = transport or make_transport(config, concurrency=concurrency)
        self._owns_transport = transport is None
        net = config.network
        self._timeouts = {
            "connect": net.connect_timeout,
            "read": net.read_timeout,
            "write": net.read_timeout,
            "pool": net.connect_timeout,
        }
        self._sleep = sleep
        self._parsed_urls: dict[str, tuple[httpx.URL, str]] = {}
        # Made once: httpx copies a Headers object cheaply, a dict it re-encodes per request.
        self._headers = httpx.Headers(
            {"User-Agent": USER_AGENT, "Content-Type": "application/json", "Accept": "application/json, */*"}
        )

    async def __aenter__(self) -> MobivateClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_transport:
            await self._transport.aclose()

    def set_api_key(self, api_key: str | None) -> None:
        """The key arrives later in the console (the keyring is looked up in a worker)."""
        self.recorder.add_secret(api_key)  # first: a key refused as unsafe is never used
        self._api_key = api_key

    @property
    def has_key(self) -> bool:
        return bool(self._api_key)

    # -- the wire ------------------------------------------------------------
    def _parse_url(self, url: str) -> tuple[httpx.URL, str]:
        """The URL as httpx wants it, and its host. Parsed once for URLs without a
        query (status and the RESTful unsubscribe: one per campaign): httpx's URL
        parsing was a tenth of a bulk run's CPU. Gateway URLs carry the number."""
        hit = self._parsed_urls.get(url)
        if hit is None:
            hit = (httpx.URL(url), urlsplit(url).netloc)
            if "?" not in url:
                if len(self._parsed_urls) >= 64:
                    self._parsed_urls.clear()
                self._parsed_urls[url] = hit
        return hit

    async def _send(self, planned: Request, *, attempt: int = 1) -> _Reply:
        """Send ``planned`` (built by :mod:`mobitui.core.routes.plan`, nothing left for later)
        once, byte for byte; read at most ``network.max_body_bytes`` of the answer."""
        assert not planned.later, "a request with parts still to fill in is never sent"
        net = self.config.network
        content = planned.content
        method = planned.method
        parsed, host = self._parse_url(planned.url)
        request = httpx.Request(
            method, parsed, content=content, headers=self._headers, extensions={"timeout": self._timeouts}
        )
        started = time.time()
        t0 = time.perf_counter()
        status: int | None = None
        reason = ""
        resp_headers: list[tuple[str, str]] = []
        raw = bytearray()
        truncated = False
        failure: errors.TransportFailure | None = None
        # A whole-exchange bound: the read timeout is per read, so an answer dribbled a
        # byte at a time would otherwise never end.
        deadline = net.longest_wait
        try:
            async with asyncio.timeout(deadline):
                response = await self._transport.handle_async_request(request)
                try:
                    status = response.status_code
                    reason = response.reason_phrase
                    resp_headers = _header_pairs(response.headers)
                    # The client asks for no compression; a body compressed anyway is
                    # decoded. Otherwise the raw bytes are the body: httpx's decoding
                    # layers were a tenth of a bulk run's CPU.
                    encoded = any(
                        k == "content-encoding" and v.strip().lower() not in ("", "identity") for k, v in resp_headers
                    )
                    async for chunk in response.aiter_bytes() if encoded else response.aiter_raw():
                        room = net.max_body_bytes - len(raw)
                        if len(chunk) > room:
                            raw.extend(chunk[:room])
                            truncated = True
                            break
                        raw.extend(chunk)
                finally:
                    await response.aclose()
        except TimeoutError as exc:  # the deadline above (httpcore's own timeouts are TransportError)
            failure = errors.classify(
                exc, host, net.connect_timeout, net.read_timeout, answer_started=status is not None, deadline=deadline
            )
        except Exception as exc:  # noqa: BLE001  TransportError from the transport; httpx.DecodingError from the body
            failure = errors.classify(
                exc, host, net.connect_timeout, net.read_timeout, answer_started=status is not None
            )
        elapsed = (time.perf_counter() - t0) * 1000
        text = bytes(raw).decode("utf-8", errors="replace")
        exchange = self.recorder.record(
            started=started,
            method=method,
            url=str(request.url),
            request_headers=_header_pairs(request.headers),
            request_body=content.decode() if content else "",
            status=status,
            response_headers=resp_headers,
            response_body=text,
            response_bytes=len(raw),
            response_truncated=truncated,
            elapsed_ms=elapsed,
            error=failure.message if failure else None,
            attempt=attempt,
        )
        answer: Body | None = None  # `body` is the request's
        if failure is None:
            ctype = next((v for k, v in resp_headers if k.lower() == "content-type"), "")
            answer = read_body(bytes(raw), ctype)
            if truncated:
                answer.notes.append(
                    f"body larger than network.max_body_bytes ({net.max_body_bytes}); the rest was not read"
                )
        return _Reply(status, reason, answer, resp_headers, failure, exchange)

    # -- status ----------------------------------------------------------------
    async def status(self, campaign: Campaign, msisdn: str) -> Result:
        exchanges: list[Exchange] = []
        attempts = 0

        async def once() -> Result:
            nonlocal attempts
            attempts += 1
            reply = await self._send(plan.status(self.config, campaign, msisdn), attempt=attempts)
            exchanges.append(reply.exchange)
            result = self._subscription_result(campaign, msisdn, Operation.STATUS, reply)
            return result

        net = self.config.network

        def wait_after(last: Result, retries_done: int) -> float:
            """Before the next attempt: Retry-After if the server said, else jittered backoff."""
            if last.retry_after is not None:
                return min(last.retry_after, net.retry_max_wait)
            base = min(net.retry_max_wait, 0.25 * 2**retries_done)
            return base * (0.5 + random.random() / 2)

        # Most checks succeed at once: tenacity (and its per-call set-up) only
        # comes in for the retries.
        result = await once()
        if result.transient and net.status_attempts > 1:
            retrying = AsyncRetrying(
                stop=stop_after_attempt(net.status_attempts - 1),
                wait=lambda state: wait_after(_last_result(state), state.attempt_number),
                retry=retry_if_result(lambda r: r.transient),
                retry_error_callback=_last_result,
                sleep=self._sleep,
            )
            await self._sleep(wait_after(result, 0))
            result = await retrying(once)
        result.exchanges = exchanges
        if attempts > 1 and not result.ok and result.error:
            result.error += f" (after {attempts} attempts)"
        return self.recorder.scrub(result)  # texts from the server, redacted where they are made

    # -- unsubscribe -----------------------------------------------------------
    def effect(self, campaign: Campaign) -> str:
        return unsubscribe_effect(campaign)

    def plan_unsubscribe(self, campaign: Campaign, msisdn: str) -> PlannedRequest:
        """The unsubscribe request as the confirmation dialog shows it: built by the same
        :func:`plan.unsubscribe` as the request sent, without the key (``***``, or
        ``<no key>`` when none is set), the reference and the moment of sending, each
        named in the plan's ``later`` (:mod:`mobitui.core.routes.plan` says why)."""
        request = plan.unsubscribe(self.config, campaign, msisdn, key=plan.KEY if self._api_key else plan.NO_KEY)
        shown = plan.shown(request, self.effect(campaign))
        r = self.recorder  # belt and braces: the key was never put in
        return dataclasses.replace(shown, url=r.redact_url(shown.url), body=r.redact(shown.body))

    async def unsubscribe(self, campaign: Campaign, msisdn: str, reference: str = "mobitui") -> Result:
        """Unsubscribe ``msisdn`` from ``campaign`` on its route, sending the request
        :func:`plan.unsubscribe` builds with the key, ``reference`` (DOI's; the service
        sends :func:`plan.reference` of the journal row) and the moment of sending.
        Resent only while it provably never left; see the module docstring. Never raises."""
        route = campaign.unsubscribe_via
        if route.needs_key and not self._api_key:
            return Result(
                msisdn,
                campaign.campaign_id,
                Operation.UNSUBSCRIBE,
                route,
                Outcome.FAILED,
                error="No API key: the gateway routes need one. Set it with `mobitui auth set` "
                "or $MOBITUI_API_KEY. Nothing was sent.",
            )
        exchanges: list[Exchange] = []
        # Resend only while the request provably never left; bounded.
        for attempt in range(1, self.config.network.status_attempts + 1):
            request = plan.unsubscribe(
                self.config, campaign, msisdn, key=self._api_key or "", reference=reference, at=time.time()
            )
            reply = await self._send(request, attempt=attempt)
            exchanges.append(reply.exchange)
            f = reply.failure
            if f is None or f.sent is not errors.Sent.NO or f.kind not in errors.NOT_SENT_KINDS:
                break
            if attempt < self.config.network.status_attempts:
                await self._sleep(min(0.5 * 2 ** (attempt - 1), self.config.network.retry_max_wait))
        if route is Route.SUBSCRIPTION_API:
            result = self._subscription_result(campaign, msisdn, Operation.UNSUBSCRIBE, reply)
        else:
            result = self._gateway_result(campaign, msisdn, reply)
        result.exchanges = exchanges
        return self.recorder.scrub(result)  # texts from the server, redacted where they are made

    # -- reading answers -------------------------------------------------------
    def _failed_transport(self, campaign: Campaign, msisdn: str, op: Operation, route: Route, reply: _Reply) -> Result:
        f = reply.failure
        assert f is not None
        mutating = op is Operation.UNSUBSCRIBE
        if mutating and f.sent is not errors.Sent.NO:
            return Result(
                msisdn,
                campaign.campaign_id,
                op,
                route,
                Outcome.UNKNOWN,
                http_status=reply.status,
                error=f"{f.message} Outcome unknown, check status before trying again.",
            )
        return Result(
            msisdn,
            campaign.campaign_id,
            op,
            route,
            Outcome.FAILED,
            http_status=reply.status,
            error=f.message,
            transient=f.transient and not mutating,
        )

    def _body_problem(self, reply: _Reply) -> str | None:
        body = reply.body
        assert body is not None
        st = reply.status
        if body.kind is BodyKind.HTML:
            title = f": {body.html_title!r}" if body.html_title else ""
            return (
                f"The server answered HTTP {st} with an HTML page{title} instead of the API's JSON; "
                "a proxy or load balancer is probably in the way."
            )
        if body.kind is BodyKind.EMPTY:
            return f"The server answered HTTP {st} with an empty body."
        if body.kind is BodyKind.TEXT or (body.kind in {BodyKind.JSON, BodyKind.LITERAL} and not body.mapping):
            if reply.exchange.response_truncated:  # cut, so unreadable: say why, not "not JSON"
                cap = self.config.network.max_body_bytes
                return (
                    f"The server answered HTTP {st} with a body larger than network.max_body_bytes "
                    f"({cap:,} bytes); only that much was read, and a cut body cannot be read as the "
                    "API's JSON. Raise network.max_body_bytes if answers this large are expected; "
                    "the exchange view (s) saves what was received."
                )
            return f"The server answered HTTP {st} with a body that is not the API's JSON."
        return None

    def _redirect(self, reply: _Reply, setting: str, mutating: bool = False) -> str | None:
        """Plain words for a 3xx answer (a redirect, never followed for these calls), else None.

        RFC 9110 §15.4. The Location is shown with the API key redacted: a gateway that
        redirects may echo the query string, which carries it. ``mutating``: the server
        received the whole request and may have acted on it before redirecting (as
        post/redirect/get does), so the caller reports the outcome as unknown."""
        st = reply.status
        if st is None or not 300 <= st < 400:
            return None
        location = next((v for k, v in reply.headers if k == "location"), "").strip()
        where = f" to {self.recorder.redact_url(location)[:300]}" if location else " (no Location given)"
        carried = (
            "whether it acted on the request before redirecting is not known. Outcome unknown, check status "
            "before trying again"
            if mutating
            else "the request was not carried out there"
        )
        return (
            f"The server answered HTTP {st}{' ' + reply.reason if reply.reason else ''}, a redirect{where}, "
            f"which mobitui does not follow for these calls: {carried}. "
            f"Update {setting} in the config if the service has moved."
        )

    def _subscription_result(self, campaign: Campaign, msisdn: str, op: Operation, reply: _Reply) -> Result:
        route = Route.SUBSCRIPTION_API if op is Operation.STATUS else campaign.unsubscribe_via
        if reply.failure is not None:
            return self._failed_transport(campaign, msisdn, op, route, reply)
        st = reply.status
        body = reply.body
        assert body is not None and st is not None
        data = body.mapping
        answer = {k: data.get(k) for k in ANSWER_FIELDS if k in data}
        state = data.get("state")
        state = state.strip() if isinstance(state, str) else None
        server_error = _text(data.get("error"))
        result = Result(
            msisdn,
            campaign.campaign_id,
            op,
            route,
            Outcome.FAILED,
            state=state,
            http_status=st,
            reference=_text(data.get("reference")),
            answer=answer,
            retry_after=retry_after_seconds(reply.headers),
        )
        mutating = op is Operation.UNSUBSCRIBE
        said = f" (server said: {server_error})" if server_error else ""
        if _flag(data.get("authenticated")) is False or st in (401, 403):
            result.error = (
                "Bad signature: the server did not authenticate the request"
                f"{said}. The signature is md5(account_id + campaign_id + msisdn); "
                "check account_id in the config."
            )
            return result
        if _flag(data.get("valid_campaign")) is False or (
            st == 404 and server_error and "not found" in server_error.lower()
        ):
            result.error = (
                f"Campaign not found: the server does not know campaign_id {campaign.campaign_id}"
                f"{said}. Check the campaign in the config."
            )
            return result
        if _flag(data.get("valid_msisdn")) is False:
            result.error = f"The server does not accept {msisdn} as a valid MSISDN for this campaign{said}."
            return result
        redirect = self._redirect(reply, plan.setting(Route.SUBSCRIPTION_API), mutating)
        if redirect:
            result.error = redirect
            if mutating:
                result.outcome = Outcome.UNKNOWN
            return result
        if st >= 400 or st < 200:
            text = errors.http_status(st, reply.reason, key_sent=False)
            if st in RETRYABLE_HTTP and result.retry_after is not None and st == 429:
                text = text.rstrip(".") + f"; asked to wait {result.retry_after:g} s."
            problem = self._body_problem(reply)
            if problem and body.kind is BodyKind.HTML:
                text = problem
            elif server_error:
                text += f" Server said: {server_error}"
            result.error = text
            if mutating and st >= 500 and st != 511:  # 511: credentials refused, nothing done
                result.outcome = Outcome.UNKNOWN
                result.error += " Outcome unknown, check status before trying again."
            elif mutating and st == 429:
                result.outcome = Outcome.UNKNOWN
                result.error += NOT_RESENT_AFTER_429
            else:
                result.transient = st in RETRYABLE_HTTP and not mutating
            return result
        problem = self._body_problem(reply)
        if problem:
            result.error = problem
            if mutating:
                result.outcome = Outcome.UNKNOWN
                result.error += " Outcome unknown, check status before trying again."
            return result
        if server_error:
            result.error = f"The server reported an error: {server_error}"
            return result
        if state is None:
            result.error = "The answer has no subscription state." + _other_words(data)
            return result
        if mutating and state not in {"unsubscribed", "unsub"}:
            result.error = f"The server answered state {state!r} instead of 'unsubscribed'."
            return result
        result.outcome = Outcome.OK
        return result

    def _gateway_result(self, campaign: Campaign, msisdn: str, reply: _Reply) -> Result:
        route = campaign.unsubscribe_via
        if reply.failure is not None:
            return self._failed_transport(campaign, msisdn, Operation.UNSUBSCRIBE, route, reply)
        st = reply.status
        body = reply.body
        assert body is not None and st is not None
        result = Result(
            msisdn,
            campaign.campaign_id,
            Operation.UNSUBSCRIBE,
            route,
            Outcome.FAILED,
            http_status=st,
            reference=body.mt_reference,
            retry_after=retry_after_seconds(reply.headers),
        )
        redirect = self._redirect(reply, plan.setting(route), mutating=True)
        if redirect:  # the HTTP status is the transport's, never a gateway code (301 is not "invalid username")
            result.error = redirect
            result.outcome = Outcome.UNKNOWN
            return result
        data = body.mapping
        # Gateway codes come from the body only: {"200": "MT-..."} / {"0": "..."} /
        # {"590": "SEND_FAILED: ..."} / a bare code; {"error": "..."} keeps the server's words.
        coded = {int(k): v for k, v in data.items() if isinstance(k, str) and k.strip().isdigit()}
        server_error = _text(data.get("error"))
        if st == 200 and (
            body.kind in {BodyKind.MT, BodyKind.ZERO}
            or (coded.get(200) and body.mt_reference)
            or (0 in coded and len(coded) == 1 and not server_error)
        ):
            result.outcome = Outcome.OK
            result.state = "stop-sent"
            return result
        failure_code = next((c for c in coded if c not in (0, 200)), None)
        if failure_code is not None:
            result.error = errors.gateway_code(failure_code, _text(coded[failure_code]))
            return result
        if 200 <= st < 300 and server_error:
            result.error = f"The gateway reported an error: {server_error}"
            return result
        if body.kind is BodyKind.TEXT and body.text.strip().isdigit() and 200 <= st < 300:
            code = int(body.text.strip())
            result.error = errors.gateway_code(code)
            return result
        if st >= 400:
            problem = self._body_problem(reply)
            text = problem if problem and body.kind is BodyKind.HTML else errors.http_status(st, reply.reason)
            if server_error:
                text += f" Server said: {server_error}"
            result.error = text
            if st >= 500 and st != 511:  # 511: credentials refused, nothing done
                result.outcome = Outcome.UNKNOWN
                result.error += " Outcome unknown, check status before trying again."
            elif st == 429:
                result.outcome = Outcome.UNKNOWN
                result.error += NOT_RESENT_AFTER_429
            return result
        result.outcome = Outcome.UNKNOWN
        result.error = (
            self._body_problem(reply) or f"The gateway answered HTTP {st} without an MT reference."
        ) + " Outcome unknown, check status before trying again."
        return result
