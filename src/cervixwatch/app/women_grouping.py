"""A Bulk Data export's resources grouped per woman, in the order of her id, in memory that does
not grow with the export (`population run`, `cervixwatch import`).

DuckDB keys each resource by the woman it is about (a Patient by its id; a record by
`subject`, `patient` or `for`, relative or absolute references alike) and groups them. A
`list()` aggregate cannot spill to disk: grouping a whole registry at once held every
resource in memory (1.2 GB for 100,000 pregnancies, an out-of-memory error under a memory
limit). So a large export is grouped in ranges of women: one pass finds the range bounds
(quantiles of the women's ids), a second writes each resource with its woman into a Parquet
partition per range, and each range is then grouped on its own (about `BUCKET_BYTES` of
NDJSON at a time), in order: the women come out in the order of their ids, as one GROUP BY
gave them, which a resumable import relies on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import duckdb

__all__ = [
    "BUCKET_BYTES",
    "GROUPED_BY_WOMAN",
    "NOT_ABOUT_A_WOMAN",
    "Grouping",
    "grouped_women",
]

#: NDJSON bytes grouped at a time: a range's resources and its aggregates stay a few hundred
#: megabytes whatever the size of the export.
BUCKET_BYTES: Final = 64 * 1024 * 1024

_WOMAN: Final = """
    CASE WHEN json->>'$.resourceType' = 'Patient' THEN json->>'$.id'
         ELSE regexp_extract(
             coalesce(json->>'$.subject.reference', json->>'$.patient.reference',
                      json->>'$.for.reference'),
             '(^|/)Patient/([^/]+)$', 2)
    END"""

_KEYED: Final = f"""
    SELECT json AS resource, {_WOMAN} AS woman
    FROM read_json_objects($files, format = 'newline_delimited')"""

GROUPED_BY_WOMAN: Final = f"""
SELECT woman, list(resource ORDER BY resource) AS resources
FROM ({_KEYED})
WHERE woman IS NOT NULL AND woman <> ''
GROUP BY woman
ORDER BY woman
"""
# Her resources are sorted (by their text), in this engine and the Spark one, so that both
# give the reader each woman's resources in the same order.

NOT_ABOUT_A_WOMAN: Final = f"""
SELECT count(*) FROM ({_KEYED}) WHERE coalesce(woman, '') = ''
"""

_BOUNDS: Final = f"""
SELECT quantile_disc(woman, $quantiles)
FROM ({_KEYED}) WHERE woman IS NOT NULL AND woman <> ''
"""

#: Resources about no woman go to their own partition, `STRAYS`, to be counted, not read:
#: one pass over the export keys, partitions and counts.
_PARTITIONED: Final = f"""
COPY (
    SELECT woman, resource,
           CASE WHEN coalesce(woman, '') = '' THEN -1
                ELSE len(list_filter($bounds, b -> b < woman)) END AS bucket
    FROM ({_KEYED})
) TO '{{directory}}' (FORMAT parquet, PARTITION_BY (bucket))
"""
STRAYS: Final = -1

_ONE_RANGE: Final = """
SELECT woman, list(resource ORDER BY resource) AS resources
FROM read_parquet($files)
GROUP BY woman
ORDER BY woman
"""

Batch = list[tuple[str, list[str]]]


@dataclass(slots=True)
class Grouping:
    """What grouping found besides the women, known once the first batch is out."""

    #: Resources that name no woman (no Patient reference): left out, and counted.
    not_about_a_woman: int = 0


def _batches(result: duckdb.DuckDBPyConnection, size: int) -> Iterator[Batch]:
    while batch := result.fetchmany(size):
        yield [(woman, list(resources)) for woman, resources in batch]


def grouped_women(
    connection: duckdb.DuckDBPyConnection,
    files: Sequence[str],
    scratch: Path,
    *,
    batch: int,
    patient_files: Sequence[str] = (),
    bucket_bytes: int = BUCKET_BYTES,
    found: Grouping | None = None,
) -> Iterator[Batch]:
    """Batches of (woman, her resources as JSON text, sorted) in the order of the women's ids.
    `scratch`: a directory for the ranges' Parquet (removed by the caller). `patient_files`:
    those of `files` a manifest says hold Patients: the ranges' bounds are read from them
    alone (any id splits the women as well; a woman with no Patient still falls in a range).
    `found` is told what else was found (before the first batch). Raises `duckdb.Error` when
    the NDJSON cannot be read."""
    found = found if found is not None else Grouping()
    total = sum(Path(f).stat().st_size for f in files)
    buckets = max(1, math.ceil(total / bucket_bytes))
    if buckets == 1:
        strays = connection.execute(NOT_ABOUT_A_WOMAN, {"files": list(files)}).fetchone()
        found.not_about_a_woman = int(strays[0]) if strays else 0
        yield from _batches(connection.execute(GROUPED_BY_WOMAN, {"files": list(files)}), batch)
        return
    quantiles = [i / buckets for i in range(1, buckets)]
    sample = list(patient_files) or list(files)
    quantile = connection.execute(_BOUNDS, {"files": sample, "quantiles": quantiles}).fetchone()
    bounds = sorted(set(quantile[0] or [])) if quantile else []
    directory = scratch / "women-by-range"
    scratch.mkdir(parents=True, exist_ok=True)
    # The directory is this run's own (a temporary one): written into the statement, as
    # COPY takes no parameter for its target.
    connection.execute(
        _PARTITIONED.format(directory=str(directory).replace("'", "''")),
        {"files": list(files), "bounds": bounds},
    )
    left_out = sorted(str(p) for p in (directory / f"bucket={STRAYS}").glob("*.parquet"))
    if left_out:
        counted = connection.execute(
            "SELECT count(*) FROM read_parquet($files)", {"files": left_out}
        ).fetchone()
        found.not_about_a_woman = int(counted[0]) if counted else 0
    for bucket in range(len(bounds) + 1):
        parts = sorted(str(p) for p in (directory / f"bucket={bucket}").glob("*.parquet"))
        if parts:
            yield from _batches(connection.execute(_ONE_RANGE, {"files": parts}), batch)
