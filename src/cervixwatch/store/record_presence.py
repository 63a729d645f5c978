"""Which kinds of record a woman (or a set of women) has at all, in one statement.

A woman's records live in one table per kind (`mapping.RECORD_KINDS`: thirteen of them), and
most women have rows in a few: a woman under surveillance has her lengths and perhaps a
history, rarely a cerclage, an fFN test and a declined decision. Reading her records kind by
kind costs a round trip per table; asking first which tables hold any row of hers (one
UNION ALL of EXISTS probes, each answered from the owner index) lets the loaders skip the
empty ones. On a device's report (her records read when it arrives, for her versions and for
her assessment) this removes about half the statements of the intake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import bindparam, exists, literal_column, select, union_all
from sqlalchemy.orm import Session

from cervixwatch.store.mapping import RECORD_KINDS, RecordKind

__all__ = ["Owners", "kinds_with_rows"]

#: The owners whose rows are asked about, by the kind of owner ("patient", "pregnancy").
Owners = Mapping[str, Sequence[str]]


def _probe(kind: RecordKind[Any, Any]) -> Any:
    owner = getattr(kind.table, f"{kind.owner}_id")
    rows = exists().where(owner.in_(bindparam(kind.owner, expanding=True)))
    if kind.current is not None:
        rows = rows.where(kind.current())
    # The field names are the code's own constants (never input), so written as SQL literals:
    # a bound parameter in a UNION has no type PostgreSQL can infer.
    return select(literal_column(f"'{kind.field}'").label("kind")).where(rows)


@cache
def _statement(owner_kinds: frozenset[str]) -> Any:
    # Built once per set of owner kinds: constructing thirteen probes costs more than running
    # them, and a statement object reused keeps its compiled form in SQLAlchemy's cache.
    return union_all(*(_probe(kind) for kind in RECORD_KINDS if kind.owner in owner_kinds))


def kinds_with_rows(session: Session, owners: Owners) -> frozenset[str]:
    """The fields (`RecordKind.field`) of the kinds with at least one current row owned by
    one of `owners` (a kind's owner is a patient or a pregnancy)."""
    asked = {owner: list(ids) for owner, ids in owners.items() if ids}
    if not asked:
        return frozenset()
    return frozenset(session.scalars(_statement(frozenset(asked)), asked))
