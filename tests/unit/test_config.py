"""Configuration loading: where it is found and what every error says."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobitui.core import config
from mobitui.core.config import ConfigError, ConfigMissing, Route

GOOD = config.EXAMPLE


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "mobitui.toml"
    p.write_text(text)
    return p


def test_the_example_config_loads(tmp_path):
    cfg = config.load(write(tmp_path, GOOD))
    c = cfg.campaign("Kenya Tips")
    assert c.campaign_id == "c71e2c2ee68b410a82d6c5f910c2d428"
    assert c.unsubscribe_via is Route.SUBSCRIPTION_API
    assert c.shortcode == "20123" and c.frequency == 7
    assert cfg.campaign("C71E2C2EE68B410A82D6C5F910C2D428") is c
    assert cfg.campaign("kenya tips") is c


def test_unknown_campaign_lists_the_known_ones(tmp_path):
    cfg = config.load(write(tmp_path, GOOD))
    with pytest.raises(KeyError, match="Kenya Tips"):
        cfg.campaign("Nope")


def test_lookup_order_flag_then_env_then_platform_dir(tmp_path, monkeypatch):
    env_file = write(tmp_path, GOOD)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("MOBITUI_CONFIG", raising=False)
    assert config.resolve_path(None) == (tmp_path / "xdg" / "mobitui" / "config.toml", False)
    monkeypatch.setenv("MOBITUI_CONFIG", str(env_file))
    assert config.resolve_path(None) == (env_file, True)
    assert config.resolve_path("/elsewhere.toml") == (Path("/elsewhere.toml"), True)


def test_missing_default_config_says_how_to_create_one(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("MOBITUI_CONFIG", raising=False)
    with pytest.raises(ConfigMissing) as exc:
        config.load()
    assert "--demo" in str(exc.value) and "config-example" in str(exc.value)


def errors_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as exc:
        config.load(write(tmp_path, text))
    msg = str(exc.value)
    assert str(tmp_path / "mobitui.toml") in msg  # every error names the file
    return msg


def test_mt_stop_campaign_without_shortcode_is_a_config_error(tmp_path):
    text = GOOD.replace('unsubscribe_via = "subscription-api"', 'unsubscribe_via = "mt-stop"').replace(
        'shortcode = "20123"\n', ""
    )
    msg = errors_of(tmp_path, text)
    assert "campaign #1 'Kenya Tips'" in msg
    assert "'mt-stop' needs shortcode" in msg


def test_doi_campaign_needs_frequency(tmp_path):
    text = GOOD.replace('unsubscribe_via = "subscription-api"', 'unsubscribe_via = "doi"').replace(
        "frequency = 7 ", "# "
    )
    assert "'doi' needs frequency" in errors_of(tmp_path, text)


def test_bad_values_name_campaign_key_and_expectation(tmp_path):
    text = (
        GOOD.replace('campaign_id = "c71e2c2ee68b410a82d6c5f910c2d428"', 'campaign_id = "xyz"')
        .replace('country = "KE"', 'country = "Kenya"')
        .replace('"subscription-api"          #', '"sms"  #')
    )
    msg = errors_of(tmp_path, text)
    assert "campaign #1 'Kenya Tips', key campaign_id: expected 32 hexadecimal characters" in msg
    assert "key country: expected an ISO 3166 country code" in msg
    assert "key unsubscribe_via: expected one of 'subscription-api', 'mt-stop' or 'doi'" in msg


def test_unknown_and_missing_keys(tmp_path):
    msg = errors_of(
        tmp_path,
        GOOD.replace("[account]\n", "[account]\naccount_idd = 1\n").replace(
            'account_id = "43e36f54eef111e270639871000000f1"\n', ""
        ),
    )
    assert "key account.account_idd: unknown key (misspelt?)" in msg
    assert "key account.account_id: required but missing" in msg


def test_not_toml(tmp_path):
    assert "not valid TOML" in errors_of(tmp_path, "[account\n")


def test_no_campaigns_and_duplicate_names(tmp_path):
    head = GOOD.split("[[campaigns]]")[0]
    assert "campaigns: required but missing" in errors_of(tmp_path, head)
    camp = "[[campaigns]]" + GOOD.split("[[campaigns]]")[1]
    dup = head + camp + camp.replace("c71e2c2ee68b410a82d6c5f910c2d428", "d71e2c2ee68b410a82d6c5f910c2d428")
    assert "two campaigns are named 'Kenya Tips'" in errors_of(tmp_path, dup)


def test_ca_bundle_must_exist(tmp_path):
    text = GOOD.replace('# ca_bundle = "/etc/ssl/certs/corporate-ca.pem"', 'ca_bundle = "/nonexistent/ca.pem"')
    assert "key network.ca_bundle: expected an existing CA bundle file" in errors_of(tmp_path, text)


@pytest.mark.parametrize("key", ["subscription_api", "gateway", "doi"])
def test_credentials_in_an_endpoint_url_are_refused_and_never_repeated(tmp_path, key):
    url = "https://opsuser:Hunter2-pw%40x@gateway.mobivate.com"
    text = GOOD.replace("[endpoints]\n", f'[endpoints]\n{key} = "{url}"\n', 1)
    if key != "doi":  # replace the example's own line for that key
        text = "\n".join(
            line for line in text.split("\n") if not (line.startswith(f"{key} = ") and "opsuser" not in line)
        )
    with pytest.raises(ConfigError) as caught:
        config.load(write(tmp_path, text))
    shown = str(caught.value)
    assert f"key endpoints.{key}: credentials in an endpoint URL" in shown
    assert "mobitui auth set" in shown and "network.proxy" in shown
    assert "Hunter2" not in shown and "opsuser" not in shown and "%40x" not in shown


def test_a_proxy_may_carry_its_own_credentials(tmp_path):
    text = GOOD.replace("[network]\n", '[network]\nproxy = "http://ops:pw@proxy.internal:3128"\n', 1)
    assert config.load(write(tmp_path, text)).network.proxy == "http://ops:pw@proxy.internal:3128"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/?PASSWORD=FAKEKEY-abcdef123456",
        "https://gateway.example/base#frag",
        "https://gateway.example/?",
    ],
)
def test_an_endpoint_with_a_query_or_fragment_is_refused_without_repeating_it(url):
    from mobitui.simulator.demo import demo_toml

    text = demo_toml("http://127.0.0.1:9").replace('gateway = "http://127.0.0.1:9"', f'gateway = "{url}"')
    assert f'gateway = "{url}"' in text
    with pytest.raises(ConfigError) as caught:
        config.parse(text)
    assert "no query string or fragment" in str(caught.value)
    assert "FAKEKEY" not in str(caught.value)


def test_two_gateway_campaigns_the_gateway_cannot_tell_apart_are_refused():
    """A second campaign_id with the same shortcode, keyword and provider let one number be
    stopped once per campaign: two STOP SMS to one subscriber (seen at the simulator's count)."""
    from mobitui.simulator.demo import demo_toml

    text = demo_toml("http://127.0.0.1:9")
    start = text.index("[[campaigns]]", text.index('name = "Kenya Jokes SMS"') - 40)
    end = text.find("[[campaigns]]", start + 1)
    jokes = text[start:] if end == -1 else text[start:end]
    twin = jokes.replace('name = "Kenya Jokes SMS"', 'name = "Kenya Jokes Twin"').replace(
        "de000000000000000000000000c0a002", "de000000000000000000000000c0a0ff"
    )
    assert twin != jokes
    with pytest.raises(ConfigError) as caught:
        config.parse(text + "\n" + twin)
    assert "'Kenya Jokes SMS' and 'Kenya Jokes Twin'" in str(caught.value)
    assert "a stop for one is a stop for both" in str(caught.value)
