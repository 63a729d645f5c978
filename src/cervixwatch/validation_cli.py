"""`cervixwatch validate-model`: a risk model kept as data checked against a cohort's outcomes
(issue 15, part 4; `app.model_validation`), written as a report.

Exit status 0 when done; 2 with one line on stderr naming the model file, its field, or the
cohort for bad input. The summary printed holds counts and statistics, never patient data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cervixwatch.cli import fail

__all__ = ["validate_model"]


def validate_model(
    cohort: Annotated[
        Path,
        typer.Option(
            "--cohort",
            help="A population run's directory (its assessments.parquet), from "
            "`cervixwatch population run`.",
        ),
    ],
    model: Annotated[
        list[str],
        typer.Option(
            "--model",
            help="A risk model file (YAML), or the id of a bundled one; repeat for several, "
            "or `all` for every bundled model.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Directory for the reports.", file_okay=False)],
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write a PDF.")] = True,
) -> None:
    """Validate risk models on a cohort: discrimination (AUC, 95% CI), calibration (slope,
    intercept, plot), Brier score and decision curve, each written as a self-contained HTML
    report, a PDF and JSON. A woman outside a model's valid range is left out, and counted."""
    from cervixwatch.app.model_report import write_report
    from cervixwatch.app.model_validation import validate
    from cervixwatch.app.risk_models import (
        BUNDLED_MODELS,
        RiskModel,
        RiskModelError,
        bundled_models,
        load_model,
    )
    from cervixwatch.knowledge import bundled_evidence

    console = Console(highlight=False, stderr=True)
    evidence = bundled_evidence()
    chosen: list[RiskModel] = []
    try:
        bundled = {m.id: m for m in bundled_models(evidence)}
        for name in model:
            if name == "all":
                chosen.extend(bundled.values())
            elif Path(name).is_file():
                chosen.append(load_model(Path(name), evidence))
            elif name in bundled:
                chosen.append(bundled[name])
            else:
                known = ", ".join(sorted(bundled))
                raise fail(
                    f"validate-model: --model {name}: no such file, nor a bundled model "
                    f"({known}; in {BUNDLED_MODELS})"
                )
    except RiskModelError as error:
        raise fail(f"validate-model: {error}") from None
    generated_at = dt.datetime.now(dt.UTC)
    for chosen_model in chosen:
        try:
            validation = validate(chosen_model, cohort)
        except ValueError as error:
            raise fail(f"validate-model: {error}") from None
        written = write_report(validation, out, generated_at=generated_at, pdf=pdf)
        area = validation.auc
        console.print(
            f"{chosen_model.id}: {validation.n:,} of {validation.women:,} women, "
            f"{validation.events:,} with the outcome; AUC "
            + ("not estimated" if area is None else f"{area.value:.3f}")
            + " -> "
            + ", ".join(str(path) for path in written)
        )
