"""Forget one customer: remove their items from every dataset of the lake, and say what went.

``forget_customer(config, customer)`` takes what a source calls the customer (an e-mail or a
vendor user id, as in the raw items) or their pseudonym (``cust_…``) and removes:

- ``raw/``: the items whose canonical rows (``flows/processing/landed_rows.py`` ``landed_rows``,
  the processing step's own code) carry that customer, and unparseable items with their id as a
  value. Batches are rewritten atomically under the same id: the processed-batch state still
  covers them (its counts reduced by what went), so a re-run does not bring them back; only
  a source delivering them again does. Another customer's item that mentions the forgotten
  e-mail address stays, the address replaced by "[EMAIL]" (raw/ and quarantine/);
- ``feedback/`` rows with the pseudonym or from the removed items; their ``assignments/``
  rows and the themes' representative quotes; their ``quarantine/`` rows (the others follow
  their item's new index); ``_cache/embeddings`` vectors no remaining row uses.

Trends are aggregates without ids: they and the reports count the customer until the next
report run; every report file that quotes them is named ("re-run the report"). A dry run
writes nothing; a real one logs its result to ``_state/forget/<timestamp>.json`` with the
pseudonym, never the raw id. The process lock is held throughout and the feedback lock while
feedback/ is rewritten (the processing step's order).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from connectors.common.registry import build_connector
from flows.lake.store import Lake, RawBatch
from flows.processing.landed_rows import landed_rows
from flows.runtime.config import ChorusConfig, config_and_lake, pseudonym_key
from transforms import ids
from transforms.canonical import enriched_table

PSEUDONYM = re.compile(r"cust_[0-9a-f]{20}")
DATASETS = ("raw", "feedback", "quarantine", "assignments", "theme_quotes", "embedding_cache")
_REPORT_SUFFIXES = (".html", ".md", ".json", ".txt", ".csv")
_OWN_FILES = ("_state/forget/", "_locks/")  # the forget log names the pseudonym on purpose
Count = Callable[[str, str, int], None]


class _Target:
    """Who is forgotten: the pseudonym, and the raw ids known for them (given or learned)."""

    def __init__(self, customer: str, key: bytes) -> None:
        given = customer.strip()
        self.key = key
        self.pseudonym = given if PSEUDONYM.fullmatch(given) else ids.pseudonym(given, key, "cust")
        self.raw_ids: set[str] = set() if PSEUDONYM.fullmatch(given) else {given.lower()}

    def owns(self, rows: list[dict[str, Any]]) -> bool:
        raw = {str(r["customer_id"]) for r in rows if r.get("customer_id") not in (None, "")}
        mine = {r for r in raw if ids.pseudonym(r, self.key, "cust") == self.pseudonym}
        self.raw_ids |= {r.strip().lower() for r in mine}
        return bool(mine)

    @property
    def emails(self) -> list[str]:
        return sorted(r for r in self.raw_ids if "@" in r)


def forget_customer(config_path: str, customer: str, dry_run: bool = False) -> dict[str, Any]:
    """Remove one customer from the lake (see the module doc); what was removed, by dataset
    and by source. ``dry_run``: the same counts, nothing changed."""
    if not customer or not customer.strip():
        raise ValueError("--customer: give an e-mail, a vendor user id or a cust_ pseudonym")
    cfg, lake = config_and_lake(config_path)
    target = _Target(customer, pseudonym_key(cfg))
    now = datetime.now(UTC)
    with nullcontext() if dry_run else lake.lock("process"):
        result = _forget(cfg, lake, target, now, dry_run)
    if not dry_run:
        lake.write_state(f"forget/{now.strftime('%Y%m%dT%H%M%S%fZ')}", result)
    return result


def _forget(
    cfg: ChorusConfig, lake: Lake, target: _Target, now: datetime, dry_run: bool
) -> dict[str, Any]:
    per_source: dict[str, Counter[str]] = {}
    removed: Counter[str] = Counter()
    scrubbed: Counter[str] = Counter()

    def count(source: str, dataset: str, n: int) -> None:
        removed[dataset] += n
        per_source.setdefault(source, Counter())[dataset] += n

    # 1. raw items: who sent each (the processing step's canonical rows), then which go;
    # only the batches that change are kept in memory, read a second time
    plans = [_RawPlan(cfg, b, lake.read_raw(b), target, now) for b in lake.raw_batches()]
    for plan in plans:
        plan.decide(lake, target)
    gone_ids = {fid for plan in plans for fid in plan.feedback_ids}
    hashes = {h for plan in plans for h in plan.hashes}

    # 2. feedback rows (under the feedback lock), assignments, theme quotes
    with nullcontext() if dry_run else lake.lock("feedback"):
        gone_rows = _forget_feedback(lake, target, gone_ids, dry_run, count)
    gone_ids |= set(gone_rows["feedback_id"])
    hashes |= {h for h in gone_rows["text_hash"] if h}
    removed["assignments"] += _forget_assignments(lake, gone_ids, dry_run)
    themes_touched, removed["theme_quotes"] = _forget_theme_quotes(lake, gone_ids, dry_run)

    # 3. quarantine rows of the removed items, then the raw batches themselves
    _forget_quarantine(lake, plans, target, dry_run, count, scrubbed)
    for plan in plans:
        if plan.removed:
            count(plan.batch.source, "raw", len(plan.removed))
        scrubbed["raw"] += plan.scrubbed
        if plan.kept is not None and not dry_run:
            lake.rewrite_raw(plan.batch, {**plan.doc, "items": plan.kept})
            _update_process_state(lake, plan)

    # 4. embedding cache: vectors no remaining row needs
    removed["embedding_cache"] += _forget_embeddings(lake, hashes, gone_ids, dry_run)

    needles = _needles(target, gone_rows)
    result = {
        "customer": target.pseudonym,
        "at": now.isoformat(),
        "dry_run": dry_run,
        "removed": {d: removed[d] for d in DATASETS},
        "per_source": {s: dict(sorted(c.items())) for s, c in sorted(per_source.items())},
        "scrubbed_mentions": {"raw": scrubbed["raw"], "quarantine": scrubbed["quarantine"]},
        "batches_rewritten": sum(p.kept is not None for p in plans),
        "themes_touched": themes_touched,
        "reports_to_rerun": _files_mentioning(cfg.reports_dir, needles),
        "still_mentioned": []  # state and other text files of a local lake
        if dry_run or not lake.local
        else _files_mentioning(lake.root, needles, _OWN_FILES),
    }
    result["rerun_report"] = bool(sum(removed.values()) or result["reports_to_rerun"])
    return result


def _dump(item: Any) -> str:
    """An item as quarantine/ keeps it in ``payload``."""
    return json.dumps(item, default=str)[:1_000_000]


class _RawPlan:
    """One raw batch: which items the customer sent (first pass, over every batch), then
    which items go and what the others become (second pass, only batches that change)."""

    def __init__(
        self,
        cfg: ChorusConfig,
        batch: RawBatch,
        doc: dict[str, Any],
        target: _Target,
        now: datetime,
    ) -> None:
        self.batch = batch
        items = doc.get("items", [])
        rows = _item_rows(cfg, batch, items, now)
        self.owned = {i for i, r in enumerate(rows) if r and target.owns(r)}
        self.unparsed = {i for i, r in enumerate(rows) if r is None}
        valid = [[r for r in rs or [] if r.pop("_valid", False)] for rs in rows]
        self.good_rows = {i: len(valid[i]) for i in self.owned}  # what processing stored
        self.feedback_ids = {
            ids.feedback_id(batch.source, str(r["source_id"]))
            for i in self.owned
            for r in rows[i] or []
            if r.get("source_id")
        }
        mine = [r for i in sorted(self.owned) for r in valid[i]]  # every version it holds
        self.hashes = (
            set(enriched_table(mine, target.key, now)[0]["text_hash"].to_pylist())
            if mine
            else set()
        )
        self.removed: list[int] = []
        self.scrubbed = 0
        self.doc: dict[str, Any] = {}
        self.kept: list[Any] | None = None  # the rewritten items, when the batch changes
        self.removed_dumps: set[str] = set()
        self.new_index: dict[str, int] = {}  # payload of a staying item -> its new index
        self.quarantine_removed = 0  # rows of the removed items in quarantine/
        self.quality_removed = 0  # of which the quality suites refused

    def decide(self, lake: Lake, target: _Target) -> None:
        if not (self.owned or self.unparsed and target.raw_ids or target.emails):
            return
        doc = lake.read_raw(self.batch)
        items = doc.get("items", [])
        gone = self.owned | {i for i in self.unparsed if _has_value(items[i], target.raw_ids)}
        kept = []
        for i, item in enumerate(items):
            if i in gone:
                self.removed_dumps.add(_dump(item))
                continue
            self.new_index.setdefault(_dump(item), len(kept))
            item, n = _scrubbed(item, target.emails)
            self.scrubbed += n
            kept.append(item)
        self.removed = sorted(gone)
        if gone or self.scrubbed:
            self.doc, self.kept = doc, kept


def _item_rows(
    cfg: ChorusConfig, batch: RawBatch, items: list[Any], now: datetime
) -> list[list[dict[str, Any]] | None]:
    """The canonical rows of each item as the processing step makes them (``_valid``: they
    passed its checks); the connector's rows for items it refused; None where unparseable."""
    try:
        good, _ = landed_rows(cfg, batch, {"items": items}, now)
    except Exception:  # a source no longer configured: only raw values can tell
        return [None] * len(items)
    per: list[list[dict[str, Any]] | None] = [[] for _ in items]
    if all(isinstance(r.get("_item"), int) for r in good):
        for row in good:
            per[row["_item"]].append({**row, "_valid": True})  # type: ignore[union-attr]
    else:
        for i, item in enumerate(items):
            rows, _ = landed_rows(cfg, batch, {"items": [item]}, now)
            per[i] = [{**r, "_valid": True} for r in rows]
    connector = None
    for i, rows in enumerate(per):
        if rows:
            continue
        try:  # refused or skipped by the checks: who sent it still counts
            connector = connector or build_connector(
                cfg.source(batch.source), resolve_path=cfg.resolve
            )
            per[i] = [{**r, "source": batch.source} for r in connector.parse(items[i])]
        except Exception:
            per[i] = None
    return per


