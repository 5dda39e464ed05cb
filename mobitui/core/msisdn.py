"""MSISDN normalisation with phonenumbers.

The API wants international format, digits only, no ``+`` (``254700000000``).
Operators paste ``+254 700 000 000``, ``0700-000-011`` (national, read with the
campaign's country), ``(254) 700.000.012``. :func:`normalise` turns each into
the API form and says what it changed, warns about numbers that are possible
but not valid in any known numbering plan, and rejects what cannot be a phone
number, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber
from phonenumbers.phonenumberutil import ValidationResult

MAX_INPUT = 64
_ALLOWED = re.compile(r"^[0-9+\-.()/\s]+$")
_PUNCT = re.compile(r"[\s\-.()/]")


class Verdict(str, Enum):
    OK = "ok"
    WARNING = "warning"
    INVALID = "invalid"


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
    """Turn operator input into the API's MSISDN form, or say why not."""
    text = raw.strip()
    if not text:
        return Parsed(raw, None, Verdict.INVALID, "empty")
    if len(text) > MAX_INPUT:
        return Parsed(raw, None, Verdict.INVALID, f"longer than {MAX_INPUT} characters")
    if not _ALLOWED.match(text):
        bad = next(ch for ch in text if not _ALLOWED.match(ch))
        return Parsed(raw, None, Verdict.INVALID, f"contains {bad!r}: not a phone number")
    compact = _PUNCT.sub("", text)
    if compact.count("+") > 1 or ("+" in compact and not compact.startswith("+")):
        return Parsed(raw, None, Verdict.INVALID, "'+' only belongs at the start")
    if not compact.lstrip("+"):
        return Parsed(raw, None, Verdict.INVALID, "no digits")

    notes: list[str] = []
    number: PhoneNumber | None = None
    typed: str | None = None  # the digits of an international form, as typed
    if compact.startswith("+"):
        number, why = _try(compact, None)
        typed = compact[1:]
        notes.append("removed '+'")
    elif compact.startswith("00"):
        number, why = _try("+" + compact[2:], None)
        typed = compact[2:]
        notes.append("removed the international prefix 00")
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
        region = phonenumbers.region_code_for_country_code(number.country_code)
        notes.append(
            f"possible but not a valid number in the {region} numbering plan; sent as typed"
            if region != "ZZ"
            else "possible but not valid in any known numbering plan; sent as typed"
        )
        return Parsed(raw, msisdn, Verdict.WARNING, "; ".join(notes))
    if typed is not None and msisdn != typed:
        notes.append("removed the national prefix after the country code")
    return Parsed(raw, msisdn, Verdict.OK, "; ".join(notes))
