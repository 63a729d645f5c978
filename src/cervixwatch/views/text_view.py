"""The assessment as a clinician reads it in a terminal: gestation, history, lengths, each
guideline's recommendations with rule and citation, the scan plan, and what is missing."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cervixwatch.clinical.assessment import Assessment
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.clinical.summary import describe_history, describe_length

_STRENGTH_STYLE = {
    "recommend": "bold green",
    "offer": "bold green",
    "consider": "bold yellow",
    "shared-decision": "bold yellow",
    "not-recommended": "bold red",
}
_PROVENANCE_BADGE = {"verified": "", "unverified": " [UNVERIFIED]", "derived": " [DERIVED]"}


def _fact_text(name: str, value: object) -> str:
    if value is True:
        return name
    if value is False:
        return f"not {name}"
    return f"{name}={value}"


def render_text(
    assessment: Assessment,
    records: PregnancyRecords,
    profiles: Sequence[GuidelineProfile],
    console: Console,
) -> None:
    ga = assessment.gestational_age
    fetuses = records.fetuses
    plurality = (
        "fetus count not recorded (taken as singleton)"
        if fetuses is None
        else ("singleton" if fetuses == 1 else f"{fetuses} fetuses")
    )
    header = Text.assemble(
        ("Patient ", "dim"),
        (assessment.patient_id, "bold"),
        ("  as of ", "dim"),
        assessment.as_of.isoformat(),
        "\n",
        ("Gestational age ", "dim"),
        (str(ga) if ga else "unknown (no EDD)", "bold"),
        ("  EDD ", "dim"),
        records.edd.isoformat() if records.edd else "not recorded",
        "  ",
        plurality,
        "\n",
        ("History ", "dim"),
        describe_history(records, assessment.as_of),
        "\n",
        ("Risk pathway (SBL) ", "dim"),
        assessment.risk.tier or "unknown",
    )
    lengths = [m for m in records.cervical_lengths if m.measured_on <= assessment.as_of]
    length_lines = Text("\n".join(describe_length(m, records.edd) for m in lengths) or "none")
    console.print(
        Panel(
            Group(header, Text("Cervical lengths", style="dim"), length_lines),
            title="CervixWatch assessment",
            expand=False,
        )
    )

    for profile in profiles:
        table = Table(
            title=f"{profile.title} - knowledge {profile.id} {profile.version}",
            show_lines=True,
            expand=True,
            title_justify="left",
        )
        table.add_column("Recommendation", ratio=3)
        table.add_column("Rule and source", ratio=4)
        given = [r for r in assessment.recommendations if r.guideline == profile.id]
        for r in given:
            facts = ", ".join(_fact_text(k, v) for k, v in r.facts.items())
            window = f"\nwindow {r.window[0]} to {r.window[1]}" if r.window else ""
            table.add_row(
                Text.assemble(
                    (r.strength.upper(), _STRENGTH_STYLE[r.strength]),
                    " ",
                    (r.code, "bold"),
                    "\n",
                    r.summary,
                    window,
                ),
                Text.assemble(
                    (" + ".join(r.rules), "bold"),
                    (_PROVENANCE_BADGE[r.provenance], "bold magenta"),
                    "\n",
                    r.citation,
                    "\n",
                    ("because: " + facts, "dim"),
                ),
            )
        if not given:
            table.add_row("No recommendation from this guideline on these data.", "")
        console.print(table)
        for w in assessment.withheld:
            if w.guideline == profile.id:
                console.print(f"  withheld {w.code} ({w.rule}) by {w.withheld_by}: {w.reason}")

    if assessment.scan_plans:
        plan = Table(title="Scan plan (transvaginal cervical length)", title_justify="left")
        for column in ("Guideline", "Rule", "Window", "Next scan", "Planned"):
            plan.add_column(column)
        for p in assessment.scan_plans:
            nxt = (
                "-" if p.next_scan is None else f"{p.next_scan.due} ({p.next_scan.status.upper()})"
            )
            window = f"{p.window_from_ga} to {p.window_to_ga}\n{p.window_from} to {p.window_to}"
            planned = ", ".join(d.isoformat() for d in p.planned) or p.note
            plan.add_row(p.guideline, p.rule, window, nxt, planned)
        console.print(plan)
    if assessment.risk.evidence:
        console.print(Text("Published figures that apply", style="bold"))
        for e in assessment.risk.evidence:
            console.print(f"  {e.figure}: {e.statement} [{e.population}] {e.citation}")
    console.print(Text("Missing data", style="bold"))
    for item in assessment.missing or ("nothing that would change these recommendations",):
        console.print(f"  - {item}")
    for note in records.notes:
        console.print(Text(f"Note: {note}", style="dim"))
