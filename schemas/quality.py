"""Great Expectations suites for normalized rows and for the curated feedback table.

Two suites, built once per process run (`flows/processing/quality_gate.py` runs them as Checkpoints):

* ``chorus.normalized``: the canonical rows a connector parsed, before redaction and enrichment.
* ``chorus.curated``: the feedback table as it is about to be written to ``feedback/``.

Great Expectations never sees a personal value. Each suite validates a *view* of its data
(`normalized_view`, `curated_view`): timestamps, scores, codes and hashes as they are, free
text as its length, and customer or account ids as they are only when they look like
pseudonyms, otherwise as their shape (letters as ``a``, digits as ``9``: ``aaa@aaaa.aa``). So
the validation results, the Data Docs and the quarantine reasons hold shapes, never values.

Each check is ``row`` or ``batch`` scoped: a row failing a row check is quarantined on its own;
a batch check failing anywhere in a landed batch (duplicate item versions, a wrong embedding
dimension, an unknown source) rejects that whole batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.feedback import (
    EMBEDDING_DIM,
    FEEDBACK_SCHEMA_VERSION,
    FEEDBACK_TYPES,
    NORMALIZED_VIEW_FIELDS,
    SENTIMENTS,
    SOURCE_KINDS,
)
from transforms.ids import content_text

NORMALIZED_SUITE = "chorus.normalized"
CURATED_SUITE = "chorus.curated"
SUITES = (NORMALIZED_SUITE, CURATED_SUITE)

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # nothing in the product is older
FUTURE_SLACK = timedelta(days=1)  # clock skew between vendors and us
MAX_TEXT_CHARS = 200_000  # the limit transforms.canonical.row_problems applies too
MAX_SOURCE_ID_CHARS = 1_000
PSEUDONYM = {"customer_id": r"^cust_[0-9a-f]{20}$", "account_id": r"^acct_[0-9a-f]{20}$"}
LANGUAGE_CODE = r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$"  # ISO 639 ("en", "und"), optional region
FEEDBACK_ID = r"^[0-9a-f]{24}$"
MONTH = r"^\d{4}-(?:0[1-9]|1[0-2])$"
# "1-5", "0-10", "-2-2", "freshdesk:-103..103"; a label like "bad-good" has no numeric range
_SCALE = re.compile(r"^(?:[a-z_]+:)?(-?\d+(?:\.\d+)?)(?:-|\.\.)(-?\d+(?:\.\d+)?)$")
_PSEUDONYMS = {col: re.compile(p) for col, p in PSEUDONYM.items()}


@dataclass(frozen=True)
class Check:
    """One expectation: its Great Expectations class, arguments, scope and meaning in words."""

    expectation: str  # class name in great_expectations.expectations
    kwargs: dict[str, Any]
    scope: Literal["row", "batch"]
    meaning: str
    columns: tuple[str, ...] = field(default=())

    @property
    def shown_columns(self) -> tuple[str, ...]:
        """The view columns this check reads (for the observed values in a reason)."""
        if self.columns:
            return self.columns
        kw = self.kwargs
        if "column" in kw:
            return (kw["column"],)
        if "column_A" in kw:
            return (kw["column_A"], kw["column_B"])
        return tuple(kw.get("column_list", ()))


def _between(column: str, low: Any, high: Any, scope: str, meaning: str) -> Check:
    return Check(
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": low, "max_value": high},
        scope,  # type: ignore[arg-type]
        meaning,
    )


def _a_at_least_b(a: str, b: str, meaning: str) -> Check:
    return Check(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {
            "column_A": a,
            "column_B": b,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
        "row",
        meaning,
    )


def _in_set(column: str, values: Iterable[Any], scope: str, meaning: str) -> Check:
    return Check(
        "ExpectColumnValuesToBeInSet",
        {"column": column, "value_set": sorted(values)},
        scope,  # type: ignore[arg-type]
        meaning,
    )


def _regex(column: str, pattern: str, meaning: str) -> Check:
    return Check(
        "ExpectColumnValuesToMatchRegex", {"column": column, "regex": pattern}, "row", meaning
    )


def _not_null(column: str, meaning: str) -> Check:
    return Check("ExpectColumnValuesToNotBeNull", {"column": column}, "row", meaning)


def _common_checks(sources: Sequence[str], now: datetime) -> list[Check]:
    """What both suites expect: known source and kind, plausible timestamps, scores in range."""
    latest = now + FUTURE_SLACK
    return [
        _in_set("source", sources, "batch", "source is one of the configured sources"),
        _in_set("source_kind", SOURCE_KINDS, "batch", "source_kind is a known kind"),
        _not_null("created_at", "created_at is present"),
        _between(
            "created_at", EARLIEST, latest, "row", "created_at after 2000, at most a day ahead"
        ),
        _between(
            "updated_at", EARLIEST, latest, "row", "updated_at after 2000, at most a day ahead"
        ),
        _a_at_least_b("updated_at", "created_at", "updated_at is not before created_at"),
        _between("rating", 0.0, 1.0, "row", "rating normalised to 0..1"),
        _a_at_least_b("rating_raw", "rating_low", "rating_raw within its rating_scale (low end)"),
        _a_at_least_b("rating_high", "rating_raw", "rating_raw within its rating_scale (high end)"),
        _between("nps", 0, 10, "row", "nps answer 0..10"),
        _between("text_chars", 0, MAX_TEXT_CHARS, "row", f"text at most {MAX_TEXT_CHARS:,} chars"),
    ]


def normalized_checks(sources: Sequence[str], now: datetime) -> list[Check]:
    """The canonical rows' contract (before redaction, pseudonyms and embeddings)."""
    return [
        _between("source_id_chars", 1, MAX_SOURCE_ID_CHARS, "row", "source_id present and bounded"),
        *_common_checks(sources, now),
        _in_set(
            "has_content",
            [True],
            "row",
            "text present: some text, a title or a score (an empty item says nothing)",
        ),
    ]


