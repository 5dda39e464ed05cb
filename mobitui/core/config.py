"""Configuration: a TOML file validated by pydantic.

Where the file is found: ``--config PATH``, else ``$MOBITUI_CONFIG``, else
``config.toml`` in the platformdirs user config dir for ``mobitui``.

Every validation error is turned into one :class:`ConfigError` whose lines name
the file, the campaign and the key, and say what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from mobitui.core import paths

ENV_CONFIG = "MOBITUI_CONFIG"

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""

    def __init__(self, path: Path | None, problems: list[str]):
        self.path = path
        self.problems = problems
        where = str(path) if path else "configuration"
        body = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{where}: invalid configuration\n{body}")


class ConfigMissing(ConfigError):
    """No configuration file exists where one was looked for."""

    path: Path  # always the place looked in

    def __init__(self, path: Path, explicit: bool):
        self.explicit = explicit
        how = (
            "the file given does not exist"
            if explicit
            else f"no configuration yet; create it with `{self.create_command(path)}` or try `mobitui --demo`"
        )
        super().__init__(path, [how])

    @staticmethod
    def create_command(path: Path) -> str:
        """A shell command that writes the example config to ``path``, creating its
        directory first (on a fresh machine it does not exist yet)."""
        import shlex

        return f"mkdir -p {shlex.quote(str(path.parent))} && mobitui config-example > {shlex.quote(str(path))}"


class Route(str, Enum):
    SUBSCRIPTION_API = "subscription-api"
    MT_STOP = "mt-stop"
    DOI = "doi"

    @property
    def label(self) -> str:
        return {
            Route.SUBSCRIPTION_API: "Subscription API",
            Route.MT_STOP: "MT stop notification",
            Route.DOI: "Web Opt-In DOI stop",
        }[self]

    @property
    def needs_key(self) -> bool:
        """Whether unsubscribing on this route needs the API key: the gateway routes
        (``mt-stop``, ``doi``) carry it in the URL; the Subscription API needs none
        (its requests are signed). The one place this rule is written."""
        return self is not Route.SUBSCRIPTION_API

    @property
    def resent_on_resume(self) -> bool:
        """Whether a resume sends again a stop of unknown outcome whose number status
        still shows subscribed. Only on the Subscription API, whose status is the stop's
        own outcome and which sends no SMS; a gateway may apply a stop later than any
        wait, and a second STOP SMS cannot be taken back (README "A number is stopped
        once"). The one place this rule is written."""
        return self is Route.SUBSCRIPTION_API


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Account(_Strict):
    account_id: str = Field(description="32 hex characters")

    @field_validator("account_id")
    @classmethod
    def _hex(cls, v: str) -> str:
        if not _HEX32.match(v):
            raise ValueError("expected 32 hexadecimal characters")
        return v.lower()


def _has_userinfo(v: str) -> bool:
    """True when the URL's authority carries ``user[:password]@`` (RFC 3986 §3.2.1)."""
    authority = re.split(r"[/?#]", v.split("://", 1)[-1], maxsplit=1)[0]
    return "@" in authority


def _check_url(v: str) -> str:
    v = v.strip()
    if not re.match(r"^https?://[^/\s]+", v):
        raise ValueError("expected an http:// or https:// URL")
    return v.rstrip("/")


def _check_base_url(v: str) -> str:
    """An endpoint: http(s), no credentials. Credentials in the URL would not be sent
    (the client never sends userinfo) and would be stored with every recorded request,
    so they are refused; the message never repeats them."""
    v = _check_url(v)
    if _has_userinfo(v):
        raise ValueError(
            "credentials in an endpoint URL (user:password@) are refused: they would not be sent "
            "and would be stored in clear with every request. Remove them: the Subscription API "
            "needs none (requests are signed with account_id), the gateway's API key is set with "
            "`mobitui auth set` or $MOBITUI_API_KEY, and a proxy goes in network.proxy"
        )
    from urllib.parse import urlsplit

    parts = urlsplit(v)
    if parts.query or parts.fragment or "?" in v or "#" in v:
        # The client appends each route's path to the base URL: a query or fragment
        # would end up before it (…/?x=1/srs/api/sendsms), and be stored with every request.
        raise ValueError(
            "an endpoint URL is a base (scheme, host, port and path) with no query string or "
            "fragment: remove everything from '?' or '#'; the API key is set with `mobitui auth set` "
            "or $MOBITUI_API_KEY"
        )
    return v


class Endpoints(_Strict):
    subscription_api: str = "https://subscription-api.mobivate.com/subscriptions/v1"
    gateway: str = "https://gateway.mobivate.com"
    doi: str | None = Field(default=None, description="host of /api/doi; defaults to the gateway")

    _base = field_validator("subscription_api", "gateway")(_check_base_url)

    @field_validator("doi")
    @classmethod
    def _doi(cls, v: str | None) -> str | None:
        return None if v is None else _check_base_url(v)

    @property
    def doi_host(self) -> str:
        return self.doi or self.gateway


class Network(_Strict):
    connect_timeout: float = Field(default=5.0, gt=0, le=120)
    read_timeout: float = Field(default=15.0, gt=0, le=600)
    status_attempts: int = Field(default=3, ge=1, le=10)
    retry_max_wait: float = Field(default=8.0, ge=0, le=120)
    ca_bundle: Path | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    proxy: str | None = Field(
        default=None, description="http://[user:password@]host:port; proxy variables are not read"
    )

    @property
    def longest_wait(self) -> float:
        """Seconds: the longest one request can be in the client's hands (connect, write and
        read timeouts, plus a second). An attempt older than this is over on our side."""
        return self.connect_timeout + self.read_timeout * 2 + 1

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, v: str | None) -> str | None:
        # A proxy's own user:password is allowed: it is sent as Proxy-Authorization.
        return None if v is None else _check_url(v)

    @property
    def status_bound_seconds(self) -> float:
        """The longest a status check waits for a server that is reachable but does
        not answer, in seconds: every attempt's connect and read timeouts plus the
        longest wait between attempts (the status retry policy, README "Retries")."""
        attempts = self.status_attempts
        return attempts * (self.connect_timeout + self.read_timeout) + (attempts - 1) * self.retry_max_wait

    @field_validator("ca_bundle")
    @classmethod
    def _ca(cls, v: Path | None) -> Path | None:
        if v is None:
            return None
        v = v.expanduser()
        if not v.is_file():
            raise ValueError(f"expected an existing CA bundle file, {v} is not one")
        return v


