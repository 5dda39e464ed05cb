"""Facts of the Mobivate API and of the demo simulator, written out for the tests.

Tests compare what the code does with these literals, never with the code's own
tables (a table that is wrong would then agree with itself).
"""

from __future__ import annotations

# The 13 subscription states of the status method, in the order of the API
# reference (/work/shared/reference/mobivate-api.md, "Subscription states").
STATES = (
    "active",
    "inactive",
    "nf",
    "nfi",
    "ping",
    "onhold",
    "blocked",
    "reinvite",
    "doi-onhold",
    "doi-declined",
    "suspended",
    "investigate",
    "unsub",
)

# The simulator's sample numbers: 2547000001NN has the NN-th state above.
SAMPLE_NUMBERS = {state: f"2547000001{i:02d}" for i, state in enumerate(STATES, start=1)}

# The simulator's twenty magic numbers and the fault each one plays (README, simulator --help).
MAGIC_NUMBERS = {
    "254799999001": "hang",
    "254799999002": "slow",
    "254799999003": "reset",
    "254799999004": "reset-mid-body",
    "254799999005": "http-500",
    "254799999006": "http-503-html",
    "254799999007": "http-429",
    "254799999008": "http-502-html",
    "254799999009": "truncated-json",
    "254799999010": "python-literals",
    "254799999011": "empty-body",
    "254799999012": "huge-body",
    "254799999013": "non-utf8",
    "254799999014": "http-511",
    "254799999015": "send-failed-barred",
    "254799999016": "hostile-text",
    "254799999017": "bad-signature",
    "254799999018": "flaky",
    "254799999019": "old-zero",
    "254799999020": "docs-mt-braces",
}
