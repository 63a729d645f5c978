"""The assessment as a clinician reads it in a terminal (`cervixwatch assess --format text`).

Gestation, history, the Saving Babies' Lives history tier beside the current findings, the
treatments under way and the lengths; then each guideline's recommendations, each with its
state (in place, declined, overdue, missed), its assumptions (CD-01), why it is urgent (CD-07),
its rules with a short reference numbered to the full citation, and the facts that fired it in
clinical words and units; then the scan plan, the published figures, what is missing and the
full citations, once, numbered. Written to be read at 100 columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cervixwatch.clinical.assessment import Assessment, Recommendation
from cervixwatch.clinical.course import at
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.clinical.risk import RiskSummary
from cervixwatch.clinical.summary import describe_history
from cervixwatch.clinical.surveillance import ScanPlan
from cervixwatch.views.clinical_words import facts_words, length_line

_STRENGTH_STYLE = {
    "recommend": "bold green",
    "offer": "bold green",
    "consider": "bold yellow",
    "shared-decision": "bold yellow",
    "not-recommended": "bold red",
}
_PROVENANCE_BADGE = {"verified": "", "unverified": " [UNVERIFIED]", "derived": " [DERIVED]"}
#: How each state shows beside the code; `due` is the ordinary case and stays plain.
_STATE_BADGE = {
    "due": ("", ""),
    "in-place": ("IN PLACE", "bold cyan"),
    "declined": ("DECLINED", "bold blue"),
    "overdue": ("OVERDUE", "bold red"),
    "missed": ("MISSED", "bold red"),
}
_SCAN_STATUS_STYLE = {"upcoming": "", "due": "bold yellow", "overdue": "bold red"}


class References:
    """The full citations, numbered in the order they are first cited, each printed once at the
    end with the sections cited from it."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._cited: dict[str, list[str]] = {}

    def cite(self, citation: str, detail: str = "") -> int:
        """The number of `citation`, given it on first sight; `detail` ("SMFM40-01:
        Abstract") is listed with it."""
        number = self._numbers.setdefault(citation, len(self._numbers) + 1)
        details = self._cited.setdefault(citation, [])
        if detail and detail not in details:
            details.append(detail)
        return number

    def __len__(self) -> int:
        return len(self._numbers)

    def render(self, console: Console) -> None:
        if not self._numbers:
            return
        console.print(Text("References", style="bold"))
        grid = _hanging()
        for citation, number in self._numbers.items():
            cited = self._cited[citation]
            line = Text(citation)
            if cited:
                line.append(f" Cited: {'; '.join(cited)}.", style="dim")
            grid.add_row(f"[{number}]", line)
        console.print(grid)


