"""Canonical rows and the feedback table, as plain functions: no lake, no config, no Prefect."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.common.base import ParseError
from schemas.feedback import EMBEDDING_DIM, FEEDBACK_SCHEMA
from transforms.canonical import (
    canonical_rows,
    enriched_table,
    row_problems,
    utf8_safe,
    with_embedding_vectors,
    with_null_embeddings,
    without_embeddings,
)

NOW = datetime(2026, 10, 10, tzinfo=UTC)


def _parse(item: dict[str, Any]) -> list[dict[str, Any]]:
    if item.get("bad"):
        raise ParseError("no created date")
    if item.get("bug"):
        raise KeyError("body")
    return [
        {
            "source": "tickets",
            "source_kind": "support",
            "source_id": item["id"],
            "created_at": item.get("at", datetime(2026, 10, 1, tzinfo=UTC)),
            "title": item.get("title"),
            "text": item.get("text", ""),
            "customer_id": item.get("email"),
            "rating": item.get("rating"),
        }
    ]


def test_each_item_becomes_rows_or_a_quarantine_row_with_its_reason() -> None:
    items = [
        {"id": "1", "text": "<p>Export fails</p>", "email": "ann@customer.example"},
        {"id": "2", "bad": True},
        {"id": "3", "bug": True},
        {"id": "4", "text": "", "title": None},
        {"id": "5", "text": "From the future", "at": datetime(2030, 1, 1, tzinfo=UTC)},
        {"id": "6", "text": "half a surrogate \ud83d here"},
    ]
    good, bad = canonical_rows(items, _parse, "tickets", "b-1", NOW)
    assert [(r["source_id"], r["_batch"], r["_item"]) for r in good] == [
        ("1", "b-1", 0),
        ("6", "b-1", 5),
    ]
    assert good[0]["text"] == "Export fails"  # normalised
    assert good[1]["text"] == "half a surrogate \ufffd here"
    reasons = {q["item_index"]: q["reason"] for q in bad}
    assert reasons[1] == "parse: no created date"
    assert reasons[2] == "parse: unexpected KeyError: 'body'"
    assert reasons[3] == "invalid: empty: no text, no title and no score"
    assert reasons[4].startswith("invalid: created_at 2030-01-01") and "implausible" in reasons[4]
    assert {q["source_id"] for q in bad} == {"2", "3", "4", "5"}
    assert all(q["batch_id"] == "b-1" and q["quarantined_at"] == NOW for q in bad)
    assert items[0]["text"] == "<p>Export fails</p>"  # the items are left as they were


def test_row_problems_name_every_problem() -> None:
    row = {"source_id": "", "source_kind": "fax", "text": "x", "rating": 1.5}
    assert row_problems(row, NOW) == [
        "source_id is empty",
        "source_kind 'fax' is not one of ['support', 'review', 'survey', 'beta', 'internal', 'notes']",
        "created_at is missing",
        "rating 1.5 is outside [0, 1] after normalisation",
    ]


def test_utf8_safe_replaces_lone_surrogates_only() -> None:
    assert utf8_safe(["ok \ud800", 3, None]) == ["ok \ufffd", 3, None]
    assert utf8_safe("emoji 😡 stays") == "emoji 😡 stays"


def test_enriched_table_pseudonymises_redacts_and_finds_accounts_by_domain() -> None:
    good, _ = canonical_rows(
        [
            {
                "id": "1",
                "text": "Write to me at ann@customer.example",
                "email": "ann@customer.example",
            },
            {"id": "2", "text": "Internal note on pricing", "email": "qa@ourco.example"},
        ],
        _parse,
        "tickets",
        "b-1",
        NOW,
    )
    table, texts = enriched_table(
        good, b"key", NOW, ["OURCO.example"], {"customer.example": "acc_1"}
    )
    assert table.schema == FEEDBACK_SCHEMA and len(texts) == 2
    rows = table.to_pylist()
    assert "ann@customer.example" not in rows[0]["text"] and rows[0]["pii_redactions"]
    assert rows[0]["customer_id"].startswith("cust_") and rows[0]["account_id"].startswith("acct_")
    assert rows[1]["is_internal"] and rows[1]["account_id"] is None
    assert rows[0]["embedding"] is None and rows[0]["ingested_at"] == NOW


def test_embedding_columns_are_set_dropped_and_nulled() -> None:
    good, _ = canonical_rows(
        [{"id": "1", "text": "Export fails"}, {"id": "2", "text": "", "rating": 0.5}],
        _parse,
        "tickets",
        "b-1",
        NOW,
    )
    table, _ = enriched_table(good, b"key", NOW)
    vectors = np.full((1, EMBEDDING_DIM), 0.5, dtype=np.float32)
    embedded = with_embedding_vectors(table, vectors, [True, False], "m")
    assert embedded.schema == FEEDBACK_SCHEMA
    assert embedded["embedding"].to_pylist()[0] == [0.5] * EMBEDDING_DIM
    assert embedded["embedding"].to_pylist()[1] is None
    assert embedded["embedding_model"].to_pylist() == ["m", None]
    slim = without_embeddings(embedded)
    assert "embedding" not in slim.column_names
    back = with_null_embeddings(slim)
    assert back.schema == FEEDBACK_SCHEMA and back["embedding"].null_count == 2
    assert isinstance(back, pa.Table) and table["embedding"].null_count == 2  # input unchanged
