"""Reading guideline profiles from knowledge files.

Each profile lives in one YAML file per version, `<profile>-<version>.yaml`, in a knowledge
directory (the bundled `profiles/` by default). A new guideline (FIGO, SOGC, a hospital's
local protocol) is added by dropping a file there: nothing in the code names a profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from cervixwatch.clinical.guidelines import GuidelineProfile, KnowledgeError, profile_from_data
from cervixwatch.clinical.risk import RiskEvidence
from cervixwatch.knowledge.evidence_data import evidence_from_data

BUNDLED_PROFILES = Path(__file__).parent / "profiles"

__all__ = [
    "BUNDLED_EVIDENCE",
    "BUNDLED_PROFILES",
    "KnowledgeError",
    "bundled_evidence",
    "bundled_profiles",
    "load_evidence",
    "load_profile",
    "load_profiles",
]


#: libyaml's loader when PyYAML was built with it (about ten times faster: `cervixwatch assess`
#: reads every profile file at start-up), else the pure-Python one; both are safe loaders.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def load_profile(path: Path) -> GuidelineProfile:
    """Read and check one profile file; errors name the file and the place in it."""
    try:
        data = _read_yaml(path)
    except yaml.YAMLError as error:
        # One line: the CLI reports knowledge errors on a single stderr line.
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise KnowledgeError(f"{path.name}: not valid YAML{at}: {problem}") from None
    return profile_from_data(data, path.name)


def _version_key(version: str) -> tuple[int | str, ...]:
    return tuple(int(part) if part.isdigit() else part for part in version.split("."))


def load_profiles(directory: Path = BUNDLED_PROFILES) -> Mapping[str, GuidelineProfile]:
    """The newest version of every profile in `directory`, by profile id, in id order. Read
    again only when a file is added, removed or changed (its size or modification time)."""
    files = sorted(directory.glob("*.yaml"))
    stamp = tuple((path, path.stat().st_mtime_ns, path.stat().st_size) for path in files)
    return dict(_loaded(directory, stamp))  # a mapping of the caller's own


@lru_cache(maxsize=8)
def _loaded(
    directory: Path, stamp: tuple[tuple[Path, int, int], ...]
) -> Mapping[str, GuidelineProfile]:
    # Profiles are frozen: every app made in one process (the test suite makes thousands)
    # shares those read once, instead of parsing the YAML again (~70 ms each time).
    newest: dict[str, GuidelineProfile] = {}
    for path, _, _ in stamp:
        profile = load_profile(path)
        current = newest.get(profile.id)
        if current is None or _version_key(profile.version) > _version_key(current.version):
            newest[profile.id] = profile
    if not newest:
        raise KnowledgeError(f"{directory}: no guideline profiles (*.yaml) found")
    return dict(sorted(newest.items()))


BUNDLED_EVIDENCE = Path(__file__).parent / "evidence" / "risk-2026.12.yaml"


def load_evidence(path: Path = BUNDLED_EVIDENCE) -> RiskEvidence:
    """The published risk figures as numbers (knowledge/evidence/), checked on loading."""
    try:
        data = _read_yaml(path)
        return evidence_from_data(data)
    except (KeyError, TypeError, ValueError) as error:
        raise KnowledgeError(f"{path.name}: {error}") from None


@cache
def bundled_evidence() -> RiskEvidence:
    """The risk figures shipped with CervixWatch, read once per process."""
    return load_evidence(BUNDLED_EVIDENCE)


@cache
def bundled_profiles() -> Mapping[str, GuidelineProfile]:
    """The profiles shipped with CervixWatch, read once per process."""
    return load_profiles(BUNDLED_PROFILES)
