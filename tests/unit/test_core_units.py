"""Unit tests of the core pieces that need no server."""

from __future__ import annotations

import json

import pytest

from mobitui.core import bodies, errors
from mobitui.core.client import signature
from mobitui.core.msisdn import Verdict, normalise
from mobitui.core.recorder import MASK, Recorder


def test_signature_matches_the_docs_worked_example():
    assert (
        signature("43e36f54eef111e270639871000000f1", "c71e2c2ee68b410a82d6c5f910c2d428", "254700000000")
        == "1af289e14aa593c843da7cd869a8e2f7"
    )


def test_signature_in_the_prose_order_does_not_match():
    # The docs' prose says campaign_id, msisdn, account_id; their example disagrees.
    assert (
        signature("c71e2c2ee68b410a82d6c5f910c2d428", "254700000000", "43e36f54eef111e270639871000000f1")
        != "1af289e14aa593c843da7cd869a8e2f7"
    )


# -- MSISDN --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,country,expected",
    [
        ("+254 700 000 000", None, "254700000000"),
        ("0700-000-011", "KE", "254700000011"),
        ("(254) 700.000.012", None, "254700000012"),
        ("   254700000013  ", None, "254700000013"),
        ("00254700000014", None, "254700000014"),
        ("700000015", "KE", "254700000015"),
    ],
)
def test_msisdn_forms_normalise_to_digits(raw, country, expected):
    p = normalise(raw, country)
    assert p.msisdn == expected
    assert p.verdict is Verdict.OK


def test_msisdn_says_what_changed():
    assert "national number read as KE (+254)" in normalise("0700-000-011", "KE").reason
    assert "removed '+'" in normalise("+254700000000").reason
    assert normalise("254700000000").reason == ""


def test_possible_but_invalid_number_is_accepted_with_warning():
    p = normalise("44700000000")
    assert p.msisdn == "44700000000"
    assert p.verdict is Verdict.WARNING
    assert "not a valid number" in p.reason


def test_a_trunk_zero_after_the_country_code():
    # libphonenumber drops it: right for "+31 (0)20 …" (valid without it, and said so),
    # wrong for a number that is not valid anyway, which is sent exactly as typed.
    p = normalise("+31 (0)20 123 4567")
    assert (p.msisdn, p.verdict) == ("31201234567", Verdict.OK)
    assert "removed the national prefix after the country code" in p.reason
    for raw in ("310000000", "+310000000", "00310000000"):
        p = normalise(raw, "KE")
        assert (p.msisdn, p.verdict) == ("310000000", Verdict.WARNING), raw
        assert normalise(p.msisdn, "KE").msisdn == p.msisdn


@pytest.mark.parametrize(
    "raw,country,why",
    [
        ("", None, "empty"),
        ("hello", None, "contains 'h'"),
        ("12", None, "not a phone number"),
        ("+999 1234567", None, "unknown country calling code"),
        ("0700000000", None, "no country set"),
        ("254+700", None, "'+' only belongs at the start"),
        ("1" * 70, None, "longer than 64"),
        ("+2547000000001234567", None, "too long"),
    ],
)
def test_impossible_numbers_are_rejected_with_the_reason(raw, country, why):
    p = normalise(raw, country)
    assert p.msisdn is None and p.verdict is Verdict.INVALID
    assert why in p.reason


# -- bodies ----------------------------------------------------------------------


def test_body_plain_json():
    b = bodies.read_body(b'{"state": "active", "error": null}')
    assert b.kind == "json" and b.mapping["state"] == "active"


def test_body_python_literals_as_in_the_docs():
    raw = b'{\n  "authenticated" : True,\n  "valid_msisdn" : True,\n  "state" : "unsubscribed",\n  "error" : Null\n}'
    b = bodies.read_body(raw)
    assert b.kind == "literal"
    assert b.mapping == {"authenticated": True, "valid_msisdn": True, "state": "unsubscribed", "error": None}


def test_body_literal_words_inside_strings_are_left_alone():
    b = bodies.read_body(b'{"campaign_name": "True Null stories", "ok": True}')
    assert b.mapping["campaign_name"] == "True Null stories"


