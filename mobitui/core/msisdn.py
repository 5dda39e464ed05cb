"""MSISDN normalisation with phonenumbers.

The API wants international format, digits only, no ``+`` (``254700000000``).
Operators paste ``+254 700 000 000``, ``0700-000-011`` (national, read with the
campaign's country), ``(254) 700.000.012``. :func:`normalise` turns each into
the API form and says what it changed, warns about numbers that are possible
but not valid in any known numbering plan, and rejects what cannot be a phone
number, with the reason.

The rule: a number is either the exact digits the operator meant, or rejected
with the reason. Only what is provably formatting is removed: whitespace of
every Unicode kind, invisible format characters (Unicode category Cf: bidi
marks and embeddings, zero-width spaces, a BOM; and variation selectors),
punctuation between digit groups (dashes of every kind included), quotes and
apostrophes around the number (Excel's leading ``'``), a ``tel:`` scheme, and
the international and trunk prefixes phonenumbers knows (``00``, the
campaign country's IDD such as Kenya's ``000``, a national ``0``). Decimal
digits of other scripts (fullwidth, Arabic-Indic) are read as the same digits.
What a spreadsheet did to a number is reversed only where that is exact
(``254700000101.0``, ``2.54700000101E+11``: a warning says so) and rejected
where digits may have been lost or added (``2.54712E+11``, ``2547000001.5``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber
from phonenumbers.phonenumberutil import ValidationResult

MAX_INPUT = 64
MAX_RAW = 512  # longer input is not looked at beyond this
_ALLOWED = re.compile(r"^[0-9+\-.()/\s]+$")
_PUNCT = re.compile(r"[\s\-.()/]")
_QUOTES = "\"'\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a`\u00b4"
_TEL = re.compile(r"(?i)tel:(?://)?")
# A spreadsheet's number: a decimal part of one or two digits, or scientific notation.
_DECIMAL = re.compile(r"^(\+?)(\d+)[.,](\d{1,2})$")
_LONG_ZERO_DECIMAL = re.compile(r"^\+?\d+[.,]0{3,}$")
# Digit groups ending in a decimal part: 0700 000 101.00 (a spreadsheet's number
# pasted beside a typed one, or a typed one finished like a price).
_GROUPED_DECIMAL = re.compile(r"^\+?\d+(?:[ \u00a0-]\d+)+([.,]\d{1,2})$")
_SCIENTIFIC = re.compile(r"^\+?(\d+)(?:[.,](\d+))?[eE]\+?(\d+)$")
_REPLACEMENT = "\ufffd"


def is_formatting(ch: str) -> bool:
    """True for an invisible character that only formats text: Unicode category Cf
    (bidi marks and embeddings, zero-width space and joiners, a BOM, soft hyphen) and
    the variation selectors (U+FE00-FE0F, U+E0100-E01EF)."""
    o = ord(ch)
    return unicodedata.category(ch) == "Cf" or 0xFE00 <= o <= 0xFE0F or 0xE0100 <= o <= 0xE01EF


def _ascii(text: str) -> tuple[str, bool]:
    """Decimal digits of any script as ASCII digits, dashes of any kind as '-',
    the fullwidth plus as '+'. Returns the text and whether a digit was converted."""
    out: list[str] = []
    converted = False
    for ch in text:
        if ch.isascii():
            out.append(ch)
        elif unicodedata.category(ch) == "Nd":
            out.append(str(unicodedata.decimal(ch)))
            converted = True
        elif unicodedata.category(ch) == "Pd" or ch == "\u2212":
            out.append("-")
        elif ch == "\uff0b":
            out.append("+")
        else:
            out.append(ch)
    return "".join(out), converted


def _code_points(chars: list[str]) -> str:
    seen = list(dict.fromkeys(chars))
    shown = ", ".join(f"U+{ord(c):04X}" for c in seen[:4])
    return shown + (", …" if len(seen) > 4 else "")


def _strip_formatting(raw: str) -> tuple[str, list[str]]:
    """Remove what is provably formatting around and inside a number; the notes say what."""
    notes: list[str] = []
    invisible = [] if raw.isascii() else [ch for ch in raw if is_formatting(ch)]
    text = raw
    if invisible:
        text = "".join(ch for ch in raw if not is_formatting(ch))
        notes.append(f"removed invisible formatting characters ({_code_points(invisible)})")
    text = text.strip()
    quotes = False
    while True:
        before = text
        if text[:1] in _QUOTES and text[:1]:
            text, quotes = text[1:].strip(), True
        if text[-1:] in _QUOTES and text[-1:]:
            text, quotes = text[:-1].strip(), True
        m = _TEL.match(text)
        if m:
            text = text[m.end() :].strip()
            notes.append("removed the tel: scheme")
        if text == before:
            break
    if quotes:
        notes.append("removed quotes")
    if not text.isascii():
        text, converted = _ascii(text)
        if converted:
            notes.append("read non-ASCII digits as the same digits")
    return text, notes


def _bad_character(ch: str) -> str:
    if ch == _REPLACEMENT:
        return "contains bytes that are not text in its encoding (shown as \ufffd): not a phone number"
    if ch.isprintable():
        return f"contains {ch!r}: not a phone number"
    return f"contains {ch!r} (U+{ord(ch):04X}): not a phone number"


class Verdict(StrEnum):
    """What :func:`normalise` made of one number. A ``StrEnum``: the value is the word
    stored in the journal's ``job_items.verdict`` and written to exports."""

    OK = "ok"  # the exact digits meant
    WARNING = "warning"  # sent, but worth a look (the reason says why)
    INVALID = "invalid"  # not sent; the reason says why


