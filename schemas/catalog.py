"""Every dataset declared once: path under the lake, partitioning, schema, and its one writer."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from schemas.feedback import FEEDBACK_SCHEMA
from schemas.tables import (
    ASSIGNMENTS_SCHEMA,
    EMBEDDING_CACHE_SCHEMA,
    LINEAGE_SCHEMA,
    QUARANTINE_SCHEMA,
    THEMES_SCHEMA,
    TRENDS_SCHEMA,
)


@dataclass(frozen=True)
class Dataset:
    name: str
    path: str  # relative to the lake root
    schema: pa.Schema | None
    partitioning: tuple[str, ...]
    writer: str  # the one function allowed to write it
    restricted: bool = False


CATALOG: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("raw", "raw", None, ("source",), "Lake.land_raw", restricted=True),
        Dataset(
            "feedback",
            "feedback",
            FEEDBACK_SCHEMA,
            ("source", "created_month"),
            "Lake.upsert_feedback",
        ),
        Dataset("themes", "themes", THEMES_SCHEMA, (), "Lake.replace_table"),
        Dataset("lineage", "lineage", LINEAGE_SCHEMA, (), "Lake.replace_table"),
        Dataset("assignments", "assignments", ASSIGNMENTS_SCHEMA, (), "Lake.replace_table"),
        Dataset("trends", "trends", TRENDS_SCHEMA, (), "Lake.replace_table"),
        Dataset(
            "quarantine",
            "quarantine",
            QUARANTINE_SCHEMA,
            ("source",),
            "Lake.write_quarantine",
            restricted=True,
        ),
        Dataset(
            "embedding_cache",
            "_cache/embeddings",
            EMBEDDING_CACHE_SCHEMA,
            ("model",),
            "Lake.add_embeddings",
        ),
        Dataset("state", "_state", None, (), "Lake.write_state"),
    )
}
