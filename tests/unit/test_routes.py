"""The routes' requests as built, and the key rule, without a server (mobitui.core.routes)."""

from __future__ import annotations

from mobitui.core.config import Route


def test_only_the_gateway_routes_need_the_key():
    assert [r for r in Route if r.needs_key] == [Route.MT_STOP, Route.DOI]


def test_no_module_decides_a_route_by_comparing_its_name():
    """Routes are compared as the ``Route`` enum (``is``, ``needs_key``), never with their
    names written out: a renamed or added route would otherwise slip past the comparison."""
    import re
    from pathlib import Path

    import mobitui

    names = "|".join(re.escape(r.value) for r in Route)
    compares = re.compile(rf"""[!=]=\s*["']({names})["']|["']({names})["']\s*[!=]=""")
    root = Path(mobitui.__file__).parent
    found = [f"{p.relative_to(root)}:{n}: {line.strip()}"
             for p in sorted(root.rglob("*.py")) if "simulator" not in p.parts
             for n, line in enumerate(p.read_text().splitlines(), 1) if compares.search(line)]
    assert found == []
