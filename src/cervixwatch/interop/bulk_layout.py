"""The FHIR Bulk Data Access layout: one `<ResourceType>.ndjson` file per resource type (one
resource per line) and a `manifest.json` that lists them, as an `$export` writes them
(https://hl7.org/fhir/uv/bulkdata/export.html, "Response - Complete Status").

Written a line at a time, so an export of millions of resources is never held in memory; read
back from a directory or a manifest, ours or another server's: the manifest's `output` URLs
are taken as names of files beside it (their last path segment), since an export fetched to
disk keeps its files' names; without a manifest, every `*.ndjson` file of the directory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import unquote, urlsplit

import orjson

__all__ = ["MANIFEST", "BulkFile", "BulkWriter", "bulk_files", "ndjson_resources"]

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class BulkFile:
    """One NDJSON file of the layout: its resource type (None when no manifest says) and
    where it is."""

    resource_type: str | None
    path: Path


class BulkWriter:
    """Writes resources into `directory` as the Bulk Data layout; `close` writes the manifest.

    A file is opened for a type the first time a resource of it comes, and kept open until
    the end (a handful of types), so writing costs one line each."""

    def __init__(self, directory: Path, *, request: str, transaction_time: dt.datetime) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._request = request
        self._transaction_time = transaction_time
        self._files: dict[str, IO[bytes]] = {}
        self._counts: dict[str, int] = {}

    def write(self, resource: dict[str, Any]) -> None:
        kind = resource["resourceType"]
        out = self._files.get(kind)
        if out is None:
            out = self._files[kind] = (self.directory / f"{kind}.ndjson").open("wb")
            self._counts[kind] = 0
        out.write(orjson.dumps(resource) + b"\n")
        self._counts[kind] += 1

    @property
    def counts(self) -> dict[str, int]:
        """Resources written so far, by type."""
        return dict(self._counts)

    def close(self) -> Path:
        """Close the files and write the manifest; returns its path."""
        for out in self._files.values():
            out.close()
        manifest = {
            "transactionTime": self._transaction_time.isoformat().replace("+00:00", "Z"),
            "request": self._request,
            "requiresAccessToken": False,
            "output": [
                {"type": kind, "url": f"{kind}.ndjson", "count": self._counts[kind]}
                for kind in sorted(self._counts)
            ],
            "error": [],
        }
        path = self.directory / MANIFEST
        path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        return path

    def __enter__(self) -> BulkWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            for out in self._files.values():
                out.close()


def _manifest_file(entry: object, directory: Path, where: str) -> BulkFile:
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        raise ValueError(f"{where}: each output needs a `url`")
    kind = entry.get("type")
    name = unquote(Path(urlsplit(entry["url"]).path).name)
    path = directory / name
    if not name or not path.is_file():
        raise ValueError(f"{where}: the file {name or entry['url']!r} is not beside the manifest")
    return BulkFile(kind if isinstance(kind, str) else None, path)


def bulk_files(location: Path) -> list[BulkFile]:
    """The NDJSON files of an export at `location`: a manifest file, a directory holding
    `manifest.json`, or a directory of `*.ndjson` files. ValueError names what is wrong."""
    manifest = location if location.is_file() else location / MANIFEST
    if manifest.is_file():
        try:
            document = orjson.loads(manifest.read_bytes())
        except orjson.JSONDecodeError as error:
            raise ValueError(f"{manifest}: not JSON ({error})") from None
        output = document.get("output") if isinstance(document, dict) else None
        if not isinstance(output, list):
            raise ValueError(f"{manifest}: no `output` list (not a Bulk Data manifest)")
        return [
            _manifest_file(entry, manifest.parent, f"{manifest} output[{i}]")
            for i, entry in enumerate(output)
        ]
    if not location.is_dir():
        raise ValueError(f"{location}: no such directory or manifest")
    files = sorted(location.glob("*.ndjson"))
    if not files:
        raise ValueError(f"{location}: no manifest.json and no *.ndjson files")
    return [BulkFile(None, path) for path in files]


def ndjson_resources(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, resource) of each non-blank line; ValueError names a line that is not a
    JSON object with a resourceType."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                resource = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise ValueError(f"{path.name} line {number}: not JSON ({error})") from None
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                raise ValueError(f"{path.name} line {number}: not a FHIR resource")
            yield number, resource