def curated_checks(sources: Sequence[str], now: datetime) -> list[Check]:
    """The feedback table's contract, as written to feedback/."""
    return [
        _not_null("feedback_id", "feedback_id is present"),
        _regex("feedback_id", FEEDBACK_ID, "feedback_id is a 24-hex-digit hash"),
        Check(
            "ExpectColumnValuesToBeUnique",
            {"column": "item_version"},
            "batch",
            "ids unique: one row per item version (feedback_id, updated_at), exact repeats aside",
            ("feedback_id", "updated_at"),
        ),
        *_common_checks(sources, now),
        _between("ingested_at", EARLIEST, now + FUTURE_SLACK, "row", "ingested_at is this run"),
        _not_null("text_chars", "text present (an empty string for score-only items)"),
        _regex("language", LANGUAGE_CODE, "language is an ISO 639 code ('und' when unknown)"),
        _in_set("feedback_type", FEEDBACK_TYPES, "row", "feedback_type is a known type"),
        _in_set("sentiment", SENTIMENTS, "row", "sentiment is negative, neutral or positive"),
        _regex("customer_id", PSEUDONYM["customer_id"], "customer_id is a pseudonym (no e-mail)"),
        _regex("account_id", PSEUDONYM["account_id"], "account_id is a pseudonym (no e-mail)"),
        _in_set(
            "embedding_dim",
            [EMBEDDING_DIM],
            "batch",
            f"embedding has {EMBEDDING_DIM} dimensions for every row with text",
        ),
        _in_set("schema_version", [FEEDBACK_SCHEMA_VERSION], "batch", "current schema_version"),
        _regex("created_month", MONTH, "created_month is YYYY-MM"),
    ]


def suite_checks(sources: Sequence[str], now: datetime) -> dict[str, list[Check]]:
    return {
        NORMALIZED_SUITE: normalized_checks(sources, now),
        CURATED_SUITE: curated_checks(sources, now),
    }


def build_suite(name: str, checks: Sequence[Check]) -> Any:
    """A great_expectations ExpectationSuite (imported here: the library takes seconds to load)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(
        name=name,
        meta={"notes": {"format": "markdown", "content": [__doc__.split("\n\n")[2]]}},
    )
    for i, check in enumerate(checks):
        cls = getattr(gxe, check.expectation)
        meta = {"scope": check.scope, "check": i}
        suite.add_expectation(cls(**check.kwargs, notes=check.meaning, meta=meta))
    return suite


# ---- the views Great Expectations validates --------------------------------------------


def value_shape(value: Any, limit: int = 40) -> str:
    """A value's shape without its content: letters as a/A, digits as 9, the rest kept."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "null"
    text = str(value)
    out = "".join(
        "9" if c.isdigit() else ("A" if c.isupper() else "a") if c.isalpha() else
        (c if c.isascii() and c.isprintable() else "?")
        for c in text[:limit]
    )  # fmt: skip
    return out + (f"… ({len(text):,} chars)" if len(text) > limit else "")