def test_body_missing_commas_as_in_the_docs_request_example():
    b = bodies.read_body(b'{\n    "msisdn":"254700000000"\n    "signature":"abc"\n}')
    assert b.mapping == {"msisdn": "254700000000", "signature": "abc"}


@pytest.mark.parametrize(
    "raw",
    [
        b"MT-aabbccddeeff00112233445566778899",
        b'{\n  "MT-aabbccddeeff00112233445566778899"\n}',
        b'"MT-aabbccddeeff00112233445566778899"',
    ],
)
def test_body_mt_reference_forms(raw):
    b = bodies.read_body(raw)
    assert b.kind == "mt"
    assert b.mt_reference == "MT-aabbccddeeff00112233445566778899"


def test_body_zero_is_the_old_success():
    assert bodies.read_body(b"0").kind == "zero"
    assert bodies.read_body(b" 0\n").kind == "zero"


def test_body_doi_success_with_the_docs_trailing_comma():
    b = bodies.read_body(b'{\n  "200": "MT-c65561314eb34088b6df42d8241aace0",\n}')
    assert b.mapping == {"200": "MT-c65561314eb34088b6df42d8241aace0"}
    assert b.mt_reference == "MT-c65561314eb34088b6df42d8241aace0"


def test_body_doi_failure():
    b = bodies.read_body(b'{"590": "SEND_FAILED: subscriber barred"}')
    assert b.mapping == {"590": "SEND_FAILED: subscriber barred"}
    assert b.mt_reference is None


