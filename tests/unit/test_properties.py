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
@given(
    st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
    st.sampled_from(["", "text/html", "application/json"]),
)
def test_read_body_never_raises(raw, ctype):
    b = bodies.read_body(raw, ctype)
    assert b.kind in {"json", "literal", "mt", "zero", "html", "text", "empty"}


SAFE_TEXT = st.text(alphabet="abc xyz0123", max_size=12)  # cannot spell true/false/null or MT-


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        SAFE_TEXT,
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), SAFE_TEXT),
            lambda children: st.one_of(
                st.lists(children, max_size=4), st.dictionaries(SAFE_TEXT, children, max_size=4)
            ),
            max_leaves=12,
        ),
        max_size=5,
    )
)
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


# -- every number as operators paste it, and never a different number ----------------

import csv  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402
import unicodedata  # noqa: E402

import phonenumbers  # noqa: E402

# Invisible format characters (Unicode Cf) and variation selectors, as copied from
# WhatsApp, phone apps, password managers and right-to-left text.
INVISIBLE = [
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\ufe0f",
    "\ufe0e",
]
SPACES = [" ", "\t", "\u00a0", "\u2002", "\u2003", "\u2009", "\u202f", "\u3000", "\u205f"]
GROUP_SEPARATORS = [*SPACES, "-", "/", "‐", "‑", "‒", "–", "—", "−"]
QUOTES = [("", ""), ("'", ""), ('"', '"'), ("'", "'"), ("\u201c", "\u201d"), ("\u2018", "\u2019"), ("\u00ab", "\u00bb")]
DIGIT_SCRIPTS = [
    "0123456789",
    "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",
]
KE_MOBILE = st.from_regex(r"\A2547[0-9]{8}\Z")
ANY_DIGITS = st.from_regex(r"\A[1-9][0-9]{5,14}\Z")


@st.composite
def decorated(draw, digits):  # type: ignore[no-untyped-def]
    """(the digits, the same number as an operator might paste it, the country)."""
    d = draw(digits)
    form = draw(st.sampled_from(["bare", "+", "00", "idd", "national"]))
    country = draw(st.sampled_from([None, "KE"])) if form in ("bare", "+", "00") else "KE"
    body = {"bare": d, "+": d, "00": d, "idd": d, "national": "0" + d[3:]}[form]
    cuts = sorted(draw(st.sets(st.integers(1, len(body) - 1), max_size=4)))
    groups = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=False)]
    if draw(st.booleans()) and len(groups) >= 3:
        text = ".".join(groups)  # dotted groups: 254.700.000.101
    else:
        text = "".join(
            g + (draw(st.sampled_from(GROUP_SEPARATORS)) if i < len(groups) - 1 else "") for i, g in enumerate(groups)
        )
    script = draw(st.sampled_from(DIGIT_SCRIPTS))
    text = text.translate(str.maketrans("0123456789", script))
    text = {"bare": "", "+": draw(st.sampled_from(["+", "\uff0b"])), "00": "00", "idd": "000", "national": ""}[
        form
    ] + text
    if draw(st.booleans()):
        text = draw(st.sampled_from(["tel:", "TEL:", "tel://"])) + text
    opening, closing = draw(st.sampled_from(QUOTES))
    text = opening + text + closing
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(INVISIBLE)) + text[at:]
    text = draw(st.sampled_from(["", *SPACES])) + text + draw(st.sampled_from(["", *SPACES]))
    return d, text, country


@settings(max_examples=600, deadline=None)
@given(decorated(KE_MOBILE))
def test_any_formatting_of_a_number_gives_exactly_its_digits(case):
    digits, raw, country = case
    p = normalise(raw, country)
    assert p.msisdn == digits, (raw, p)
    assert p.verdict is not Verdict.INVALID
    if raw.strip() != digits:
        assert p.reason, "what was changed is always said"


