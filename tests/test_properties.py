"""Property-based tests: any operator input or server body gives a result or a clear error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobitui.core import bodies, paste
from mobitui.core.config import ConfigError, parse
from mobitui.core.msisdn import Verdict, normalise
from mobitui.core.text import inert

PHONEISH = st.text(alphabet="0123456789 +-.()/", min_size=0, max_size=30)
ANY_TEXT = st.text(max_size=80)
COUNTRIES = st.sampled_from([None, "KE", "GB", "NG", "ZA", "US"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(PHONEISH, ANY_TEXT), COUNTRIES)
def test_normalise_never_raises_and_is_idempotent(raw, country):
    p = normalise(raw, country)
    if p.msisdn is None:
        assert p.verdict is Verdict.INVALID and p.reason
        return
    assert p.msisdn.isdigit() and 6 <= len(p.msisdn) <= 17
    again = normalise(p.msisdn, country)
    assert again.msisdn == p.msisdn
    assert normalise("+" + p.msisdn).msisdn == p.msisdn


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(PHONEISH, ANY_TEXT), max_size=30))
def test_paste_parse_gives_one_verdict_per_field_and_marks_duplicates(lines):
    entries = paste.parse(lines, "KE")
    seen: set[str] = set()
    for e in entries:
        assert e.verdict in {"ok", "warning", "invalid", "duplicate"}
        if e.verdict == "duplicate":
            assert e.msisdn in seen and e.duplicate_of is not None and e.duplicate_of <= e.line
        elif e.msisdn:
            seen.add(e.msisdn)
    assert sum(1 for e in entries if e.usable) == len(seen)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)), st.sampled_from(["", "text/html", "application/json"]))
def test_read_body_never_raises(raw, ctype):
    b = bodies.read_body(raw, ctype)
    assert b.kind in {"json", "literal", "mt", "zero", "html", "text", "empty"}


SAFE_TEXT = st.text(alphabet="abc xyz0123", max_size=12)  # cannot spell true/false/null or MT-


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(SAFE_TEXT, st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), SAFE_TEXT),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(SAFE_TEXT, children, max_size=4)),
    max_leaves=12,
), max_size=5))
def test_the_docs_python_literal_spelling_reads_back_as_the_same_data(value):
    import json

    text = json.dumps(value, indent=2).replace("true", "True").replace("false", "False").replace("null", "Null")
    b = bodies.read_body(text.encode())
    assert b.data == value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_config_loading_gives_a_config_or_a_config_error(text):
    try:
        parse(text)
    except ConfigError as exc:
        assert str(exc).strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_inert_text_has_no_control_characters(text):
    out = inert(text, 100)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in out)


@pytest.mark.parametrize("raw", ["\x1b[31mred", "\x1b]52;c;ZXZpbA==\x07", "\x9b2J", "a\u202eb"])
def test_inert_shows_escapes_visibly(raw):
    out = inert(raw)
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    assert "\\x" in out or "\\u" in out
