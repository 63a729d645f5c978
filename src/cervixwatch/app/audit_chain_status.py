"""The audit chain's state for the auditors' pages: where the chain ends now and the newest
checkpoint kept in the server's file of them (cheap: shown beside the log), and a full
verification, as `cervixwatch audit verify --checkpoint FILE` makes it (a walk of the whole
log: made when an auditor asks for it).

The checkpoint file is the one the deployment names (`settings.audit_checkpoints`,
CERVIXWATCH_AUDIT_CHECKPOINTS, appended hourly by `cervixwatch audit checkpoint --out`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from cervixwatch.app.operations import newest_checkpoint
from cervixwatch.store.audit_chain import (
    Break,
    Checkpoint,
    Verification,
    checkpoint_engine,
    read_checkpoints,
    verify_engine,
)

__all__ = [
    "Break",
    "ChainState",
    "ChainVerified",
    "Checkpoint",
    "Verification",
    "chain_state",
    "verify_chain",
]


@dataclass(frozen=True, slots=True)
class ChainState:
    """Where the chain ends now (its head), and the newest kept checkpoint: None when no
    file is named (`file` None), or it holds none."""

    head: Checkpoint
    file: Path | None
    newest: Checkpoint | None


def chain_state(engine: Engine, checkpoints: Path | None, now: dt.datetime) -> ChainState:
    """The chain's head as of `now` and the newest checkpoint in the file `checkpoints`."""
    head = checkpoint_engine(engine, now)
    newest = newest_checkpoint(checkpoints) if checkpoints is not None else None
    return ChainState(head, checkpoints, newest)


@dataclass(frozen=True, slots=True)
class ChainVerified:
    """A verification and what it was checked against: the kept checkpoints read from
    `file` (none when it is not named), or why the file could not be read (`file_problem`:
    the chain is then verified without them, and the page says so)."""

    verification: Verification
    file: Path | None
    file_problem: str | None
    newest: Checkpoint | None
    checked_at: dt.datetime


def _kept(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the file; OSError or ValueError (naming the line) otherwise."""
    return read_checkpoints(path.read_bytes().splitlines())


def verify_chain(engine: Engine, checkpoints: Path | None, now: dt.datetime) -> ChainVerified:
    """Walk the audit log from its first entry to its head, and through every checkpoint in
    the file `checkpoints`; names the first break, if any."""
    kept: list[Checkpoint] = []
    problem = None
    if checkpoints is not None:
        try:
            kept = _kept(checkpoints)
        except OSError as error:
            problem = f"the file of checkpoints cannot be read ({error.strerror})"
        except ValueError as error:
            problem = f"the file of checkpoints is not one: {error}"
    found = verify_engine(engine, kept)
    newest = max(kept, key=lambda c: c.taken_at) if kept else None
    return ChainVerified(found, checkpoints, problem, newest, now)
