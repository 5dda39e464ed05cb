"""The simulator's tables and parsers, without a server: sample states, the hash's spread,
the magic numbers, the signature, the demo config, lenient bodies, option checks.
(The simulator over real HTTP: tests/functional/test_simulator.py.)"""

from __future__ import annotations

from collections import Counter

import pytest

from mobitui.simulator import FAULTS, SAMPLES, SUBSCRIPTION_STATES, SimOptions, initial_state
from mobitui.simulator.demo import (
    DEMO_ACCOUNT_ID,
    DEMO_JOKES_ID,
    DEMO_OPT_IN_ID,
    DEMO_TIPS_ID,
    demo_config,
)
from mobitui.simulator.lenient import parse_object
from mobitui.simulator.validation import expected_signature
from support.api import MAGIC_NUMBERS, SAMPLE_NUMBERS, STATES


def test_samples_cover_the_thirteen_states_in_order() -> None:
    from mobitui.core import client

    assert SUBSCRIPTION_STATES == STATES and client.STATES == STATES
    assert [(m, s) for m, s, _ in SAMPLES] == [(m, s) for s, m in SAMPLE_NUMBERS.items()]
    assert [initial_state("any", m) for m in SAMPLE_NUMBERS.values()] == list(STATES)


def test_other_numbers_get_a_stable_spread_of_states() -> None:
    numbers = [f"2547{i:08d}" for i in range(3000)]
    first = [initial_state(DEMO_TIPS_ID, n) for n in numbers]
    assert first == [initial_state(DEMO_TIPS_ID, n) for n in numbers]
    counts = Counter(first)
    assert 0.55 < counts["active"] / len(numbers) < 0.65
    assert set(counts) == set(SUBSCRIPTION_STATES)
    # The campaign takes part in the hash.
    assert first != [initial_state(DEMO_JOKES_ID, n) for n in numbers]


def test_magic_numbers_are_the_twenty_documented_ones() -> None:
    assert {m: name for m, (name, _) in FAULTS.items()} == MAGIC_NUMBERS


def test_signature_reproduces_the_docs_worked_example() -> None:
    assert (
        expected_signature("43e36f54eef111e270639871000000f1", "c71e2c2ee68b410a82d6c5f910c2d428", "254700000000")
        == "1af289e14aa593c843da7cd869a8e2f7"
    )


def test_demo_config_has_one_campaign_per_route() -> None:
    config = demo_config("http://127.0.0.1:9")
    assert config.account.account_id == DEMO_ACCOUNT_ID
    assert config.endpoints.subscription_api == "http://127.0.0.1:9/subscriptions/v1"
    assert config.endpoints.gateway == "http://127.0.0.1:9"
    routes = {c.name: (c.unsubscribe_via.value, c.campaign_id, c.shortcode, c.keyword) for c in config.campaigns}
    assert routes == {
        "Kenya Tips": ("subscription-api", DEMO_TIPS_ID, "20123", "mv-100620006"),
        "Kenya Jokes SMS": ("mt-stop", DEMO_JOKES_ID, "20456", "mv-100620007"),
        "Kenya Web Opt-In": ("doi", DEMO_OPT_IN_ID, "20789", "mv-100620008"),
    }
    assert config.campaign("Kenya Web Opt-In").frequency == 7
    assert config.campaign("Kenya Jokes SMS").stop_message == "YOU HAVE UNSUBSCRIBED"


def test_lenient_bodies_as_the_docs_write_them() -> None:
    assert parse_object(b'{\n    "msisdn":"254700000101"\n    "signature":"abc"\n}') == {
        "msisdn": "254700000101",
        "signature": "abc",
    }
    assert parse_object(b"{'msisdn': 254700000101, 'x': True, 'y': Null,}") == {
        "msisdn": 254700000101,
        "x": True,
        "y": None,
    }
    assert parse_object(b"msisdn=254700000101&signature=abc") == {
        "msisdn": "254700000101",
        "signature": "abc",
    }
    assert parse_object(b"not json at all") is None
    assert parse_object(b"[1, 2]") is None


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        SimOptions(error_rate=1.5)
    with pytest.raises(ValueError, match="must not exceed 1"):
        SimOptions(error_rate=0.6, hang_rate=0.6)
    with pytest.raises(ValueError, match="rate_limit"):
        SimOptions(rate_limit=0)