def test_body_html_error_page():
    b = bodies.read_body(b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", "text/html")
    assert b.kind == "html" and b.html_title == "502 Bad Gateway"


def test_body_empty_and_whitespace():
    assert bodies.read_body(b"").kind == "empty"
    assert bodies.read_body(b"  \r\n").kind == "empty"


def test_body_non_utf8():
    b = bodies.read_body(b'{"campaign_name": "Caf\xe9", "state": "active"}')
    assert "not valid UTF-8" in b.notes[0]
    assert b.mapping["state"] == "active"
    assert "\ufffd" in b.mapping["campaign_name"]


def test_body_truncated_json_is_text_not_an_exception():
    b = bodies.read_body(b'{"authenticated": true, "sta')
    assert b.kind == "text" and b.data is None


def test_body_huge_literal_is_not_evaluated():
    raw = b"{" + b'"a": True, ' * 20000 + b"}"
    b = bodies.read_body(raw)
    assert b.kind == "text"


# -- error catalogue ---------------------------------------------------------------


def test_gateway_codes_have_plain_words():
    assert "Username or password incorrect" in errors.gateway_code(511).replace("username", "Username")
    assert "auth set" in errors.gateway_code(511)
    assert "subscriber barred" in errors.gateway_code(590, "SEND_FAILED: subscriber barred")
    assert "not in our catalogue" in errors.gateway_code(777)
    assert "insufficient credit" in errors.gateway_code(523)


def test_transport_errors_each_have_their_own_message():
    import socket
    import ssl

    import httpx

    def wrapped(inner: BaseException, outer: type[Exception]) -> Exception:
        try:
            try:
                raise inner
            except BaseException as e:
                raise outer("x") from e
        except Exception as exc:  # noqa: BLE001  whatever was raised is the answer
            return exc

    cases = {
        "dns": wrapped(socket.gaierror(-2, "Name or service not known"), httpx.ConnectError),
        "refused": wrapped(ConnectionRefusedError(111, "refused"), httpx.ConnectError),
        "tls": wrapped(ssl.SSLCertVerificationError("certificate verify failed"), httpx.ConnectError),
        "connect_timeout": httpx.ConnectTimeout("t"),
        "read_timeout": httpx.ReadTimeout("t"),
        "protocol": httpx.RemoteProtocolError("peer closed"),
    }
    messages = set()
    for kind, exc in cases.items():
        f = errors.classify(exc, "api.example:443", 5, 15)
        assert f.kind == kind, (kind, f)
        messages.add(f.message)
    assert len(messages) == len(cases)
    assert errors.classify(cases["read_timeout"], "h", 5, 15).sent is errors.Sent.MAYBE
    assert errors.classify(cases["refused"], "h", 5, 15).sent is errors.Sent.NO


def test_sent_or_not_is_decided_by_the_phase_not_by_an_ssl_error_in_the_chain():
    # A bad TLS record after the request was written: the server may have it (issue 11.4).
    import ssl

    import httpx

    from mobitui.core.transport import TransportError

    def failed(phase: str, inner: BaseException) -> TransportError:
        try:
            try:
                raise inner
            except BaseException as e:
                raise httpx.ReadError("x") from e
        except httpx.ReadError as e:
            try:
                raise TransportError(phase, "x") from e
            except TransportError as exc:
                return exc
        raise AssertionError

    after = errors.classify(failed("exchange", ssl.SSLError(1, "[SSL] record layer failure")), "h", 5, 15)
    assert after.kind == "tls_after" and after.sent is errors.Sent.MAYBE
    assert "Nothing was sent" not in after.message and "may have received" in after.message
    before = errors.classify(failed("connect", ssl.SSLError(1, "[SSL] handshake failure")), "h", 5, 15)
    assert before.kind == "tls" and before.sent is errors.Sent.NO and "Nothing was sent" in before.message


# -- redaction ---------------------------------------------------------------------


KEY = "FAKE-key+with/odd=chars-0123456789"


def test_recorder_redacts_password_doi_segment_and_the_key_anywhere():
    r = Recorder([KEY])
    from urllib.parse import quote, quote_plus

    ex = r.record(
        started=0,
        method="GET",
        url=f"https://gw/srs/api/sendsms?USER_NAME=a&PASSWORD={quote(KEY, safe='')}&X=1",
        request_headers=[("Authorization", "Bearer " + KEY), ("X-Echo", KEY)],
        request_body=json.dumps({"k": KEY}),
        status=200,
        response_body=f"echo {quote_plus(KEY)} and {KEY}",
        error=f"failed for {KEY}",
    )
    blob = json.dumps(ex.to_dict())
    for spelling in (KEY, quote(KEY, safe=""), quote_plus(KEY)):
        assert spelling not in blob
    assert "PASSWORD=***" in ex.url
    doi = r.redact_url("https://gw/api/doi/acc123/someotherkey/?stop=1")
    assert doi == f"https://gw/api/doi/acc123/{MASK}/?stop=1"


def test_recorder_password_param_redacted_even_when_not_the_configured_key():
    r = Recorder([])
    assert r.redact_url("https://gw/x?PASSWORD=whatever&A=1") == "https://gw/x?PASSWORD=***&A=1"
    assert r.redact_url("https://gw/x?a=1&password=zz") == "https://gw/x?a=1&password=***"


def test_recorder_keeps_a_bounded_window_and_tells_listeners():
    r = Recorder([], keep=3)
    seen = []
    r.subscribe(seen.append)
    for i in range(5):
        r.record(started=0, method="GET", url=f"http://h/{i}")
    assert [e.url for e in r.recent] == ["http://h/2", "http://h/3", "http://h/4"]
    assert len(seen) == 5


def test_a_child_recorder_shares_secrets_and_the_window_but_not_its_listeners():
    parent = Recorder([], keep=10)
    kid = parent.child()
    parent_seen, kid_seen = [], []
    parent.subscribe(parent_seen.append)
    kid.subscribe(kid_seen.append)
    parent.add_secret("K3y-added-after-the-child")  # the console finds the key later
    a = kid.record(
        started=0,
        method="GET",
        url="http://h/x?k=K3y-added-after-the-child",
        response_body="echo K3y-added-after-the-child",
    )
    b = parent.record(started=0, method="GET", url="http://h/lookup")
    assert a.url == f"http://h/x?k={MASK}" and a.response_body == f"echo {MASK}"
    assert [e.id for e in parent_seen] == [a.id, b.id] and a.id != b.id
    assert [e.id for e in parent.recent] == [a.id, b.id]
    assert kid_seen == [a]  # a lookup's 429 on the console's recorder never pauses a job


def test_a_long_server_text_is_cut_only_after_the_echoed_key_in_it_is_redacted():
    """An HTML-encoded key near the end of a long reference: cut first, part of it would stay."""
    import html

    from mobitui.core.config import Route
    from mobitui.core.recorder import Recorder
    from mobitui.core.results import Operation, Outcome, Result

    key = "FAKEKEY-abcdef123456"
    encoded = "".join(f"&#{ord(c)};" for c in key)  # 100+ characters
    r = Result(
        "254700000101",
        "c" * 32,
        Operation.STATUS,
        Route.SUBSCRIPTION_API,
        Outcome.OK,
        reference="AP:" + encoded,
        error="x" * 1990 + " PASSWORD=" + key,
    )
    Recorder([key]).scrub(r)
    assert "FAKEKEY-abc" not in html.unescape(r.reference) and len(r.reference) <= 100
    assert "FAKEKEY" not in r.error and len(r.error) <= 2000


def test_a_semicolon_row_whose_quoted_cell_holds_a_comma_is_read_by_its_semicolons():
    """One line is too small a sample to tell ',' from ';' by widths alone: a quoted cell
    that only parses with ';' decides it (found by the CSV-export property)."""
    from mobitui.core import paste

    table = paste.read(b'254700000000;"x"","\r\n', "KE")
    assert [(e.msisdn, e.other) for e in table.entries] == [("254700000000", ('x",',))]


def test_an_echo_of_the_key_in_another_case_or_cut_short_after_password_is_masked():
    """A server that upper-cases what it echoes, or echoes PASSWORD= with the key cut or
    altered, still gives the key (or most of it) away: each is masked."""
    from mobitui.core.recorder import Recorder

    r = Recorder(["FAKE-k3y-b2-0000"])
    assert r.redact("Username or Password incorrect: PASSWORD=FAKE-K3Y-B2-0000") == (
        "Username or Password incorrect: PASSWORD=***"
    )
    assert r.redact("reference fake-k3y-b2-0000.") == "reference ***."
    assert r.redact("GET /srs/api/sendsms?USER=u&PASSWORD=FAKE-k3y-b2-000&TEXT=x") == (
        "GET /srs/api/sendsms?USER=u&PASSWORD=***&TEXT=x"
    )
    assert r.redact("password=FAKE&hyphen;k3y&hyphen;b2&hyphen;0000 ok") == "password=*** ok"
    assert r.redact("FAKE%2dK3Y%2dB2%2d0000") == "***"  # percent-encoded and upper-cased
    assert r.redact("no key here, PASSWORD=&x") == "no key here, PASSWORD=&x"
    # the '=' as an entity or percent-encoded, spaces around it, a quoted value
    assert r.redact("PASSWORD&#61;hunter2secret pass") == "PASSWORD&#61;*** pass"
    assert r.redact("PASSWORD%3Dhunter2secret&x=1") == "PASSWORD%3D***&x=1"
    assert r.redact('PASSWORD="hunter2 secret" x') == "PASSWORD=*** x"
    assert r.redact("Password = hunter2secret") == "Password = ***"


def test_a_file_removed_between_seeing_it_and_using_it_is_created_again(tmp_path, monkeypatch):
    """Two processes share the debug log: one may rotate it (rename) just after the other
    found it there. private.touch then creates it again instead of failing."""
    import os

    from mobitui.core import private

    path = tmp_path / "debug.log"
    real_open, calls = os.open, []

    def open_once_existing(p, flags, mode=0o777):  # type: ignore[no-untyped-def]
        calls.append(p)
        if len(calls) == 1:  # it was there a moment ago, and is gone now
            raise FileExistsError(17, "File exists", str(p))
        return real_open(p, flags, mode)

    monkeypatch.setattr(os, "open", open_once_existing)
    private.touch(path)
    assert len(calls) == 2 and path.exists() and path.stat().st_mode & 0o777 == 0o600
