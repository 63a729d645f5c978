"""The population audit's report (`app.audit_report`) on a real `AuditResult`: a few hand-built
rows of three units written as the Parquet `population run` writes, counted by `run_audit`
with the bundled SBL audit, and rendered as HTML, PDF and JSON. The counts the rows were
built to give are asserted as the report shows them."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from markupsafe import escape
from pypdf import PdfReader

from cervixwatch.app.audit_measures import bundled_audit, load_audit
from cervixwatch.app.audit_report import funnel_svg, report_html, report_pdf, write_report
from cervixwatch.app.population import write_parquet
from cervixwatch.app.population_audit import AuditResult, Count, run_audit
from cervixwatch.app.population_rows import COLUMNS
from cervixwatch.knowledge import load_profiles

GENERATED_AT = dt.datetime(2026, 12, 8, 9, 30, tzinfo=dt.UTC)
ALDER, BIRCH, CEDAR = "Alder Maternity", "Birch & Yew Unit", "Cedar Centre"
Q1, Q2 = "2027-02-10", "2027-04-20"  # EDDs in 2027 Q1 and 2027 Q2
#: Transvaginal scans (gestational days) every 4 weeks from 16+0 to 24+0: the serial schedule kept.
KEPT = [112, 140, 168]


def _row(patient: str, unit: str, edd: str | None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row |= {
        "patient_id": patient,
        "profile": "nice",
        "profile_version": "test",
        "as_of": "2026-12-07",
        "edd": edd,
        "ga_days": 200 if edd is not None else None,
        "fetuses": 1,
        "unit": unit,
        "rule_states": {},
        "scan_ga_days": [],
    }
    return row | values


#: What the rows are built to give (SBL audit, profile "nice"):
#: SBL5-TIER 10/11 (one tier unknown; the refused row in nothing);
#: SBL5-HR-SERIAL 4/6: Alder 2/3, Birch 2/2, Cedar 0/1, one excluded (cerclage), two
#: undetermined (no EDD, no tier); SBL5-IR-SINGLE 1/2 (Alder 1/1, Birch 0/1, none at Cedar);
#: SBL5-SHORT-CERVIX-TREATED 1/1 (Birch's declined: excluded); SBL5-CERCLAGE-REMOVAL none.
ROWS = [
    _row(
        "pt-a1",
        ALDER,
        Q1,
        risk_tier="high",
        scan_ga_days=KEPT,
        rule_states={"vaginal-progesterone@NICE-01": "in-place"},
    ),
    _row("pt-a2", ALDER, Q2, risk_tier="high", scan_ga_days=KEPT),
    _row("pt-a3", ALDER, Q1, risk_tier="high", scan_ga_days=[120]),
    _row("pt-a4", ALDER, Q2, risk_tier="intermediate", scan_ga_days=[130]),
    _row("pt-a4", ALDER, Q2, profile="acog", risk_tier="high"),  # another profile: not counted
    _row("pt-b1", BIRCH, Q1, risk_tier="high", scan_ga_days=KEPT),
    _row("pt-b2", BIRCH, Q2, risk_tier="high", scan_ga_days=[112, 126, 150, 168]),
    _row(
        "pt-b3",
        BIRCH,
        Q1,
        risk_tier="intermediate",
        rule_states={"vaginal-progesterone@NICE-01": "declined"},
    ),
    _row("pt-b4", BIRCH, Q2),
    _row("pt-c1", CEDAR, Q1, risk_tier="high"),
    _row("pt-c2", CEDAR, Q2, risk_tier="high", scan_ga_days=[112], cerclage_placed_ga_days=150),
    _row("pt-c3", CEDAR, None, risk_tier="high"),
    _row("pt-c4", CEDAR, None, fetuses=None, error="not a FHIR Bundle"),
]


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    directory = tmp_path_factory.mktemp("audit")
    ndjson = directory / "rows.ndjson"
    ndjson.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in ROWS))
    parquet = directory / "assessments.parquet"
    connection = duckdb.connect()
    try:
        write_parquet(connection, [str(ndjson)], parquet)
    finally:
        connection.close()
    return run_audit(parquet, load_audit(bundled_audit("sbl"), load_profiles()))


@pytest.fixture(scope="module")
def written(result: AuditResult, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The report written once, PDF included: rendering the PDF is the slow part."""
    return write_report(
        result, tmp_path_factory.mktemp("report") / "new", generated_at=GENERATED_AT
    )


