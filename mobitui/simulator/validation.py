"""The checks every route makes: MSISDN form, signature, secrets.

Written independently of the client on purpose: if the client got the
signature wrong, a simulator that borrowed its code would agree with it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import TypeGuard

# International format, digits only, no "+", no national leading 0.
_MSISDN = re.compile(r"[1-9][0-9]{7,14}")


def valid_msisdn(msisdn: str | None) -> TypeGuard[str]:
    return msisdn is not None and _MSISDN.fullmatch(msisdn) is not None


def expected_signature(account_id: str, campaign_id: str, msisdn: str) -> str:
    """md5(account_id + campaign_id + msisdn), lowercase hex: the docs' worked example."""
    return hashlib.md5(f"{account_id}{campaign_id}{msisdn}".encode()).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison; None never matches."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
