"""The demo: a synthetic clinic served by the web app (`make demo`, `cervixwatch demo`), and the
text demo that assesses the bundled example patients (`cervixwatch demo --text`).

Also what `cervixwatch demo-data` and `cervixwatch serve` run: writing the synthetic cohort
as FHIR, loading it into a database, and starting Uvicorn with the app factory.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from rich.console import Console
from rich.rule import Rule
from sqlalchemy.engine import make_url

from cervixwatch import serving
from cervixwatch.build_info import describe_build
from cervixwatch.clinical.assessment import assess
from cervixwatch.cohort import iter_cohort, load_cohort, patient_count, write_bundle_files
from cervixwatch.cohort import write_ndjson as write_cohort_ndjson
from cervixwatch.cohort.bulk import write_bulk
from cervixwatch.cohort.parameters import REGISTRY_PAST_SHARE
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import bundled_evidence, bundled_profiles, load_profiles
from cervixwatch.settings import Settings
from cervixwatch.store import make_engine, session_factory, upgrade
from cervixwatch.views.text_view import render_text

#: The demo's own database, beside the working directory (never the production default).
DEMO_DATABASE_URL = "sqlite:///./cervixwatch-demo.db"
SCENARIOS = Path(__file__).resolve().parents[2] / "tests" / "scenarios" / "vignettes"
SHOWN = ("V01", "V02", "V06", "V11", "V13", "V21", "V23", "V25")
#: The app's entry point for Uvicorn: an import string, so that worker processes can build it.
APP_FACTORY = "cervixwatch.web.app:create_app"


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def write_demo_files(
    out: Path,
    patients: int,
    seed: int,
    reference: dt.date,
    *,
    ndjson: bool = False,
    bulk: bool = False,
) -> Path:
    """The cohort in `out`: FHIR Bundles, one file per woman, or one NDJSON file of them; or
    (`bulk`) a Bulk Data export, one NDJSON file per resource type and a manifest."""
    if bulk:
        # A registry: women under way and women who have delivered (their outcomes).
        active = patients - round(patients * REGISTRY_PAST_SHARE)
        return write_bulk(iter_cohort(patients, seed, reference, active=active), out, reference)
    cohort = iter_cohort(patients, seed, reference)
    if ndjson:
        path = out / "demo-cohort.ndjson"
        write_cohort_ndjson(cohort, path)
        return path
    write_bundle_files(cohort, out)
    return out


def load_demo_database(
    url: str,
    patients: int,
    seed: int,
    reference: dt.date,
    console: Console,
    *,
    if_empty: bool = False,
) -> int:
    """Migrate the database at `url` and load the cohort, assessed on `reference`; with
    `if_empty`, leave a database that already holds patients as it is. Returns how many women
    were loaded."""
    upgrade(url)
    engine = make_engine(url)
    try:
        factory = session_factory(engine)
        present = patient_count(factory)
        if if_empty and present:
            console.print(f"{_shown(url)} already holds {present} patients: not loading.")
            return 0
        profiles = load_profiles(Settings().knowledge_dir)
        started = time.perf_counter()
        with console.status(f"Loading {patients} synthetic patients into {_shown(url)}") as status:

            def progress(done: int) -> None:
                if done % 50 == 0:
                    status.update(f"Loading synthetic patients: {done}/{patients}")

            cohort = iter_cohort(patients, seed, reference, profiles=list(profiles.values()))
            loaded = load_cohort(factory, cohort, reference, profiles, progress=progress)
        console.print(
            f"Loaded {loaded.patients} SYNTHETIC patients (seed {seed}, as of {reference}) into"
            f" {_shown(url)} in {time.perf_counter() - started:.1f} s:"
            f" {loaded.urgent} urgent, {loaded.overdue} with an overdue scan."
        )
        return loaded.patients
    finally:
        engine.dispose()


def where_to_go(host: str, port: int) -> str:
    """What to open once the app is up."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    return (
        f"CervixWatch is serving on {base}\n"
        f"  Sign in:            {base}/\n"
        f"  API documentation:  {base}/docs\n"
        f"  Worklist (JSON):    {base}/api/worklist\n"
        f"  FHIR capabilities:  {base}/fhir/metadata\n"
        "Press Ctrl+C to stop."
    )


def serve(settings: Settings, *, log_level: str = "info") -> None:
    """Migrate the database once, then run Uvicorn on the app factory with `settings` (which
    the caller has also put in the environment, for the worker processes)."""
    # Migrate before the workers start, so that several workers never race to create the
    # schema; each worker's own migration on start then finds nothing to do.
    upgrade(settings.database_url)
    if settings.log_format == "text":  # as JSON, every line the server writes is an object
        console = Console(highlight=False, stderr=True)
        console.print(where_to_go(settings.host, settings.port))
        console.print(describe_build())  # the source, or the compiled build (`make compiled`)
    listen = serving.Listen(
        APP_FACTORY,
        settings.host,
        settings.port,
        log_level,
        settings.log_format,
        trusted_proxies=tuple(settings.trusted_proxies),
    )
    serving.run(listen, settings.workers)


def text_demo() -> None:
    """Assess the example patients (clinical scenario folders, each on its own date) and print
    what a clinician sees."""
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
        assessment = assess(records, as_of, profiles, bundled_evidence())
        render_text(assessment, records, profiles, console)
    first = cases[0]
    first_as_of = json.loads((first / "expected.json").read_text())["as_of"]
    console.print(
        f"\nAssessed {len(cases)} example patients. Try:\n"
        f"  uv run cervixwatch assess {first / 'bundle.json'} --as-of {first_as_of} --format json\n"
        "  uv run cervixwatch rules"
    )


if __name__ == "__main__":
    text_demo()