@dataclass(frozen=True, slots=True)
class Parsed:
    raw: str
    msisdn: str | None
    verdict: Verdict
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.msisdn is not None


_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country calling code",
    ValidationResult.TOO_SHORT: "too short to be a phone number",
    ValidationResult.INVALID_LENGTH: "wrong length for its country",
    ValidationResult.TOO_LONG: "too long to be a phone number",
}

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    NumberParseException.TOO_LONG: "too long to be a phone number",
}


def _digits(n: PhoneNumber) -> str:
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def _international_prefix(compact: str, country: str | None) -> str:
    """The international (IDD) prefix that ``compact`` starts with: the country's own
    per phonenumbers' metadata (Kenya's 000, Nigeria's 009, the US 011), else 00."""
    if country:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(country.upper())
        if meta is not None and meta.international_prefix:
            m = re.match(f"(?:{meta.international_prefix})", compact)
            if m and m.end() < len(compact):
                return m.group(0)
    return "00" if compact.startswith("00") else ""


def _try(text: str, region: str | None) -> tuple[PhoneNumber | None, str]:
    try:
        n = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return None, _PARSE_REASONS.get(exc.error_type, "not a phone number")
    result = phonenumbers.is_possible_number_with_reason(n)
    if result not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return None, _POSSIBLE_REASONS.get(result, "not a possible phone number")
    if result == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return None, "too short: only dialable locally, needs the area code"
    return n, ""


def normalise(raw: str, country: str | None = None) -> Parsed:
    """Turn operator input into the API's MSISDN form, or say why not.

    ``raw`` is one number as typed or pasted; ``country`` the campaign's ISO 3166
    region (``"KE"``) for national numbers and the region's international prefix,
    or None. Returns a :class:`Parsed`: ``msisdn`` is the E.164 digits without
    ``+`` (ITU-T E.164, as the API wants) or None; ``reason`` says what was changed
    (verdict ok or warning) or why the input was rejected (verdict invalid). A
    spreadsheet's number reversed exactly is a warning. Never raises.
    """
    if len(raw) > MAX_RAW:
        return Parsed(raw, None, Verdict.INVALID, f"longer than {MAX_INPUT} characters")
    text, cleaned = _strip_formatting(raw)
    if not text:
        return Parsed(raw, None, Verdict.INVALID, "empty")
    if len(text) > MAX_INPUT:
        return Parsed(raw, None, Verdict.INVALID, f"longer than {MAX_INPUT} characters")
    spreadsheet = _spreadsheet(raw, text)
    if spreadsheet is not None:
        if isinstance(spreadsheet, Parsed):
            return spreadsheet
        text, note = spreadsheet
        inner = _normalise(raw, text, country)
        if inner.msisdn is None:
            return Parsed(
                raw,
                None,
                Verdict.INVALID,
                f"looks like a spreadsheet number: {text} is not a phone number ({inner.reason})",
            )
        notes = cleaned + [note] + ([inner.reason] if inner.reason else [])
        return Parsed(raw, inner.msisdn, Verdict.WARNING, "; ".join(notes))
    parsed = _normalise(raw, text, country)
    if cleaned and parsed.msisdn is not None:
        notes = cleaned + ([parsed.reason] if parsed.reason else [])
        return Parsed(raw, parsed.msisdn, parsed.verdict, "; ".join(notes))
    return parsed


