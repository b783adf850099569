"""Accessibility checks with axe-core, the engine behind most automated WCAG audits.

The axe-core script comes bundled in the axe-playwright-python package (axe.min.js; no npm, no
network at test time). It is injected into the page under test and run there; serious and
critical violations fail the test, minor and moderate ones are listed alongside when it fails.
"""

from functools import cache
from importlib import resources
from typing import Any

import pytest

FAILING_IMPACTS = ("critical", "serious")
TARGETS_SHOWN = 3


@cache
def _axe_script() -> str:
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict]:
    """Run axe-core on the page as it is now; its violations, each with impact and nodes."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_script())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return results["violations"]


def _describe(violation: dict) -> str:
    targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
    shown = ", ".join(targets[:TARGETS_SHOWN])
    more = f" and {len(targets) - TARGETS_SHOWN} more" if len(targets) > TARGETS_SHOWN else ""
    return (
        f"  - {violation['id']} ({violation['impact']}): {violation['help']}\n"
        f"      on {shown}{more}\n"
        f"      {violation['helpUrl']}"
    )


def assert_accessible(page: Any, *, context: str) -> None:
    """Fail when axe-core finds a serious or critical violation on the page.

    `context` names what the page shows (e.g. "front page, phone, Arabic") for the message.
    """
    violations = axe_violations(page)
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    if not failing:
        return
    others = [v for v in violations if v["impact"] not in FAILING_IMPACTS]
    lines = [
        f"axe-core found {len(failing)} serious or critical accessibility violation(s) "
        f"on {context} ({page.url}):",
        *map(_describe, failing),
    ]
    if others:
        lines += [
            "Also found, minor or moderate (not failing on their own):",
            *map(_describe, others),
        ]
    pytest.fail("\n".join(lines), pytrace=False)