def _scale_bounds(scales: Iterable[Any]) -> tuple[list[float], list[float]]:
    lows, highs = [], []
    for scale in scales:
        m = _SCALE.match(scale.strip()) if isinstance(scale, str) else None
        lo, hi = (float(m.group(1)), float(m.group(2))) if m else (np.nan, np.nan)
        lows.append(lo)
        highs.append(hi)
    return lows, highs


def _timestamps(values: Iterable[Any]) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True, errors="coerce")).astype(
        "datetime64[us, UTC]"
    )


def _floats(values: Iterable[Any]) -> pd.Series:
    return pd.Series(
        [np.nan if v is None or isinstance(v, bool) else v for v in values], dtype="float64"
    )


def _chars(values: Iterable[Any]) -> pd.Series:
    return _floats(len(v) if isinstance(v, str) else None for v in values)


def _common_view(cols: dict[str, list[Any]]) -> dict[str, pd.Series]:
    lows, highs = _scale_bounds(cols["rating_scale"])
    return {
        "source": pd.Series(cols["source"], dtype="object"),
        "source_kind": pd.Series(cols["source_kind"], dtype="object"),
        "created_at": _timestamps(cols["created_at"]),
        "updated_at": _timestamps(cols["updated_at"]),
        "rating": _floats(cols["rating"]),
        "rating_raw": _floats(cols["rating_raw"]),
        "rating_low": pd.Series(lows, dtype="float64"),
        "rating_high": pd.Series(highs, dtype="float64"),
        "nps": _floats(cols["nps"]),
        "text_chars": _chars(cols["text"]),
    }


_COMMON = ("source", "source_kind", "created_at", "updated_at", "rating", "rating_raw")
_COMMON += ("rating_scale", "nps", "text")
assert set(NORMALIZED_VIEW_FIELDS) == {*_COMMON, "source_id", "title"}  # kept in step


def normalized_view(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Canonical row dicts as the normalized suite sees them (no personal values)."""
    cols = {c: [r.get(c) for r in rows] for c in _COMMON}
    view = _common_view(cols)
    view["source_id_chars"] = _chars(
        None if r.get("source_id") in (None, "") else str(r["source_id"]) for r in rows
    )
    view["has_content"] = pd.Series(
        [
            bool((r.get("text") or "").strip() or (r.get("title") or "").strip())
            or r.get("rating") is not None
            or r.get("nps") is not None
            for r in rows
        ],
        dtype="object",
    )
    return pd.DataFrame(view)


def _pseudonym_or_shape(values: Iterable[Any], column: str) -> pd.Series:
    pattern = _PSEUDONYMS[column]
    return pd.Series(
        [
            None if v is None else v if pattern.match(v) else value_shape(v, limit=60)
            for v in values
        ],
        dtype="object",
    )


def curated_view(table: pa.Table) -> pd.DataFrame:
    """The feedback table as the curated suite sees it (no personal values, no vectors)."""
    plain = ("feedback_id", "language", "feedback_type", "sentiment", "created_month")
    cols = {c: table[c].to_pylist() for c in (*_COMMON, *plain, "title", "text_hash")}
    view = _common_view(cols)
    for c in plain:
        view[c] = pd.Series(cols[c], dtype="object")
    view["ingested_at"] = _timestamps(table["ingested_at"].to_pylist())
    view["schema_version"] = _floats(table["schema_version"].to_pylist())
    for c in PSEUDONYM:
        view[c] = _pseudonym_or_shape(table[c].to_pylist(), c)
    has_text = [
        bool(content_text(title, text or "", kind).strip())
        for title, text, kind in zip(cols["title"], cols["text"], cols["source_kind"], strict=True)
    ]
    dims = pc.fill_null(pc.list_value_length(table["embedding"]), 0).to_pylist()
    view["embedding_dim"] = _floats(d if t else None for d, t in zip(dims, has_text, strict=True))
    frame = pd.DataFrame(view)
    # an exact repeat (same item, version and content) is harmless; only conflicts count
    repeat = pd.DataFrame(
        {
            "id": cols["feedback_id"],
            "at": view["updated_at"],
            "hash": cols["text_hash"],
            "raw": view["rating_raw"],
            "nps": view["nps"],
        }
    ).duplicated(keep="first")
    version = frame["feedback_id"].astype(str) + "@" + frame["updated_at"].astype(str)
    frame["item_version"] = version.astype("object").where(~repeat.to_numpy(), None)
    return frame
