"""Several derived tables replaced as one commit: themes, assignments and lineage belong together.

Replaced one by one, a crash between them leaves new themes beside old assignments, and the
next run themes from that half-written state (other themes, lost lineage events). Here every
table is first staged whole, hidden beside its target (``.staged-part-0.parquet``); then a
journal naming them is written (the commit point); then each is moved into place and the
journal removed. A crash before the journal leaves the old tables; a crash after it is rolled
forward by the next `Lake.read_table`. Object stores have no rename: there each table is one
PUT, as before.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import pyarrow as pa

from flows.lake.crash_points import crash_point
from schemas.catalog import CATALOG

if TYPE_CHECKING:
    from flows.lake.store import Lake

JOURNAL = ("_state", "table_commit.json")
PART = "part-0.parquet"


class TableCommit:
    """`replace_table` for each table, then `done()`: all of them become visible at once."""

    def __init__(self, lake: Lake) -> None:
        roll_forward(lake)  # an earlier commit cut short is finished before staging over it
        self.lake = lake
        self.moves: dict[str, str] = {}  # staged -> target, relative to the lake root

    def replace_table(self, name: str, table: pa.Table) -> str:
        lake = self.lake
        if not lake.local:
            return lake.replace_table(name, table)
        schema = CATALOG[name].schema
        if schema is not None:
            table = table.select(schema.names).cast(schema)
        target = f"{CATALOG[name].path}/{PART}"
        staged = f"{CATALOG[name].path}/.staged-{PART}"
        lake._write_parquet(lake.path(staged), table)
        self.moves[staged] = target
        return lake.path(target)

    def done(self) -> None:
        if self.moves:
            self.lake._write_bytes(self.lake.path(*JOURNAL), json.dumps(self.moves).encode())
            crash_point("lake.commit.journal")
        roll_forward(self.lake)


def roll_forward(lake: Lake) -> None:
    """Finish a commit whose journal was written: move every staged table into place."""
    journal = lake.path(*JOURNAL)
    if not lake.local or not os.path.exists(journal):
        return
    with open(journal, encoding="utf-8") as fh:
        moves = json.load(fh)
    for staged, target in moves.items():
        try:
            os.replace(lake.path(staged), lake.path(target))
        except FileNotFoundError:  # moved already, by this commit before a crash or by a reader
            continue
        crash_point("lake.table.replaced", target)
    try:
        os.unlink(journal)
    except FileNotFoundError:
        pass
