"""The canonical feedback schema: one row per feedback item, latest version."""

from __future__ import annotations

import pyarrow as pa

FEEDBACK_SCHEMA_VERSION = 1
EMBEDDING_DIM = 384

SOURCE_KINDS = ("support", "review", "survey", "beta", "internal", "notes")
FEEDBACK_TYPES = ("bug", "feature_request", "complaint", "praise", "question", "other")
SENTIMENTS = ("negative", "neutral", "positive")

_UTC = pa.timestamp("us", tz="UTC")

# Columns a connector's parser fills; the processing step adds the derived ones below.
CANONICAL_INPUT_FIELDS: tuple[pa.Field, ...] = (
    pa.field("source", pa.string(), nullable=False),
    pa.field("source_kind", pa.string(), nullable=False),
    pa.field("source_id", pa.string(), nullable=False),
    pa.field("thread_id", pa.string()),
    pa.field("account_id", pa.string()),
    pa.field("customer_id", pa.string()),
    pa.field("created_at", _UTC, nullable=False),
    pa.field("updated_at", _UTC),
    pa.field("title", pa.string()),
    pa.field("text", pa.string()),
    pa.field("rating", pa.float64()),  # normalised to [0, 1]
    pa.field("rating_raw", pa.float64()),  # as the vendor gave it
    pa.field("rating_scale", pa.string()),  # original scale, e.g. "1-5"
    pa.field("nps", pa.int8()),  # 0..10 where the vendor gives an NPS answer
    pa.field("tags", pa.list_(pa.string())),
    pa.field("url", pa.string()),
    pa.field("app_version", pa.string()),
    pa.field("is_internal", pa.bool_()),
)

FEEDBACK_SCHEMA = pa.schema(
    [
        pa.field("feedback_id", pa.string(), nullable=False),
        *CANONICAL_INPUT_FIELDS,
        pa.field("ingested_at", _UTC, nullable=False),
        pa.field("language", pa.string()),
        pa.field("feedback_type", pa.string()),
        pa.field("sentiment", pa.string()),
        pa.field("text_hash", pa.string(), nullable=False),
        pa.field("pii_redactions", pa.list_(pa.string())),  # one kind per redacted span
        pa.field("embedding", pa.list_(pa.float32(), EMBEDDING_DIM)),
        pa.field("embedding_model", pa.string()),
        pa.field("schema_version", pa.int16(), nullable=False),
        pa.field("created_month", pa.string(), nullable=False),  # hive partition key, YYYY-MM
    ],
    metadata={"chorus.dataset": "feedback", "chorus.schema_version": str(FEEDBACK_SCHEMA_VERSION)},
)

CANONICAL_INPUT_NAMES = tuple(f.name for f in CANONICAL_INPUT_FIELDS)

# the canonical-row fields the quality suite "chorus.normalized" reads (schemas/quality.py's
# normalized_view): what a parse worker sends back of each row besides the table
NORMALIZED_VIEW_FIELDS = (
    "source",
    "source_kind",
    "created_at",
    "updated_at",
    "rating",
    "rating_raw",
    "rating_scale",
    "nps",
    "text",
    "source_id",
    "title",
)
