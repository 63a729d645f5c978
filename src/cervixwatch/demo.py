"""`make demo` until the web app lands: assess example patients and print what a clinician sees.

The examples are the clinical scenario folders (synthetic patients, one per guideline
vignette), each assessed on the date its scenario is set.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from cervixwatch.clinical.assessment import assess
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.views.text_view import render_text

SCENARIOS = Path(__file__).resolve().parents[2] / "tests" / "scenarios" / "vignettes"
SHOWN = ("V01", "V02", "V06", "V11", "V13", "V21", "V23", "V25")


def main() -> None:
    console = Console(highlight=False)
    profiles = list(bundled_profiles().values())
    cases = [p for p in sorted(SCENARIOS.iterdir()) if p.name[:3] in SHOWN]
    if not cases:
        console.print(f"No example patients found under {SCENARIOS}")
        raise SystemExit(1)
    for case in cases:
        expected = json.loads((case / "expected.json").read_text())
        as_of = dt.date.fromisoformat(expected["as_of"])
        records = read_bundle((case / "bundle.json").read_bytes(), as_of)
        console.print(Rule(f"{expected['vignette']}: {expected['title']}"))
        render_text(assess(records, as_of, profiles), records, profiles, console)
    first = cases[0]
    first_as_of = json.loads((first / "expected.json").read_text())["as_of"]
    console.print(
        f"\nAssessed {len(cases)} example patients. Try:\n"
        f"  uv run cervixwatch assess {first / 'bundle.json'} --as-of {first_as_of} --format json\n"
        "  uv run cervixwatch rules"
    )


if __name__ == "__main__":
    main()
