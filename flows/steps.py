"""The processing step as plain functions: raw batches in, canonical, redacted, embedded rows out.

Prefect tasks call these; tests call them directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.common.base import ParseError
from connectors.common.registry import build_connector
from flows.lake.store import Lake, RawBatch
from flows.runtime.config import ChorusConfig
from schemas.feedback import EMBEDDING_DIM, FEEDBACK_SCHEMA, FEEDBACK_SCHEMA_VERSION, SOURCE_KINDS
from transforms import classify, ids
from transforms.embed import Embedder, embeddings_for
from transforms.normalize import detected_languages, normalized_text
from transforms.redact import redacted

MAX_TEXT_CHARS = 200_000
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class ProcessStats:
    batches: int = 0
    landed: int = 0  # items in the raw batches
    rows: int = 0  # canonical rows accepted, quality checks included (an item may give several)
    written: int = 0  # rows inserted or updated in feedback/
    unchanged: int = 0
    stale: int = 0
    superseded: int = 0  # older versions of an item delivered in the same run
    quarantined: int = 0  # rows or items refused, by the parser, row_problems or the quality suites
    quality_quarantined: int = 0  # of quarantined: refused by the Great Expectations suites
    embedded: int = 0  # texts sent to the model (cache misses)
    expanded: int = 0  # rows beyond one per item (a developer reply, a conversation rating)
    skipped: int = 0  # items that give no row and no error: system events, bot messages
    per_source: dict[str, dict[str, int]] = field(default_factory=dict)

    def count_items(self, n_items: int, good: list[dict], bad: list[dict]) -> None:
        """Count one batch's items: how many gave no row, how many rows beyond the first."""
        gave = {r["_item"] for r in good} | {q["item_index"] for q in bad}
        self.landed += n_items
        self.skipped += n_items - len(gave)
        self.expanded += len(good) + len(bad) - len(gave)

    def reconciliation_problem(self) -> str | None:
        """None when landed + extra rows = written + unchanged + stale + superseded +
        quarantined + not feedback (each item counted once); else a message naming the counts."""
        stored = self.written + self.unchanged + self.stale + self.superseded
        lhs, rhs = self.landed + self.expanded, stored + self.quarantined + self.skipped
        if lhs == rhs and stored == self.rows:
            return None
        return (
            f"counts do not reconcile: {self.landed} landed + {self.expanded} extra rows = {lhs}, "
            f"but {self.written} written + {self.unchanged} unchanged + {self.stale} stale + "
            f"{self.superseded} superseded + {self.quarantined} quarantined + {self.skipped} not "
            f"feedback = {rhs} (rows accepted {self.rows}, accounted by the upsert {stored})"
        )


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


def _quarantine_row(
    source: str, batch_id: str, index: int, item: Any, reason: str, now: datetime
) -> dict[str, Any]:
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
    cfg: ChorusConfig, batch: RawBatch, doc: dict[str, Any], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(clean canonical rows, quarantine rows) for one raw batch; one bad item never stops the rest."""
    connector = build_connector(cfg.source(batch.source), resolve_path=cfg.resolve)
    good, bad = [], []
    cached = lru_cache(maxsize=None)(normalized_text)  # a survey's question heads every answer

    def clean(value: Any) -> str:
        return cached(value) if type(value) is str else normalized_text(value)

    for i, item in enumerate(doc.get("items", [])):
        try:
            rows = connector.parse(item)
        except ParseError as exc:
            bad.append(_quarantine_row(batch.source, batch.batch_id, i, item, f"parse: {exc}", now))
            continue
        except (
            Exception
        ) as exc:  # a connector bug must not sink the batch: quarantine with the cause
            bad.append(
                _quarantine_row(
                    batch.source,
                    batch.batch_id,
                    i,
                    item,
                    f"parse: unexpected {type(exc).__name__}: {exc}",
                    now,
                )
            )
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
                bad.append(
                    _quarantine_row(
                        batch.source,
                        batch.batch_id,
                        i,
                        item,
                        "invalid: " + "; ".join(problems),
                        now,
                    )
                )
            else:
                row["_batch"] = batch.batch_id
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
    cfg: ChorusConfig,
    key: bytes,
    now: datetime,
    domain_accounts: dict[str, str] | None = None,
) -> tuple[pa.Table, list[str]]:
    """Redacted, pseudonymised, classified rows as a feedback table (embedding still empty), and texts to embed.

    A row without an account gets the one its author's e-mail domain names in the customers
    table (`domains` column), so beta testers and survey respondents count for their company.
    Built column by column (languages detected in one batch, pseudonyms computed once per
    distinct value): about twice as fast as a table of row dicts.
    """
    domain_accounts = domain_accounts or {}
    internal_domains = {d.lower() for d in cfg.internal_domains}
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
        internal = bool(row.get("is_internal")) or (domain in internal_domains if domain else False)
        internals.append(internal)
        account = row.get("account_id") or (None if internal else domain_accounts.get(domain or ""))
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


def with_embeddings(
    table: pa.Table,
    texts: list[str],
    lake: Lake,
    embedder: Embedder,
    progress: Callable[[int], None] | None = None,
) -> tuple[pa.Table, int]:
    """Fill `embedding` for rows with text, reusing the cache by text hash; returns (table, texts embedded)."""
    hashes = table["text_hash"].to_pylist()
    has_text = [bool(t.strip()) for t in texts]
    want = {h for h, ok in zip(hashes, has_text, strict=True) if ok}
    cached = lake.cached_embeddings(embedder.cache_key, want)  # per model and backend
    sel = [i for i, ok in enumerate(has_text) if ok]
    vectors, fresh = embeddings_for(
        [hashes[i] for i in sel], [texts[i] for i in sel], cached, embedder, progress
    )
    if fresh:
        fh = sorted(fresh)
        mat = np.stack([fresh[h] for h in fh]).astype(np.float32)
        lake.add_embeddings(
            embedder.cache_key,
            pa.table(
                {
                    "text_hash": fh,
                    "embedding": pa.FixedSizeListArray.from_arrays(
                        pa.array(mat.ravel()), EMBEDDING_DIM
                    ),
                }
            ),
        )
    full = np.zeros((table.num_rows, EMBEDDING_DIM), dtype=np.float32)
    if sel:
        full[sel] = vectors
    missing = pa.array([not ok for ok in has_text], pa.bool_())
    # rows without text get a null embedding, built without a round trip through Python lists
    emb = pa.FixedSizeListArray.from_arrays(pa.array(full.ravel()), EMBEDDING_DIM, mask=missing)
    models = pa.array([embedder.model if ok else None for ok in has_text], pa.string())
    return _with_columns(table, embedding=emb, embedding_model=models), len(fresh)


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


def domain_accounts(cfg: ChorusConfig) -> dict[str, str]:
    """e-mail domain -> account id from the configured customers table (empty without one)."""
    if cfg.customers is None:
        return {}
    from transforms.segments import accounts_by_domain, read_customers

    return accounts_by_domain(read_customers(cfg.resolve(cfg.customers.path), cfg.customers.format))