# The id of every key binding that ``[ui.keys]`` may remap (the console's
# ``Binding(id=...)``; a test holds the console's bindings to this list).
KEY_IDS = frozenset(
    {
        "bulk",
        "bulk_check",
        "bulk_confirm_cancel",
        "bulk_copy",
        "bulk_escape",
        "bulk_export",
        "bulk_filter",
        "bulk_resume",
        "bulk_unsubscribe",
        "confirm_cancel",
        "confirm_no",
        "confirm_yes",
        "detail_close",
        "detail_copy",
        "detail_save",
        "everywhere",
        "export_cancel",
        "filter",
        "focus_log",
        "focus_lookup",
        "help",
        "help_close",
        "help_question",
        "log_shorter",
        "log_taller",
        "problem_demo",
        "problem_quit",
        "quit",
        "recall_newer",
        "recall_older",
        "refresh",
        "toggle_log",
        "unsubscribe",
    }
)


class UI(_Strict):
    theme: str = "textual-dark"
    refresh_interval: float = Field(default=10.0, ge=0, le=3600)
    read_only: bool = False
    log_limit: int = Field(default=500, ge=10, le=100_000)
    keys: dict[str, str] = Field(default_factory=dict)

    @field_validator("keys")
    @classmethod
    def _known_ids(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - KEY_IDS)
        if unknown:
            raise ValueError(
                f"unknown key id(s) {', '.join(map(repr, unknown))}; the ids are those of the README's "
                f"key table: {', '.join(sorted(KEY_IDS))}"
            )
        empty = sorted(k for k, keys in v.items() if not keys.strip())
        if empty:
            raise ValueError(f"no key given for {', '.join(map(repr, empty))}")
        return v


class Bulk(_Strict):
    concurrency: int = Field(default=10, ge=1, le=200)