@pytest.fixture(scope="module")
def html(written: list[Path]) -> str:
    return written[0].read_text(encoding="utf-8")


def _measure(result: AuditResult, measure_id: str) -> Any:
    return next(m for m in result.measures if m.measure.id == measure_id)


def _summary_row(html: str, measure_id: str) -> str:
    start = html.index(f'href="#measure-{measure_id}"')
    return html[start : html.index("</tr>", start)]


def test_the_rows_were_counted_as_built(result: AuditResult) -> None:
    # The report's assertions below read these counts; this pins the data they come from.
    serial = _measure(result, "SBL5-HR-SERIAL")
    # Undetermined: Cedar's woman without an EDD, and Birch's without a tier.
    assert serial.network == Count(eligible=7, excluded=1, met=4, undetermined=2)
    assert {u: (c.met, c.denominator) for u, c in serial.by_unit.items()} == {
        ALDER: (2, 3),
        BIRCH: (2, 2),
        CEDAR: (0, 1),
    }
    assert (result.rows, result.refused, dict(result.refused_by_unit)) == (12, 1, {CEDAR: 1})
    assert result.quarter_labels == ("2027 Q1", "2027 Q2", "EDD not recorded")


def test_the_report_names_every_measure_and_every_gap(result: AuditResult, html: str) -> None:
    for measure in result.audit.measures:
        assert measure.id in html
        assert _escaped(measure.title) in html
    assert result.audit.not_measurable
    for gap in result.audit.not_measurable:
        assert gap.id in html
        assert _escaped(gap.reason) in html


def _escaped(text: str) -> str:
    return str(escape(text))  # as the template's autoescape writes it


def test_the_summary_gives_each_measure_its_counted_rate(html: str) -> None:
    serial = _summary_row(html, "SBL5-HR-SERIAL")
    assert re.search(r">4/6<.*>66\.7%<", serial, re.DOTALL)
    assert re.search(r">10/11<.*>90\.9%<", _summary_row(html, "SBL5-TIER"), re.DOTALL)
    assert re.search(r">1/2<.*>50\.0%<", _summary_row(html, "SBL5-IR-SINGLE"), re.DOTALL)
    # No denominator: a dash, not 0%.
    removal = _summary_row(html, "SBL5-CERCLAGE-REMOVAL")
    assert "0.0%" not in removal
    assert ">\N{EN DASH}<" in removal


def test_the_header_says_what_was_counted_and_what_was_refused(html: str) -> None:
    assert "sbl-v3.1-element5 version 2026.12" in html
    assert ">assessments.parquet<" in html
    assert "/assessments.parquet" not in html  # the file's name, not where it is
    assert "2026-12-07" in html
    assert "calendar quarters of the EDD" in html
    assert "2026-12-08 09:30 UTC" in html
    assert "1 refused by the reader (Cedar Centre: 1)" in html
    assert "A refused record is in no measure" in html


def test_the_report_is_escaped_and_holds_counts_only(result: AuditResult, html: str) -> None:
    assert "Birch &amp; Yew Unit" in html
    assert "Birch & Yew" not in html
    for row in ROWS:
        assert row["patient_id"] not in html


def test_the_report_fetches_nothing_and_runs_nothing(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<link" not in lowered
    assert "@import" not in lowered
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//|data:|file:)""", lowered)
    # Every link is to a part of the report itself.
    for target in re.findall(r'href="([^"]*)"', html):
        assert target.startswith("#")
        assert f'id="{target[1:]}"' in html


def test_ids_are_unique_across_the_inline_svgs(html: str) -> None:
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)) > 100  # matplotlib names each glyph, group and clip path
    for reference in set(re.findall(r'href="#([^"]+)"|url\(#([^)]+)\)', html)):
        target = reference[0] or reference[1]
        assert target in ids