def _has_value(item: Any, raw_ids: set[str]) -> bool:
    if isinstance(item, dict):
        return any(_has_value(v, raw_ids) for v in item.values())
    if isinstance(item, list):
        return any(_has_value(v, raw_ids) for v in item)
    return item is not None and str(item).strip().lower() in raw_ids


def _scrubbed(value: Any, emails: list[str]) -> tuple[Any, int]:
    """``value`` with each of ``emails`` (any case) replaced by "[EMAIL]"; how many."""
    if not emails or value is None:
        return value, 0
    pattern = re.compile("|".join(re.escape(e) for e in emails), re.I)
    if isinstance(value, str):
        return pattern.subn("[EMAIL]", value)
    text, n = pattern.subn("[EMAIL]", json.dumps(value, ensure_ascii=False, default=str))
    return (json.loads(text) if n else value), n


def _forget_feedback(
    lake: Lake, target: _Target, gone_ids: set[str], dry_run: bool, count: Count
) -> dict[str, list[Any]]:
    """Remove the rows; the removed rows' id, text_hash, title and text."""
    found: dict[str, list[Any]] = {"feedback_id": [], "text_hash": [], "title": [], "text": []}
    for path in lake.dataset_files("feedback"):
        table = lake.read_file(path)
        mine = pc.fill_null(pc.equal(table["customer_id"], target.pseudonym), False)
        mask = pc.or_(mine, _isin(table["feedback_id"], gone_ids))
        hit = table.filter(mask)
        if not hit.num_rows:
            continue
        for name in found:
            found[name] += hit[name].to_pylist()
        source = next((p[7:] for p in path.split("/") if p.startswith("source=")), "?")
        count(source, "feedback", hit.num_rows)
        if not dry_run:
            lake.rewrite_file(path, table.filter(pc.invert(mask)))
    return found


