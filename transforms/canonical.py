"""Canonical feedback rows and the feedback table built from them: raw items in, checked,
redacted, pseudonymised, classified rows out (no I/O: the flow reads and writes the lake).

`canonical_rows` turns one batch's items into canonical rows (and quarantine rows for what
cannot be stored), `enriched_table` turns canonical rows into a feedback table whose embedding
is filled in by `with_embedding_vectors` once the vectors are known.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.common.base import ParseError
from schemas.feedback import EMBEDDING_DIM, FEEDBACK_SCHEMA, FEEDBACK_SCHEMA_VERSION, SOURCE_KINDS
from transforms import classify, ids
from transforms.normalize import detected_languages, normalized_text
from transforms.redact import redacted

MAX_TEXT_CHARS = 200_000
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def row_problems(row: dict[str, Any], now: datetime) -> list[str]:
    """Why a canonical row cannot be stored (empty list when it can)."""
    out = []
    if not row.get("source_id"):
        out.append("source_id is empty")
    if row.get("source_kind") not in SOURCE_KINDS:
        out.append(f"source_kind {row.get('source_kind')!r} is not one of {list(SOURCE_KINDS)}")
    created = row.get("created_at")
    if not isinstance(created, datetime):
        out.append("created_at is missing")
    elif not _EARLIEST <= created <= now + timedelta(days=1):
        out.append(
            f"created_at {created.isoformat()} is implausible (before 2000 or in the future)"
        )
    text, title = row.get("text") or "", row.get("title") or ""
    if not isinstance(text, str) or not isinstance(title, str):
        out.append("text and title must be strings")
    elif len(text) > MAX_TEXT_CHARS:
        out.append(f"text is {len(text):,} characters, above the {MAX_TEXT_CHARS:,} limit")
    elif (
        not text.strip()
        and not title.strip()
        and row.get("rating") is None
        and row.get("nps") is None
    ):
        out.append("empty: no text, no title and no score")
    rating = row.get("rating")
    if rating is not None and not 0.0 <= rating <= 1.0:
        out.append(f"rating {rating!r} is outside [0, 1] after normalisation")
    return out


def utf8_safe(value: Any) -> Any:
    """A string (or list of them) that UTF-8 can hold: a lone surrogate, as JSON's "\\ud800"
    decodes to, becomes U+FFFD instead of crashing Arrow, hashing and Parquet downstream."""
    if isinstance(value, list):
        return [utf8_safe(v) for v in value]
    if not isinstance(value, str):
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def quarantine_row(
    source: str, batch_id: str, index: int, item: Any, reason: str, now: datetime
) -> dict[str, Any]:
    """The quarantine/ row of one refused item: where it came from, why, and the item itself."""
    source_id = None
    if isinstance(item, dict):
        source_id = utf8_safe(str(item.get("source_id") or item.get("id") or "")) or None
    return {
        "source": source,
        "batch_id": batch_id,
        "item_index": index,
        "source_id": source_id,
        "reason": reason,
        "payload": json.dumps(item, default=str)[:1_000_000],
        "quarantined_at": now,
    }


def canonical_rows(
    items: Sequence[Any],
    parse: Callable[[Any], list[dict[str, Any]]],
    source: str,
    batch_id: str,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(clean canonical rows, quarantine rows) for one raw batch's items, each parsed by `parse`
    (the source's connector); one bad item never stops the rest."""
    good, bad = [], []
    cached = lru_cache(maxsize=None)(normalized_text)  # a survey's question heads every answer

    def clean(value: Any) -> str:
        return cached(value) if type(value) is str else normalized_text(value)

    for i, item in enumerate(items):
        try:
            rows = parse(item)
        except ParseError as exc:
            bad.append(quarantine_row(source, batch_id, i, item, f"parse: {exc}", now))
            continue
        # a connector bug must not sink the batch: quarantine the item with the cause
        except Exception as exc:
            reason = f"parse: unexpected {type(exc).__name__}: {exc}"
            bad.append(quarantine_row(source, batch_id, i, item, reason, now))
            continue
        for row in rows:
            for k, v in row.items():  # ASCII strings (most) are UTF-8 safe as they are
                if (type(v) is str and not v.isascii()) or type(v) is list:
                    row[k] = utf8_safe(v)
            row["text"] = clean(row.get("text") or "")
            title = row.get("title")
            row["title"] = (clean(title) or None) if title else None
            problems = row_problems(row, now)
            if problems:
                reason = "invalid: " + "; ".join(problems)
                bad.append(quarantine_row(source, batch_id, i, item, reason, now))
            else:
                row["_batch"] = batch_id
                row["_item"] = i  # the raw item, for the quality gate's quarantine payload
                good.append(row)
    return good, bad


# feedback columns a canonical row may carry as they are (the rest are computed here)
_COMPUTED = {
    "feedback_id",
    "account_id",
    "customer_id",
    "title",
    "text",
    "is_internal",
    "updated_at",
    "ingested_at",
    "language",
    "feedback_type",
    "sentiment",
    "text_hash",
    "pii_redactions",
    "embedding",
    "embedding_model",
    "schema_version",
    "created_month",
}
_PASSED = [name for name in FEEDBACK_SCHEMA.names if name not in _COMPUTED]


