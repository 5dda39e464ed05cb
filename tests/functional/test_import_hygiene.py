"""What each layer loads, measured in a fresh interpreter.

The import-linter contracts in pyproject.toml check the import statements; these
tests check what actually ends up in ``sys.modules`` (a third-party package that
imports Rich, a lazy import run at import time), the way harlequin's
import-hygiene test does:

* the core loads neither Textual nor Rich;
* the storage modules (journal, job store, exporter, paths, MSISDN and paste
  parsing, result types) load no HTTP stack: no httpx, httpcore or tenacity, and
  none of our transport or client modules;
* the console's modules load no simulator (only the demo starts one, through
  ``mobitui.runtime``, when it runs).

Each group is imported together in one interpreter: if none of the modules is
in ``sys.modules`` after importing all of them, none of them loads it. When one
is, each module of the group is imported alone to name the culprit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mobitui

PACKAGE = Path(mobitui.__file__).resolve().parent

STORAGE = [
    "mobitui.core.journal",
    "mobitui.core.schema",
    "mobitui.core.jobs",
    "mobitui.core.export",
    "mobitui.core.private",
    "mobitui.core.paths",
    "mobitui.core.results",
    "mobitui.core.msisdn",
    "mobitui.core.paste",
]
UI_LIBRARIES = ["textual", "rich"]
HTTP = ["httpx", "httpcore", "tenacity", "mobitui.core.transport", "mobitui.core.client", "mobitui.core.routes"]
SIMULATOR = ["mobitui.simulator"]


def modules_under(package: str) -> list[str]:
    """Every module of ``package`` (a dotted name under mobitui), found on disk
    without importing anything, so a module added later is covered too."""
    root = PACKAGE.joinpath(*package.split(".")[1:])
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue  # running it is not importing it
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def loaded_after(modules: list[str]) -> set[str]:
    """The modules loaded in a fresh interpreter after importing ``modules`` (an
    entry set to None, which blocks an import, is not a loaded module)."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(n for n, m in sys.modules.items() if m is not None)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def offending(loaded: set[str], forbidden: list[str]) -> list[str]:
    return sorted(name for name in loaded if any(name == f or name.startswith(f + ".") for f in forbidden))


def check_group(modules: list[str], forbidden: list[str]) -> None:
    loaded = loaded_after(modules)
    assert set(modules) <= loaded  # the imports did run
    if not offending(loaded, forbidden):
        return
    culprits = {}
    for name in modules:
        found = offending(loaded_after([name]), forbidden)
        if found:
            culprits[name] = found[:5]
    pytest.fail(f"loaded what this layer must not: {culprits or offending(loaded, forbidden)[:10]}")


def test_the_module_lists_find_the_layers():
    core = modules_under("mobitui.core")
    assert {"mobitui.core", "mobitui.core.config", "mobitui.core.journal"} <= set(core)
    assert "mobitui.tui.app" in modules_under("mobitui.tui")
    for name in STORAGE:
        assert name in core, f"{name} was renamed: update STORAGE here and in pyproject.toml"


def test_the_core_loads_no_textual_or_rich():
    check_group(modules_under("mobitui.core"), UI_LIBRARIES)


def test_storage_loads_no_http_stack():
    check_group(STORAGE, HTTP)


def test_the_console_loads_no_simulator():
    check_group(modules_under("mobitui.tui"), SIMULATOR)


def test_a_forbidden_module_is_caught():
    """The check itself can fail: a module that loads Rich is named."""
    with pytest.raises(pytest.fail.Exception, match="rich"):
        check_group(["mobitui.tui.safe"], UI_LIBRARIES)