class _Nesting(HTMLParser):
    """Checks each element that is opened is closed, in order (no HTML5 parser is installed:
    this is the part of well-formedness the report can get wrong)."""

    VOID = frozenset({"meta", "col", "br", "img", "hr", "link", "input", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.open[-1] if self.open else None}>")
        else:
            self.open.pop()


def test_the_html_is_well_nested(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    parser = _Nesting()
    parser.feed(html)
    parser.close()
    assert parser.errors == []
    assert parser.open == []


def _points(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [e.get("id", "") for e in root.iter() if re.search(r"-unit-\d+$", e.get("id", ""))]


def test_each_funnel_plot_draws_one_point_per_unit_with_a_denominator(
    result: AuditResult, html: str
) -> None:
    plotted = {}
    for measure in result.measures:
        svg = funnel_svg(measure)
        if measure.network.denominator == 0:
            assert svg.startswith("<p")
            assert "nothing to plot" in svg
            continue
        assert svg.startswith("<svg")
        assert svg in html
        points = _points(svg)
        expected = sum(1 for c in measure.by_unit.values() if c.denominator > 0)
        assert len(points) == len(set(points)) == expected
        plotted[measure.measure.id] = len(points)
    # Cedar has no intermediate-risk woman; only Alder counts for the short cervix measure.
    assert plotted == {
        "SBL5-TIER": 3,
        "SBL5-HR-SERIAL": 3,
        "SBL5-IR-SINGLE": 2,
        "SBL5-SHORT-CERVIX-TREATED": 1,
    }


def test_the_funnel_plot_is_text_free_and_the_same_each_time(result: AuditResult) -> None:
    serial = _measure(result, "SBL5-HR-SERIAL")
    svg = funnel_svg(serial)
    assert svg == funnel_svg(serial)  # no date, no random id
    assert not svg.startswith("<?xml")
    assert "<!DOCTYPE" not in svg
    assert "<metadata" not in svg
    assert "<text" not in svg  # glyphs as paths: no font is needed to read it


def test_the_unit_table_says_where_each_unit_lies(result: AuditResult, html: str) -> None:
    section = html[html.index('id="measure-SBL5-HR-SERIAL"') :]
    section = section[: section.index("</section>")]
    by_unit = section[section.index("<h3>By unit</h3>") : section.index("<h3>By quarter")]
    assert by_unit.count("within the 95% limits") == 3
    # Unit by quarter: Alder's Q1 women are pt-a1 (kept) and pt-a3 (not).
    assert "1/2<span" in section
    assert "(50.0%)" in section


def test_write_report_writes_html_pdf_and_json(result: AuditResult, written: list[Path]) -> None:
    assert [p.name for p in written] == [
        "sbl-v3.1-element5.html",
        "sbl-v3.1-element5.pdf",
        "sbl-v3.1-element5.json",
    ]
    assert all(p.is_file() for p in written)
    assert written[0].read_text(encoding="utf-8") == report_html(result, generated_at=GENERATED_AT)


def test_the_pdf_is_the_report(result: AuditResult, written: list[Path]) -> None:
    pdf = written[1].read_bytes()
    assert pdf.startswith(b"%PDF")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "High-risk women scanned every 2-4 weeks from 16+0 to 24+0" in text
    assert "Not measurable from the record" in text


def test_the_pdf_fetches_nothing() -> None:
    with pytest.raises(ValueError, match=re.escape("http://example.invalid/chart.png")):
        report_pdf('<p>A chart: <img src="http://example.invalid/chart.png"></p>')


def _count(count: Count) -> dict[str, Any]:
    interval = count.interval
    return {
        "met": count.met,
        "denominator": count.denominator,
        "excluded": count.excluded,
        "undetermined": count.undetermined,
        "rate": count.rate,
        "ci_low": interval[0] if interval else None,
        "ci_high": interval[1] if interval else None,
    }


def test_the_json_holds_the_results_counts(result: AuditResult, written: list[Path]) -> None:
    data = json.loads(written[2].read_text(encoding="utf-8"))
    assert (data["audit"], data["version"], data["profile"]) == (
        "sbl-v3.1-element5",
        "2026.12",
        "nice",
    )
    assert (data["as_of"], data["quarters"], data["rows"], data["refused"]) == (
        ["2026-12-07"],
        "calendar",
        12,
        1,
    )
    assert list(data["measures"]) == [m.measure.id for m in result.measures]
    for measure in result.measures:
        counted = data["measures"][measure.measure.id]
        assert counted["network"] == _count(measure.network)
        for key in ("by_unit", "by_quarter", "by_tier"):
            assert counted[key] == {k: _count(c) for k, c in getattr(measure, key).items()}
        assert counted["by_unit_quarter"] == {
            f"{u}|{q}": _count(c) for (u, q), c in measure.by_unit_quarter.items()
        }
    serial = data["measures"]["SBL5-HR-SERIAL"]
    assert serial["by_unit_quarter"][f"{ALDER}|2027 Q1"]["met"] == 1
    assert serial["by_unit_quarter"][f"{ALDER}|2027 Q1"]["denominator"] == 2
    assert "pt-a1" not in written[2].read_text(encoding="utf-8")
