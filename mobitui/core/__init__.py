"""The core: config, MSISDN parsing, API client, journal, bulk engine.

Nothing under this package imports Textual or Rich; the console and the CLI are
thin layers over it (import-linter contracts in pyproject.toml, and
tests/test_import_hygiene.py for what is actually loaded).
"""

import sys

# httpx imports its own command-line client (click, Pygments and Rich, about a
# tenth of a second) whenever those are installed, and here they always are
# (uvicorn needs click, Textual needs Rich). We never run httpx's CLI: marking
# its module absent makes httpx take its own fallback (`except ImportError` in
# httpx/__init__.py; httpx is pinned exactly), so the core loads no Rich.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