def enriched_table(
    rows: list[dict[str, Any]],
    key: bytes,
    now: datetime,
    internal_domains: Sequence[str] = (),
    domain_accounts: dict[str, str] | None = None,
) -> tuple[pa.Table, list[str]]:
    """Redacted, pseudonymised, classified rows as a feedback table (embedding still empty), and texts to embed.

    A row without an account gets the one its author's e-mail domain names in the customers
    table (`domain_accounts`), so beta testers and survey respondents count for their company;
    authors from `internal_domains` are internal. Built column by column (languages detected in
    one batch, pseudonyms computed once per distinct value): about twice as fast as a table of
    row dicts.
    """
    domain_accounts = domain_accounts or {}
    internal = {d.lower() for d in internal_domains}
    cols: dict[str, list[Any]] = {name: [r.get(name) for r in rows] for name in _PASSED}
    titles, texts, fulls, kinds, internals, accounts, customers = [], [], [], [], [], [], []
    # once per distinct value in this call: customers write many times, a survey's question
    # comes with every answer
    pseudonym = lru_cache(maxsize=None)(partial(ids.pseudonym, key=key))
    redact = lru_cache(maxsize=None)(redacted)

    for row in rows:
        title = redact(row["title"]) if row.get("title") else None
        body = redact(row["text"])
        titles.append(title.text if title else None)
        texts.append(body.text)
        fulls.append(
            ids.content_text(title.text if title else None, body.text, row.get("source_kind"))
        )
        kinds.append(list((title.kinds if title else ()) + body.kinds))
        customer = row.get("customer_id")
        domain = ids.email_domain(customer)
        is_internal = bool(row.get("is_internal")) or (domain in internal if domain else False)
        internals.append(is_internal)
        account = row.get("account_id") or (
            None if is_internal else domain_accounts.get(domain or "")
        )
        accounts.append(pseudonym(account, prefix="acct"))
        customers.append(pseudonym(customer, prefix="cust"))
    created = cols["created_at"]
    unique = list(dict.fromkeys(fulls))  # each distinct text classified once
    language = dict(zip(unique, detected_languages(unique), strict=True))
    feedback_type = {f: classify.feedback_type(f) if f.strip() else "other" for f in unique}
    unscored = (  # rows without a score of their own: their words decide
        f
        for f, r in zip(fulls, rows, strict=True)
        if r.get("rating") is None and r.get("nps") is None
    )
    text_sentiment = {f: classify.sentiment(f) for f in dict.fromkeys(unscored)}
    cols.update(
        feedback_id=[ids.feedback_id(r["source"], r["source_id"]) for r in rows],
        account_id=accounts,
        customer_id=customers,
        title=titles,
        text=texts,
        is_internal=internals,
        updated_at=[r.get("updated_at") or c for r, c in zip(rows, created, strict=True)],
        ingested_at=[now] * len(rows),
        language=[language[f] for f in fulls],
        feedback_type=[feedback_type[f] for f in fulls],
        sentiment=[
            classify.sentiment(f, r.get("rating"), r.get("nps"))
            if r.get("rating") is not None or r.get("nps") is not None
            else text_sentiment[f]
            for f, r in zip(fulls, rows, strict=True)
        ],
        text_hash=[ids.text_hash(f) for f in fulls],
        pii_redactions=kinds,
        embedding=[None] * len(rows),
        embedding_model=[None] * len(rows),
        schema_version=[FEEDBACK_SCHEMA_VERSION] * len(rows),
        created_month=[f"{c.year:04d}-{c.month:02d}" for c in created],
    )
    return pa.Table.from_pydict(cols, schema=FEEDBACK_SCHEMA), fulls


def with_embedding_vectors(
    table: pa.Table, vectors: np.ndarray, has_text: Sequence[bool], model: str
) -> pa.Table:
    """The table with `embedding` and `embedding_model` set: `vectors` holds one row per row
    with text, in order; rows without text get nulls."""
    full = np.zeros((table.num_rows, EMBEDDING_DIM), dtype=np.float32)
    sel = [i for i, ok in enumerate(has_text) if ok]
    if sel:
        full[sel] = vectors
    missing = pa.array([not ok for ok in has_text], pa.bool_())
    # rows without text get a null embedding, built without a round trip through Python lists
    emb = pa.FixedSizeListArray.from_arrays(pa.array(full.ravel()), EMBEDDING_DIM, mask=missing)
    models = pa.array([model if ok else None for ok in has_text], pa.string())
    return _with_columns(table, embedding=emb, embedding_model=models)


def embedding_cache_rows(vectors: dict[str, np.ndarray]) -> pa.Table:
    """Vectors by text hash as rows of the lake's embedding cache, in hash order."""
    hashes = sorted(vectors)
    mat = np.stack([vectors[h] for h in hashes]).astype(np.float32)
    return pa.table(
        {
            "text_hash": hashes,
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(mat.ravel()), EMBEDDING_DIM),
        }
    )


_EMBEDDING_COLUMNS = ("embedding", "embedding_model")


def without_embeddings(table: pa.Table) -> pa.Table:
    """The table less its (still empty) embedding columns: an empty fixed-size list column
    still holds 384 zeros a row, 1.5 KB a row to copy between processes for nothing."""
    return table.drop_columns([c for c in _EMBEDDING_COLUMNS if c in table.column_names])


def with_null_embeddings(table: pa.Table) -> pa.Table:
    """The table with empty embedding columns (where `without_embeddings` took them away)."""
    n = table.num_rows
    return _with_columns(
        table,
        embedding=pa.nulls(n, FEEDBACK_SCHEMA.field("embedding").type),
        embedding_model=pa.nulls(n, pa.string()),
    )


def _with_columns(table: pa.Table, **columns: pa.Array) -> pa.Table:
    """`table` with these feedback columns set or added, in the feedback schema's order."""
    for name, values in columns.items():
        i = table.schema.get_field_index(name)
        field = FEEDBACK_SCHEMA.field(name)
        table = table.set_column(i, field, values) if i >= 0 else table.append_column(field, values)
    return table.select([n for n in FEEDBACK_SCHEMA.names if n in table.column_names])