def _readings(raw: str, country: str | None) -> set[str]:
    """Every MSISDN the documented transformations may make of ``raw``: its digits
    (any script) without formatting; without a spreadsheet's ".0"/".00" or with the
    mantissa of an exact scientific form; without an international prefix (00, 000);
    a national number (a trunk 0 dropped) with the country's code in front; the
    trunk 0 after a country code dropped."""
    text = "".join(ch for ch in raw if unicodedata.category(ch) != "Cf" and not 0xFE00 <= ord(ch) <= 0xFE0F)
    text = "".join(str(unicodedata.decimal(ch)) if unicodedata.category(ch) == "Nd" else ch for ch in text)
    text = text.strip().strip("\"'\u2018\u2019\u201c\u201d\u00ab\u00bb").strip()
    digits = re.sub(r"\D", "", text)
    bases = {digits}
    m = re.fullmatch(r"\+?(\d+)[.,]0{1,2}", text)
    if m:
        bases = {m.group(1)}
    m = re.fullmatch(r"\+?(\d)[.,](\d+)[eE]\+?(\d+)", text)
    if m:
        bases = {m.group(1) + m.group(2)}
    out: set[str] = set()
    for b in bases:
        forms = {b, b[2:] if b.startswith("00") else b, b[3:] if b.startswith("000") else b}
        if country == "KE":
            forms |= {"254" + b[1:] if b.startswith("0") else b, "254" + b}
        out |= forms
        for f in forms:  # a trunk prefix after the country code, per phonenumbers' metadata
            for k in (1, 2, 3):
                region = phonenumbers.region_code_for_country_code(int(f[:k]))
                meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
                trunk = meta.national_prefix if meta is not None else None
                if trunk and f[k:].startswith(trunk):
                    out.add(f[:k] + f[k + len(trunk) :])
    return out


NUMBERISH = st.text(alphabet="0123456789+-.,() eE'\"\u00a0\u202a\u202c\u200e\ufe0f\uff10\uff11\u0661tel:", max_size=24)


@settings(max_examples=800, deadline=None)
@given(st.one_of(NUMBERISH, decorated(ANY_DIGITS).map(lambda c: c[1])), st.sampled_from([None, "KE"]))
def test_an_accepted_input_is_its_own_digits_after_only_the_documented_changes(raw, country):
    p = normalise(raw, country)
    if p.msisdn is None:
        assert p.verdict is Verdict.INVALID and p.reason
        return
    assert p.msisdn in _readings(raw, country), (raw, p)


@settings(max_examples=600, deadline=None)
@given(ANY_DIGITS, st.data())
def test_a_float_looking_number_is_never_sent_with_a_digit_more_or_less(digits, data):
    plain = normalise(digits).msisdn
    k = data.draw(st.integers(1, len(digits)))
    mantissa = digits[0] + ("." + digits[1:k] if k > 1 else "")
    exponent = data.draw(st.sampled_from(["E+", "e+", "E", "e"])) + str(len(digits) - 1)
    decimal = data.draw(st.sampled_from([".0", ".00", ",0", ".000", ".5", ".50", ".01"]))
    for raw in (digits + decimal, mantissa + exponent, "+" + digits + decimal):
        p = normalise(raw)
        assert p.msisdn is None or p.msisdn == plain, (raw, p)
        if p.msisdn is not None:
            assert p.verdict is Verdict.WARNING and "spreadsheet" in p.reason
    if k < len(digits):  # the mantissa does not show every digit: some were lost
        assert normalise(mantissa + exponent).msisdn is None


NAME = st.text(alphabet="abcdfghijk ,;\"'-23", min_size=1, max_size=12).map(lambda s: "x" + s)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(KE_MOBILE, NAME), min_size=1, max_size=12, unique_by=lambda r: r[0]),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    st.sampled_from(["\r\n", "\n"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    st.booleans(),
)
def test_a_csv_export_gives_its_numbers_and_nothing_else(rows, delimiter, quoting, newline, encoding, header):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    if header:
        w.writerow(["msisdn", "name"])
    w.writerows(rows)
    table = paste.read(buf.getvalue().encode(encoding), "KE")
    assert [e.msisdn for e in table.entries] == [d for d, _ in rows]
    assert all(e.usable and e.verdict == "ok" for e in table.entries)

    # The other fields are reported (a one-line sample may split a name on a separator).
    def letters(s: str) -> str:
        return re.sub(r"[,;\t\s\"]", "", s)

    assert [letters("".join(e.other)) for e in table.entries] == [letters(n) for _, n in rows]
    assert (table.header is not None) == header