def _forget_assignments(lake: Lake, gone_ids: set[str], dry_run: bool) -> int:
    table = lake.read_table("assignments")
    if table is None or not gone_ids:
        return 0
    mask = _isin(table["feedback_id"], gone_ids)
    n = pc.sum(mask).as_py() or 0
    if n and not dry_run:
        lake.replace_table("assignments", table.filter(pc.invert(mask)))
    return n


def _forget_theme_quotes(lake: Lake, gone_ids: set[str], dry_run: bool) -> tuple[int, int]:
    """(themes touched, quotes removed) from the themes' representative_ids."""
    themes = lake.read_table("themes")
    if themes is None or not gone_ids:
        return 0, 0
    reps = themes["representative_ids"].to_pylist()
    kept = [[f for f in r or [] if f not in gone_ids] if r is not None else None for r in reps]
    touched = sum(1 for a, b in zip(reps, kept, strict=True) if a is not None and a != b)
    quotes = sum(len(a or []) - len(b or []) for a, b in zip(reps, kept, strict=True))
    if quotes and not dry_run:
        i = themes.schema.get_field_index("representative_ids")
        column = pa.array(kept, themes.schema.field(i).type)
        lake.replace_table("themes", themes.set_column(i, themes.schema.field(i), column))
    return touched, quotes