def _hanging() -> Table:
    """Two columns, a mark and its text, so wrapped lines stay indented under the text."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column()
    return grid


def short_references(
    profile: GuidelineProfile, rule_ids: Sequence[str], references: References
) -> str:
    """ "SMFM Consult #40, 2016 [1]; ACOG PB 234, 2021 [2]": each work the rules come from, once,
    by its short name (the citation key where the profile gives none)."""
    out: list[str] = []
    for rule_id in rule_ids:
        source = profile.sources.get(rule_id)
        if source is None:
            continue
        full = profile.citations.get(source.citation, source.citation)
        number = references.cite(full, f"{rule_id}: {source.section}")
        item = f"{profile.short_reference(rule_id)} [{number}]"
        if item not in out:
            out.append(item)
    return "; ".join(out)


def _header(assessment: Assessment, records: PregnancyRecords) -> Group:
    ga = assessment.gestational_age
    fetuses = records.fetuses
    plurality = (
        "fetus count not recorded (taken as singleton)"
        if fetuses is None
        else ("singleton" if fetuses == 1 else f"{fetuses} fetuses")
    )
    if records.chorionicity is not None:
        plurality += f", {records.chorionicity}"
    summary = Text.assemble(
        ("Patient ", "dim"),
        (assessment.patient_id, "bold"),
        ("  as of ", "dim"),
        assessment.as_of.isoformat(),
        "\n",
        ("GA ", "dim"),
        (str(ga) if ga else "unknown (no EDD)", "bold"),
        ("  EDD ", "dim"),
        records.edd.isoformat() if records.edd else "not recorded",
        "  ",
        plurality,
        "\n",
        ("History ", "dim"),
        describe_history(records, assessment.as_of),
        "\n",
        ("Risk ", "dim"),
        risk_words(assessment.risk),
    )
    treatments = Text(
        "\n".join(f"  {t.detail}" for t in assessment.current_treatments) or "  none recorded"
    )
    lengths = [m for m in records.cervical_lengths if m.measured_on <= assessment.as_of]
    length_lines = Text(
        "\n".join(f"  {length_line(m, records.edd)}" for m in lengths) or "  none recorded"
    )
    return Group(
        summary,
        Text("Current treatments", style="dim"),
        treatments,
        Text("Cervical lengths", style="dim"),
        length_lines,
    )


def risk_words(risk: RiskSummary) -> str:
    """The history tier, labelled for what it is, beside this pregnancy's findings: never a lone
    "low"."""
    tier = f"{risk.tier_label}: {risk.tier or 'unknown'} ({risk.tier_rule})"
    findings = (
        "; ".join(risk.current_findings)
        or "none recorded (no short cervix, multiple pregnancy or dilation)"
    )
    return f"{tier}. Current findings: {findings}"


def _recommendation_cell(r: Recommendation, records: PregnancyRecords) -> Text:
    badge, badge_style = _STATE_BADGE[r.state]
    if r.state == "in-place":
        # The treatment under way, in the course's words: never the offer's wording or strength.
        cell = Text.assemble((badge, badge_style), " ", (r.code, "bold"))
        cell.append("\n" + (r.state_note or r.summary))
    else:
        cell = Text.assemble((r.strength.upper(), _STRENGTH_STYLE[r.strength]), " ")
        cell.append(r.code, "bold")
        if badge:
            cell.append("  ")
            cell.append(badge, badge_style)
        cell.append("\n" + r.summary)
        if r.window:
            cell.append(
                f"\nWindow {at(r.window[0], records.edd)} to {at(r.window[1], records.edd)}"
            )
        if r.state_note:
            cell.append("\n" + r.state_note, style=badge_style or "italic")
    for assumption in r.assumptions:
        cell.append("\nAssumes: ", "bold yellow")
        cell.append(assumption)
    if r.reason:
        cell.append("\nWhy urgent: ", "bold red")
        cell.append(r.reason)
    return cell


def _source_cell(
    r: Recommendation,
    profile: GuidelineProfile,
    records: PregnancyRecords,
    assessment: Assessment,
    references: References,
) -> Text:
    facts = facts_words(r.facts, records, assessment.as_of)
    return Text.assemble(
        (" + ".join(r.rules), "bold"),
        (_PROVENANCE_BADGE[r.provenance], "bold magenta"),
        "\n",
        short_references(profile, r.rules, references),
        "\n",
        ("because: " + "; ".join(facts), "dim"),
    )


def _profile_table(
    profile: GuidelineProfile,
    assessment: Assessment,
    records: PregnancyRecords,
    references: References,
) -> Table:
    table = Table(
        title=f"{profile.title} - knowledge {profile.id} {profile.version}",
        show_lines=True,
        expand=True,
        title_justify="left",
    )
    table.add_column("Recommendation", ratio=3)
    table.add_column("Rule, source and facts", ratio=2)
    given = [r for r in assessment.recommendations if r.guideline == profile.id]
    for r in given:
        table.add_row(
            _recommendation_cell(r, records),
            _source_cell(r, profile, records, assessment, references),
        )
    if not given:
        table.add_row("No recommendation from this guideline on these data.", "")
    return table


def _scan_plan_table(plans: Sequence[ScanPlan], records: PregnancyRecords) -> Table:
    table = Table(
        title="Scan plan (transvaginal cervical length)", title_justify="left", expand=True
    )
    table.add_column("Rule", ratio=2)
    table.add_column("Window", ratio=4)
    table.add_column("Next scan", ratio=4)
    table.add_column("Planned", ratio=7)
    for p in plans:
        if p.missed:
            nxt = Text("MISSED", style="bold red")
        elif p.next_scan is None:
            nxt = Text("-")
        else:
            scan = p.next_scan
            nxt = Text(at(scan.due, records.edd))
            if scan.latest != scan.due:
                nxt.append(f"\nat the latest {at(scan.latest, records.edd)}")
            nxt.append("\n")
            nxt.append(scan.status.upper(), _SCAN_STATUS_STYLE[scan.status])
        window = f"{p.window_from_ga} to {p.window_to_ga}\n{p.window_from} to {p.window_to}"
        planned = ", ".join(d.isoformat() for d in p.planned)
        if p.note:
            planned = f"{planned}\n{p.note}" if planned else p.note
        table.add_row(f"{p.guideline}\n{p.rule}", window, nxt, planned or "-")
    return table


def render_text(
    assessment: Assessment,
    records: PregnancyRecords,
    profiles: Sequence[GuidelineProfile],
    console: Console,
) -> None:
    """Print one assessment for a clinician on `console`."""
    references = References()
    console.print(Panel(_header(assessment, records), title="CervixWatch assessment"))

    for profile in profiles:
        console.print(_profile_table(profile, assessment, records, references))
        for w in assessment.withheld:
            if w.guideline == profile.id:
                console.print(
                    Text.assemble(
                        ("  withheld ", "dim"),
                        (w.code, "bold"),
                        f" ({w.rule}) by {w.withheld_by}: {w.reason}",
                    )
                )

    if assessment.scan_plans:
        console.print(_scan_plan_table(assessment.scan_plans, records))
    if assessment.risk.evidence:
        console.print(Text("Published figures that apply", style="bold"))
        grid = _hanging()
        for e in assessment.risk.evidence:
            number = references.cite(e.citation)
            grid.add_row(" -", f"{e.figure}: {e.statement} ({e.population}) [{number}]")
        console.print(grid)
    console.print(Text("Missing data", style="bold"))
    grid = _hanging()
    for item in assessment.missing or ("nothing that would change these recommendations",):
        grid.add_row(" -", item)
    console.print(grid)
    references.render(console)
    for note in records.notes:
        console.print(Text(f"Note: {note}", style="dim"))
