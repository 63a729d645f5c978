"""Rows of `population run`'s Parquet built by hand for the audit's tests: each written by the
same DuckDB step as the real run (`app.population.write_parquet`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import orjson

from cervixwatch.app.population import PARQUET_NAME, write_parquet
from cervixwatch.app.population_rows import COLUMNS

AS_OF = dt.date(2026, 12, 7)


def row(n: int, **values: Any) -> dict[str, Any]:
    """A row of the Parquet: nothing recorded but what is given (a singleton high-risk
    pregnancy by the NICE profile unless said otherwise)."""
    base: dict[str, Any] = dict.fromkeys(COLUMNS)
    base.update(
        patient_id=f"w{n:03d}",
        profile="nice",
        profile_version="2026.12",
        as_of=AS_OF.isoformat(),
        edd="2027-02-10",
        codes=[],
        states={},
        missing=[],
        rule_states={},
        scan_ga_days=[],
        unit="Unit A",
        risk_tier="high",
        fetuses=1,
    )
    base.update(values)
    return base


def parquet_of(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    """The rows as `population run` writes them (the same DuckDB step)."""
    lines = tmp_path / "rows.ndjson"
    lines.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    parquet = tmp_path / PARQUET_NAME
    connection = duckdb.connect()
    try:
        write_parquet(connection, [str(lines)], parquet)
    finally:
        connection.close()
    return parquet