def _forget_quarantine(
    lake: Lake,
    plans: list[_RawPlan],
    target: _Target,
    dry_run: bool,
    count: Count,
    scrubbed: Counter[str],
) -> None:
    """Rows of removed items go, matched by payload (so a re-run after a crash finds the
    same); the rest follow their item's new index. Rows of batches no longer in raw/ go when
    one of their payload's values is the customer's id."""
    by_batch = {(p.batch.source, p.batch.batch_id): p for p in plans}
    needles = {target.pseudonym, *target.raw_ids}
    for path in lake.dataset_files("quarantine"):
        table = lake.read_file(path)
        kept, changed = [], False
        for row in table.to_pylist():
            plan = by_batch.get((row["source"], row["batch_id"]))
            payload = row.get("payload")
            if plan is None:
                gone = _has_value(_loaded(payload), needles)
            elif payload is not None:
                gone = payload in plan.removed_dumps
            else:
                gone = row["item_index"] in plan.removed
            if gone:
                changed = True
                count(row["source"], "quarantine", 1)
                if plan is not None:
                    plan.quarantine_removed += 1
                    plan.quality_removed += ".quality" in path.rsplit("/", 1)[-1]
                continue
            if plan is not None and plan.kept is not None:
                index = row["item_index"]
                if payload is None:  # no payload to know it by: shift past removed items
                    new = index - sum(i < index for i in plan.removed) if index >= 0 else index
                else:  # not found: already renumbered by an interrupted run
                    new = plan.new_index.get(payload, index)
                payload, n = _scrubbed(payload, target.emails)
                scrubbed["quarantine"] += n
                changed |= bool(n) or new != index
                row = {**row, "item_index": new, "payload": payload}
            kept.append(row)
        if changed and not dry_run:
            lake.rewrite_file(path, pa.Table.from_pylist(kept, schema=table.schema))


def _loaded(payload: str | None) -> Any:
    try:
        return json.loads(payload or "null")
    except ValueError:
        return None