class Logging(_Strict):
    """``[logging]``: ``debug = true`` writes the debug log (as ``--debug`` does;
    README "Debug log")."""

    debug: bool = False


class Campaign(_Strict):
    name: str = Field(min_length=1)
    campaign_id: str
    unsubscribe_via: Route = Route.SUBSCRIPTION_API
    country: str | None = Field(default=None, description="ISO 3166 alpha-2")
    shortcode: str | None = None
    keyword: str | None = None
    provider: str | None = None
    frequency: int | None = Field(default=None, ge=1, le=365)
    stop_message: str = "YOU HAVE UNSUBSCRIBED"
    campaign_ref: str | None = Field(default=None, description="DOI `campaign` parameter; defaults to name")

    @field_validator("name", "keyword", "provider", "stop_message", "campaign_ref")
    @classmethod
    def _printable(cls, v: str | None) -> str | None:
        # A control or format character (a bidi override such as U+202E, an escape)
        # reorders or breaks every line the name is drawn on, and is never meant.
        if v is None:
            return None
        import unicodedata

        bad = sorted({ch for ch in v if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")})
        if bad:
            raise ValueError(
                "contains invisible control or formatting characters "
                f"({', '.join(f'U+{ord(ch):04X}' for ch in bad)}); remove them"
            )
        return v

    @field_validator("campaign_id")
    @classmethod
    def _cid(cls, v: str) -> str:
        if not _HEX32.match(v):
            raise ValueError("expected 32 hexadecimal characters")
        return v.lower()

    @field_validator("shortcode", "frequency", mode="before")
    @classmethod
    def _numbers_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if v is None:
            return None
        import phonenumbers

        v = v.strip().upper()
        if v not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"expected an ISO 3166 country code such as KE or GB, got {v!r}")
        return v

    @model_validator(mode="after")
    def _route_needs(self) -> Campaign:
        need: tuple[str, ...] = ()
        if self.unsubscribe_via is Route.MT_STOP:
            need = ("shortcode", "keyword", "provider")
        elif self.unsubscribe_via is Route.DOI:
            need = ("shortcode", "keyword", "frequency")
        missing = [k for k in need if not getattr(self, k)]
        if missing:
            raise ValueError(f"unsubscribe_via = {self.unsubscribe_via.value!r} needs " + ", ".join(missing))
        return self

    @property
    def doi_campaign(self) -> str:
        return self.campaign_ref or self.name


class Config(_Strict):
    account: Account
    endpoints: Endpoints = Field(default_factory=Endpoints)
    network: Network = Field(default_factory=Network)
    ui: UI = Field(default_factory=UI)
    bulk: Bulk = Field(default_factory=Bulk)
    logging: Logging = Field(default_factory=Logging)
    states: dict[str, str] = Field(default_factory=dict, description="overrides of the state descriptions")
    campaigns: list[Campaign] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Config:
        seen_names: set[str] = set()
        seen_ids: set[str] = set()
        for c in self.campaigns:
            if c.name.casefold() in seen_names:
                raise ValueError(f"two campaigns are named {c.name!r}")
            if c.campaign_id in seen_ids:
                raise ValueError(f"two campaigns have campaign_id {c.campaign_id}")
            seen_names.add(c.name.casefold())
            seen_ids.add(c.campaign_id)
        # A gateway stop (mt-stop, doi) carries no campaign_id: the gateway knows the
        # subscription by shortcode, keyword and provider. Two campaigns that share
        # those would each be allowed one stop of a number, and both would text the
        # same subscriber (and the second would report a stop that did not apply to it).
        by_gateway: dict[tuple[str, str, str], str] = {}
        for c in self.campaigns:
            if c.unsubscribe_via is Route.SUBSCRIPTION_API:
                continue
            key = (
                (c.shortcode or "").strip(),
                (c.keyword or "").strip().casefold(),
                (c.provider or "").strip().casefold(),
            )
            if key in by_gateway:
                raise ValueError(
                    f"campaigns {by_gateway[key]!r} and {c.name!r} unsubscribe through the gateway with the "
                    "same shortcode, keyword and provider: the gateway cannot tell them apart, so a stop "
                    "for one is a stop for both. Keep one of them"
                )
            by_gateway[key] = c.name
        return self

    def campaign(self, name_or_id: str) -> Campaign:
        """The campaign whose name (case-insensitive) or campaign_id matches."""
        key = name_or_id.strip()
        for c in self.campaigns:
            if c.campaign_id == key.lower() or c.name.casefold() == key.casefold():
                return c
        known = ", ".join(repr(c.name) for c in self.campaigns)
        raise KeyError(f"no campaign named or with id {key!r}; configured: {known}")


def default_path() -> Path:
    return paths.config_dir() / "config.toml"


def resolve_path(explicit: str | os.PathLike[str] | None) -> tuple[Path, bool]:
    """Where the config is looked for, and whether the user named it."""
    if explicit:
        return Path(explicit).expanduser(), True
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser(), True
    return default_path(), False


def _describe_location(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    parts: list[str] = []
    i = 0
    while i < len(loc):
        item = loc[i]
        if item == "campaigns" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            idx = loc[i + 1]
            name = None
            campaigns = raw.get("campaigns")
            if isinstance(campaigns, list) and idx < len(campaigns):
                entry = campaigns[idx]
                if isinstance(entry, dict):
                    name = entry.get("name")
            label = f"campaign #{idx + 1}"
            if isinstance(name, str):
                label += f" {name!r}"
            parts.append(label)
            i += 2
            continue
        parts.append(str(item))
        i += 1
    if not parts:
        return "top level"
    head, *rest = parts
    if head.startswith("campaign #"):
        return head + (f", key {'.'.join(rest)}" if rest else "")
    return "key " + ".".join(parts)


def _problem(err: ErrorDetails, raw: dict[str, Any]) -> str:
    where = _describe_location(tuple(err.get("loc", ())), raw)
    msg = err.get("msg", "invalid")
    kind = err.get("type", "")
    if kind == "missing":
        msg = "required but missing"
    elif kind == "extra_forbidden":
        msg = "unknown key (misspelt?)"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    elif kind == "enum":
        allowed = (err.get("ctx") or {}).get("expected", "")
        msg = f"expected one of {allowed}"
    return f"{where}: {msg}"


def parse(text: str, path: Path | None = None) -> Config:
    """Validate TOML text; raises ConfigError naming every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(e, raw) for e in exc.errors()]
        raise ConfigError(path, problems) from None


def load(explicit: str | os.PathLike[str] | None = None) -> Config:
    path, named = resolve_path(explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigMissing(path, named) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot be read: {exc}"]) from None
    return parse(text, path)


EXAMPLE = """\
# mobitui configuration
[account]
account_id = "43e36f54eef111e270639871000000f1"

[endpoints]
subscription_api = "https://subscription-api.mobivate.com/subscriptions/v1"
gateway = "https://gateway.mobivate.com"      # /srs/api/sendsms and /api/doi
# doi = "https://gateway.mobivate.com"        # if /api/doi lives elsewhere

[network]
connect_timeout = 5.0      # seconds
read_timeout = 15.0        # seconds
status_attempts = 3        # status is retried on transient failures; unsubscribe never blindly
# ca_bundle = "/etc/ssl/certs/corporate-ca.pem"
# proxy = "http://proxy.internal:3128"      # HTTP(S)_PROXY variables are not read

[ui]
refresh_interval = 10      # seconds between live status re-checks; 0 turns it off
read_only = false          # true removes the unsubscribe action
# theme = "textual-dark"
# [ui.keys]                # remap a key by its id (the README's key table)
# everywhere = "f5"

[bulk]
concurrency = 10

[logging]
debug = false              # true writes a rotating, redacted debug log (as --debug does)

# [states]
# onhold = "billing paused by the operator"   # override our descriptions

[[campaigns]]
name = "Kenya Tips"
campaign_id = "c71e2c2ee68b410a82d6c5f910c2d428"
unsubscribe_via = "subscription-api"          # or "mt-stop" or "doi"
country = "KE"                                # for national-format numbers
shortcode = "20123"
keyword = "mv-100620006"
provider = "Safaricom"
frequency = 7                                 # doi
stop_message = "YOU HAVE UNSUBSCRIBED"        # mt-stop
"""
