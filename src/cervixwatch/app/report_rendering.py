"""What the population's reports share (the audit's, `app.audit_report`; a risk model's
validation, `app.model_report`): their Jinja templates, matplotlib's SVG made an element of
the HTML, and the PDF rendered by WeasyPrint without fetching anything.

A report is self-contained: inline CSS, inline SVG charts with their text as paths, no
script, no URL. The templates sit with the web app's templates, where the other HTML of the
project is kept, but are read here as files: nothing of the web app is imported.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import matplotlib as mpl
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

__all__ = [
    "CM",
    "REPORT_TEMPLATES",
    "chart",
    "chart_svg",
    "inline_svg",
    "report_pdf",
    "write_report_files",
]

#: One centimetre in inches, matplotlib's unit of figure size.
CM: Final = 1 / 2.54

REPORT_TEMPLATES: Final = Environment(
    loader=FileSystemLoader(Path(__file__).parents[1] / "web" / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _scoped(svg: str, prefix: str) -> str:
    """The SVG with every id (and every reference to one) prefixed: matplotlib names its
    groups, glyphs and clip paths alike in every figure, and several inline SVGs share the
    one id space of their HTML document."""
    ids = set(re.findall(r'\sid="([^"]+)"', svg))

    def scope(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}{name}{match.group(3)}" if name in ids else match[0]

    return re.sub(r'(\sid="|href="#|url\(#)([^")]+)(["\)])', scope, svg)


def inline_svg(svg: str, prefix: str, label: str, css_class: str) -> str:
    """matplotlib's SVG file as an element for HTML: no XML prolog or DOCTYPE, no metadata
    block (its RDF namespaces are URLs, and its date would make each report differ), its ids
    prefixed, labelled for a screen reader."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    svg = _scoped(svg, prefix)
    return svg.replace(
        "<svg ", f'<svg class="{css_class}" role="img" aria-label="{html.escape(label)}" ', 1
    )


@contextmanager
def chart(prefix: str, width_cm: float, height_cm: float) -> Iterator[tuple[Figure, Axes]]:
    """A report's chart: one gridded axes, drawn and saved (`chart_svg`) inside the block.
    Text is drawn as paths (no font needed to show it) and the salt makes matplotlib's ids the
    same for the same plot, so a report rendered twice from the same figures is the same file."""
    with mpl.rc_context(
        {
            "svg.fonttype": "path",
            "svg.hashsalt": prefix,
            "font.size": 8,
            "font.family": "DejaVu Sans",
        }
    ):
        figure = Figure(figsize=(width_cm * CM, height_cm * CM), layout="constrained")
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        axes.grid(True, color="#e5e5e5", linewidth=0.5)
        axes.set_axisbelow(True)
        yield figure, axes


def chart_svg(figure: Figure, prefix: str, label: str, css_class: str) -> str:
    """The chart as an inline SVG element (`inline_svg`); called inside its `chart` block."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return inline_svg(buffer.getvalue(), prefix, label, css_class)


def report_pdf(html: str) -> bytes:
    """The report's HTML as a PDF (WeasyPrint). The report must fetch nothing: a URL in it
    raises ValueError naming it rather than being fetched."""
    # Imported here: WeasyPrint loads Pango and HarfBuzz, which takes seconds.
    from weasyprint import HTML  # type: ignore[import-untyped]
    from weasyprint.urls import (  # type: ignore[import-untyped]
        FatalURLFetchingError,
        URLFetcher,
    )

    refused: list[str] = []

    class RefuseEveryURL(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            refused.append(url)
            raise ValueError(f"the report fetches nothing: {url}")

    try:
        # fail_on_errors: WeasyPrint would otherwise log a failed fetch and render on.
        pdf = HTML(string=html, url_fetcher=RefuseEveryURL(fail_on_errors=True)).write_pdf()
    except FatalURLFetchingError:
        pdf = None
    if refused or pdf is None:
        raise ValueError(f"the report fetches nothing: {', '.join(refused) or '?'}")
    return bytes(pdf)


def write_report_files(
    out_dir: Path, stem: str, html_text: str, figures: Any, *, pdf: bool
) -> list[Path]:
    """Write `<stem>.html`, `.pdf` (when `pdf`) and `.json` (`figures`) into `out_dir` (made
    if missing); the paths written, in that order. The stem comes from a data file (an audit's
    or a model's id): it names files here, so it must not name a folder."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", stem):
        raise ValueError(f"{stem!r} cannot name a file")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / f"{stem}.html"]
    written[0].write_text(html_text, encoding="utf-8")
    if pdf:
        written.append(out_dir / f"{stem}.pdf")
        written[-1].write_bytes(report_pdf(html_text))
    written.append(out_dir / f"{stem}.json")
    written[-1].write_text(
        json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return written