def _update_process_state(lake: Lake, plan: _RawPlan) -> None:
    """Keep the processed-batch counts equal to what the rewritten batch gives."""
    name = f"process/{plan.batch.source}"
    state = lake.read_state(name)
    entry = state.get("batches", {}).get(plan.batch.batch_id)
    if entry is None or plan.kept is None:
        return  # landed but not processed yet: processing will count the rewritten batch
    stored = sum(plan.good_rows.values()) - plan.quality_removed
    entry["items"] = len(plan.kept)
    entry["rows"] = max(0, entry.get("rows", 0) - max(0, stored))
    entry["quarantined"] = max(0, entry.get("quarantined", 0) - plan.quarantine_removed)
    if "quality_quarantined" in entry:
        entry["quality_quarantined"] = max(0, entry["quality_quarantined"] - plan.quality_removed)
    lake.write_state(name, state)


def _isin(column: pa.ChunkedArray, values: set[str]) -> pa.ChunkedArray:
    return pc.fill_null(pc.is_in(column, value_set=pa.array(sorted(values), pa.string())), False)


def _forget_embeddings(lake: Lake, hashes: set[str], gone_ids: set[str], dry_run: bool) -> int:
    """Vectors of ``hashes`` that no remaining feedback row uses."""
    if hashes:
        index = lake.feedback_index()
        hashes -= set(
            index.filter(pc.invert(_isin(index["feedback_id"], gone_ids)))["text_hash"].to_pylist()
        )
    n = 0
    for path in lake.dataset_files("embedding_cache") if hashes else []:
        table = lake.read_file(path)
        mask = _isin(table["text_hash"], hashes)
        hit = pc.sum(mask).as_py() or 0
        n += hit
        if hit and not dry_run:
            lake.rewrite_file(path, table.filter(pc.invert(mask)))
    return n


def _needles(target: _Target, gone_rows: dict[str, list[Any]]) -> list[str]:
    """What betrays the customer in a report: ids, their rows' ids and text openings."""
    out = {target.pseudonym, *target.raw_ids, *gone_rows["feedback_id"]}
    for text in gone_rows["text"] + gone_rows["title"]:
        opening = (text or "").strip()[:48]
        if len(opening) >= 20:
            out |= {opening, html.escape(opening)}
    return sorted(n for n in out if n)


def _files_mentioning(folder: str, needles: list[str], skip: tuple[str, ...] = ()) -> list[str]:
    """Text files under ``folder`` (reports, data docs) containing any needle."""
    if not needles or not os.path.isdir(folder):
        return []
    low = [n.lower() for n in needles]
    hits = []
    for root, _, files in os.walk(folder):
        for name in sorted(files):
            path = os.path.join(root, name)
            if any(s in path.replace(os.sep, "/") for s in skip):
                continue
            if not name.endswith(_REPORT_SUFFIXES) or os.path.getsize(path) > 50_000_000:
                continue
            with open(path, encoding="utf-8", errors="replace") as fh:
                content = fh.read().lower()
            if any(n in content for n in low):
                hits.append(path)
    return sorted(hits)


def format_report(result: dict[str, Any]) -> str:
    """The result as lines for the terminal."""
    head = "would remove" if result["dry_run"] else "removed"
    lines = [f"forget {result['customer']} ({'dry run' if result['dry_run'] else result['at']})"]
    lines.append(f"{head}: " + ", ".join(f"{d} {n}" for d, n in result["removed"].items()))
    for source, counts in result["per_source"].items():
        lines.append(f"  {source}: " + ", ".join(f"{d} {n}" for d, n in counts.items()))
    if any(result["scrubbed_mentions"].values()):
        lines.append(
            "e-mail mentions in other customers' items replaced by [EMAIL]: "
            + ", ".join(f"{d} {n}" for d, n in result["scrubbed_mentions"].items())
        )
    for path in result["reports_to_rerun"]:
        lines.append(f"quotes them: {path} (re-run the report)")
    for path in result["still_mentioned"]:
        lines.append(f"still names them: {path}")
    if result["rerun_report"]:
        lines.append("re-run the report (chorus run --step report) to refresh trends and quotes")
    return "\n".join(lines)
