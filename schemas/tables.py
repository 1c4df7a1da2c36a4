"""Schemas of the derived datasets: themes, assignments, trends, quarantine, embedding cache."""

from __future__ import annotations

import pyarrow as pa

from schemas.feedback import EMBEDDING_DIM

_UTC = pa.timestamp("us", tz="UTC")

THEMES_SCHEMA_VERSION = 1
THEMES_SCHEMA = pa.schema(
    [
        pa.field("theme_id", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("keywords", pa.list_(pa.string())),
        pa.field("centroid", pa.list_(pa.float32(), EMBEDDING_DIM)),
        pa.field("size", pa.int64()),
        pa.field("first_seen", _UTC),
        pa.field("last_seen", _UTC),
        pa.field("status", pa.string()),  # active | merged | retired | group
        pa.field("group_id", pa.string()),  # the group of related themes it rolls up to
        pa.field("parent_ids", pa.list_(pa.string())),  # lineage: merged or split from
        pa.field("representative_ids", pa.list_(pa.string())),  # feedback_ids of quotes
        pa.field("model_run", pa.string()),
    ],
    metadata={"chorus.dataset": "themes", "chorus.schema_version": str(THEMES_SCHEMA_VERSION)},
)

LINEAGE_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("event", pa.string(), nullable=False),  # born | merged | split | retired
        pa.field("theme_id", pa.string(), nullable=False),
        pa.field("related_ids", pa.list_(pa.string())),
        pa.field("at", _UTC),
        pa.field("size", pa.int64()),
    ],
    metadata={"chorus.dataset": "lineage", "chorus.schema_version": "1"},
)

ASSIGNMENTS_SCHEMA = pa.schema(
    [
        pa.field("feedback_id", pa.string(), nullable=False),
        pa.field("theme_id", pa.string()),  # null: unassigned (outlier)
        pa.field("similarity", pa.float32()),
        pa.field("model_run", pa.string()),
    ],
    metadata={"chorus.dataset": "assignments", "chorus.schema_version": "1"},
)

TRENDS_SCHEMA_VERSION = 1
TRENDS_SCHEMA = pa.schema(
    [
        pa.field("theme_id", pa.string(), nullable=False),
        pa.field("theme_label", pa.string()),
        pa.field("level", pa.string()),  # theme | group (a roll-up of related themes)
        pa.field("segment", pa.string(), nullable=False),
        pa.field("period_start", pa.date32(), nullable=False),
        pa.field("count", pa.int64()),
        pa.field("unique_accounts", pa.int64()),
        pa.field("weighted_score", pa.float64()),
        pa.field("effective_n", pa.float64()),
        pa.field("score_low", pa.float64()),
        pa.field("score_high", pa.float64()),
        pa.field("share", pa.float64()),  # of the segment's items in this period
        pa.field("weighted_share", pa.float64()),  # of the segment's weighted voice in this period
        pa.field("baseline_share", pa.float64()),  # count share over the baseline periods
        pa.field("weighted_baseline_share", pa.float64()),
        pa.field("window_count", pa.int64()),  # items in the window ending with this period
        pa.field("window_accounts", pa.int64()),  # distinct accounts among them
        pa.field("change", pa.float64()),  # weighted window share minus weighted baseline
        pa.field("p_value", pa.float64()),
        pa.field("q_value", pa.float64()),
        pa.field("flag", pa.string()),  # emerging | rising | fading | null
        pa.field("policy_version", pa.string(), nullable=False),
    ],
    metadata={"chorus.dataset": "trends", "chorus.schema_version": str(TRENDS_SCHEMA_VERSION)},
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("item_index", pa.int64(), nullable=False),
        pa.field("source_id", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("payload", pa.string()),  # the raw item as JSON (restricted, like raw/)
        pa.field("quarantined_at", _UTC, nullable=False),
    ],
    metadata={"chorus.dataset": "quarantine", "chorus.schema_version": "1"},
)

EMBEDDING_CACHE_SCHEMA = pa.schema(
    [
        pa.field("text_hash", pa.string(), nullable=False),
        pa.field("embedding", pa.list_(pa.float32(), EMBEDDING_DIM), nullable=False),
    ],
    metadata={"chorus.dataset": "embedding_cache", "chorus.schema_version": "1"},
)