def _spreadsheet(raw: str, text: str) -> Parsed | tuple[str, str] | None:
    """A spreadsheet's rendering of a number: (the digits, a note) when it reverses
    exactly, a rejection when digits may have been lost or added, None otherwise."""
    m = _DECIMAL.match(text)
    if m:
        plus, whole, fraction = m.groups()
        if fraction.strip("0"):
            return Parsed(
                raw, None, Verdict.INVALID, f"looks like a decimal number ({text}): a phone number has no decimal part"
            )
        return (
            plus + whole,
            f"read {text} as a spreadsheet number: removed the decimal part {text[len(plus + whole) :]!r}",
        )
    if _LONG_ZERO_DECIMAL.match(text):
        return Parsed(
            raw,
            None,
            Verdict.INVALID,
            f"ambiguous: {text} could be a spreadsheet number or digit groups; write it without "
            f"the {'.' if '.' in text else ','!r}",
        )
    grouped = _GROUPED_DECIMAL.match(text)
    if grouped:
        return Parsed(
            raw,
            None,
            Verdict.INVALID,
            f"ends like a spreadsheet number ({grouped.group(1)}), but in digit groups: not read, "
            "write the number alone",
        )
    m = _SCIENTIFIC.match(text)
    if m:
        whole, fraction, exponent = m.group(1), m.group(2) or "", int(m.group(3))
        if len(whole) == 1 and whole != "0" and exponent == len(fraction):
            digits = whole + fraction  # every digit of the integer is shown
            return digits, f"read {text} as a spreadsheet number: {digits}"
        return Parsed(
            raw,
            None,
            Verdict.INVALID,
            f"looks like a spreadsheet number: {text}, digits were lost "
            "(format the column as text, or as a number without decimals, and copy it again)",
        )
    return None


def _normalise(raw: str, text: str, country: str | None) -> Parsed:
    if not _ALLOWED.match(text):
        bad = next(ch for ch in text if not _ALLOWED.match(ch))
        return Parsed(raw, None, Verdict.INVALID, _bad_character(bad))
    compact = _PUNCT.sub("", text)
    if compact.count("+") > 1 or ("+" in compact and not compact.startswith("+")):
        return Parsed(raw, None, Verdict.INVALID, "'+' only belongs at the start")
    if not compact.lstrip("+"):
        return Parsed(raw, None, Verdict.INVALID, "no digits")

    notes: list[str] = []
    number: PhoneNumber | None = None
    typed: str | None = None  # the digits of an international form, as typed
    idd = _international_prefix(compact, country)
    if compact.startswith("+"):
        number, why = _try(compact, None)
        typed = compact[1:]
        notes.append("removed '+'")
    elif idd:
        typed = compact[len(idd) :]
        if typed.startswith("0"):
            return Parsed(
                raw,
                None,
                Verdict.INVALID,
                f"starts with {compact[: len(idd) + 1]}: an international prefix other than "
                f"{idd}? write the number with + and its country code",
            )
        number, why = _try("+" + typed, None)
        notes.append(f"removed the international prefix {idd}")
    elif compact.startswith("0"):
        if not country:
            return Parsed(
                raw,
                None,
                Verdict.INVALID,
                "national number (leading 0) and the campaign has no country set",
            )
        number, why = _try(compact, country)
        cc = phonenumbers.country_code_for_region(country)
        notes.append(f"national number read as {country} (+{cc})")
    else:
        # Digits without a prefix are the API's own (international) form; a national
        # reading is tried only when that is impossible, so normalising a result
        # again gives the same result.
        number, why = _try("+" + compact, None)
        typed = compact if number is not None else None
        if number is None and country:
            national, _ = _try(compact, country)
            if national is not None and phonenumbers.is_valid_number(national):
                number = national
                cc = phonenumbers.country_code_for_region(country)
                notes.append(f"read as a national number of {country} (+{cc})")
    if number is None:
        return Parsed(raw, None, Verdict.INVALID, why)

    msisdn = _digits(number)
    if compact != text:
        notes.insert(0, "removed spaces and punctuation")
    if not phonenumbers.is_valid_number(number):
        if typed is not None:
            # libphonenumber drops a national prefix after some country codes (+31 0…);
            # a number that is not valid anyway is sent exactly as typed, as it says.
            msisdn = typed
        region = phonenumbers.region_code_for_country_code(number.country_code or 0)
        notes.append(
            f"possible but not a valid number in the {region} numbering plan; sent as typed"
            if region != "ZZ"
            else "possible but not valid in any known numbering plan; sent as typed"
        )
        return Parsed(raw, msisdn, Verdict.WARNING, "; ".join(notes))
    if typed is not None and msisdn != typed:
        notes.append("removed the national prefix after the country code")
        if not re.search(r"\(\d\)", text):
            # Not written as "+44 (0)20 …": a digit typed was dropped, on phonenumbers'
            # word that the number is valid only without it. Said as a warning.
            return Parsed(raw, msisdn, Verdict.WARNING, "; ".join(notes))
    return Parsed(raw, msisdn, Verdict.OK, "; ".join(notes))
