"""`cervixwatch population run` on DuckDB (issue 15, part 2): a Bulk Data export (ours or
another server's: `interop.bulk_layout`) grouped per woman by DuckDB, each woman's pregnancy
assessed by the same `assess` as the app's (`app.population_rows`) in a pool of processes,
and one Parquet row per pregnancy per guideline profile written by DuckDB.

DuckDB reads the NDJSON as raw JSON objects (no schema to infer), keys each resource by the
woman it is about and groups them, a range of women at a time for a large export
(`app.women_grouping`: memory does not grow with the registry). Rows are streamed to a
temporary NDJSON file and turned into Parquet by DuckDB at the end, so no step holds the
population's rows in Python's memory.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson

from cervixwatch.app.population_rows import COLUMNS, rows_of_woman
from cervixwatch.app.women_grouping import (
    GROUPED_BY_WOMAN,
    NOT_ABOUT_A_WOMAN,
    Grouping,
    grouped_women,
)
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.interop.bulk_layout import bulk_files
from cervixwatch.knowledge import bundled_evidence, load_profiles

__all__ = [
    "GROUPED_BY_WOMAN",
    "NOT_ABOUT_A_WOMAN",
    "PARQUET_NAME",
    "PopulationRun",
    "assess_chunk",
    "run_population",
    "start_worker",
    "write_parquet",
]

PARQUET_NAME = "assessments.parquet"
#: Women per task sent to a worker process: large enough that pickling is cheap beside
#: assessing, small enough that the pool stays busy to the end.
CHUNK = 500
#: DuckDB's memory (it spills to `temp_directory` beyond it): left to itself it keeps up to
#: 80% of the machine's memory as a cache, so a run's peak would grow with the registry.
#: Grouping (a range of women at a time) and the final sort fit well within it.
DUCKDB_MEMORY = "1GB"


@dataclass(frozen=True, slots=True)
class PopulationRun:
    """What a run did: women assessed, rows written, women whose data the reader refused
    (their rows say why), resources about no woman (left out), seconds, and the Parquet."""

    women: int
    rows: int
    refused: int
    not_about_a_woman: int
    seconds: float
    parquet: Path


# --- the worker processes ---------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def start_worker(knowledge: Path | None, profile_ids: Sequence[str]) -> None:
    """Each worker loads the knowledge once (profiles are not sent with every task); a Spark
    task asks again for each partition, and is answered from what is loaded."""
    key = (knowledge, tuple(profile_ids))
    if _WORKER.get("key") == key:
        return
    profiles = load_profiles(knowledge) if knowledge is not None else load_profiles()
    _WORKER["profiles"] = [profiles[i] for i in profile_ids]
    _WORKER["evidence"] = bundled_evidence()
    _WORKER["key"] = key


def assess_chunk(chunk: list[tuple[str, list[str]]], as_of: dt.date) -> tuple[bytes, int, int]:
    """The rows of a chunk of women as NDJSON bytes, how many rows, how many women refused."""
    out = bytearray()
    rows = refused = 0
    for woman, raw in chunk:
        resources = [orjson.loads(r) for r in raw]
        found = rows_of_woman(
            woman,
            resources,
            as_of,
            _WORKER["profiles"],
            _WORKER["evidence"],
            modifiers=any("modifierExtension" in r for r in raw),
        )
        refused += any(row["error"] for row in found)
        for row in found:
            out += orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
        rows += len(found)
    return bytes(out), rows, refused


def _in_order(
    pool: ProcessPoolExecutor | None,
    chunks: Iterator[list[tuple[str, list[str]]]],
    as_of: dt.date,
    window: int,
) -> Iterator[tuple[int, tuple[bytes, int, int]]]:
    """(women, result) of each chunk in order, with at most `window` chunks in flight, so
    the grouped women are read from DuckDB only as fast as they are assessed."""
    if pool is None:
        for chunk in chunks:
            yield len(chunk), assess_chunk(chunk, as_of)
        return
    pending: deque[tuple[int, Future[tuple[bytes, int, int]]]] = deque()
    for chunk in chunks:
        pending.append((len(chunk), pool.submit(assess_chunk, chunk, as_of)))
        if len(pending) >= window:
            size, future = pending.popleft()
            yield size, future.result()
    while pending:
        size, future = pending.popleft()
        yield size, future.result()


def missing_columns(connection: duckdb.DuckDBPyConnection, parquet: Path) -> list[str]:
    """The columns of `population_rows.COLUMNS` the Parquet lacks: rows written by an older
    CervixWatch, which a report must not read as if the new columns were empty."""
    found = {
        name
        for (name,) in connection.execute(
            "SELECT name FROM parquet_schema($path)", {"path": str(parquet)}
        ).fetchall()
    }
    return [name for name in COLUMNS if name not in found]


def stale_rows_message(parquet: Path, missing: Sequence[str]) -> str:
    return (
        f"{parquet.name} was made by an older CervixWatch, without {', '.join(missing)}: "
        "run `cervixwatch population run` again"
    )


def _duckdb_columns() -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items()) + "}"


def write_parquet(
    connection: duckdb.DuckDBPyConnection, rows: Sequence[str], parquet: Path
) -> None:
    """The rows (NDJSON files, one row a line) as the one ordered Parquet file, with the
    columns of `population_rows.COLUMNS`: the last step of either engine."""
    connection.execute(
        f"COPY (SELECT * FROM read_json($rows, format = 'newline_delimited', "
        f"columns = {_duckdb_columns()}) ORDER BY patient_id, profile) "
        "TO $parquet (FORMAT parquet)",
        {"rows": list(rows), "parquet": str(parquet)},
    )


def run_population(
    source: Path,
    out: Path,
    as_of: dt.date,
    profiles: Sequence[GuidelineProfile],
    *,
    knowledge: Path | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> PopulationRun:
    """Assess every woman of the export at `source` on `as_of` and write `out/assessments.
    parquet` (replaced if there). `knowledge`: the knowledge directory the profiles came from
    (the bundled one if None), loaded again by each worker process; `progress` is told the
    women done so far. ValueError names a layout or line that cannot be read."""
    started = time.perf_counter()
    layout = bulk_files(source)
    files = [str(f.path) for f in layout]
    patient_files = [str(f.path) for f in layout if f.resource_type == "Patient"]
    out.mkdir(parents=True, exist_ok=True)
    processes = max(1, workers or os.cpu_count() or 1)
    profile_ids = [p.id for p in profiles]
    women = refused = rows = 0
    parquet = out / PARQUET_NAME
    with tempfile.TemporaryDirectory(dir=out, prefix=".population-") as scratch:
        connection = duckdb.connect(
            config={"temp_directory": scratch, "memory_limit": DUCKDB_MEMORY}
        )
        try:
            try:
                found = Grouping()
                grouped = grouped_women(
                    connection,
                    files,
                    Path(scratch),
                    batch=CHUNK,
                    patient_files=patient_files,
                    found=found,
                )
                first = next(grouped, None)
            except duckdb.Error as error:
                raise ValueError(f"{source}: the NDJSON cannot be read ({error})") from None
            chunks = itertools.chain([first] if first is not None else [], grouped)
            rows_path = Path(scratch) / "rows.ndjson"
            pool = (
                ProcessPoolExecutor(
                    processes, initializer=start_worker, initargs=(knowledge, profile_ids)
                )
                if processes > 1
                else None
            )
            if pool is None:
                start_worker(knowledge, profile_ids)
            try:
                with rows_path.open("wb") as sink:
                    for size, (lines, count, bad) in _in_order(pool, chunks, as_of, 2 * processes):
                        sink.write(lines)
                        women += size
                        rows += count
                        refused += bad
                        if progress is not None:
                            progress(women)
            finally:
                if pool is not None:
                    pool.shutdown(cancel_futures=True)
            write_parquet(connection, [str(rows_path)], parquet)
        finally:
            connection.close()
    return PopulationRun(
        women, rows, refused, found.not_about_a_woman, time.perf_counter() - started, parquet
    )
