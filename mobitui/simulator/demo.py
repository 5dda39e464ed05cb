"""The built-in demo: an obviously fake account with one campaign per unsubscribe route.

Built from TOML through :func:`mobitui.core.config.parse`, so the demo goes
through exactly the validation a user's file does.
"""

from __future__ import annotations

import json

from mobitui.core import config

DEMO_ACCOUNT_ID = "de00000000000000000000000000d3e0"
DEMO_API_KEY = "demo-key-not-a-secret"

DEMO_TIPS_ID = "de000000000000000000000000c0a001"  # subscription-api
DEMO_JOKES_ID = "de000000000000000000000000c0a002"  # mt-stop
DEMO_OPT_IN_ID = "de000000000000000000000000c0a003"  # doi

_TEMPLATE = """\
# mobitui demo: every endpoint is the built-in simulator; nothing here is real.
[account]
account_id = "{account_id}"

[endpoints]
subscription_api = {subscription_api}
gateway = {gateway}

[[campaigns]]
name = "Kenya Tips"
campaign_id = "{tips}"
unsubscribe_via = "subscription-api"
country = "KE"
shortcode = "20123"
keyword = "mv-100620006"
provider = "Safaricom"

[[campaigns]]
name = "Kenya Jokes SMS"
campaign_id = "{jokes}"
unsubscribe_via = "mt-stop"
country = "KE"
shortcode = "20456"
keyword = "mv-100620007"
provider = "Safaricom"
stop_message = "YOU HAVE UNSUBSCRIBED"

[[campaigns]]
name = "Kenya Web Opt-In"
campaign_id = "{opt_in}"
unsubscribe_via = "doi"
country = "KE"
shortcode = "20789"
keyword = "mv-100620008"
provider = "safaricom"
frequency = 7
"""


def demo_toml(base_url: str) -> str:
    """The demo configuration as TOML, endpoints pointing at ``base_url``."""
    base = base_url.rstrip("/")
    return _TEMPLATE.format(
        account_id=DEMO_ACCOUNT_ID,
        # JSON strings are valid TOML basic strings: quoting and escaping for free.
        subscription_api=json.dumps(f"{base}/subscriptions/v1"),
        gateway=json.dumps(base),
        tips=DEMO_TIPS_ID,
        jokes=DEMO_JOKES_ID,
        opt_in=DEMO_OPT_IN_ID,
    )


def demo_config(base_url: str) -> config.Config:
    return config.parse(demo_toml(base_url))
