"""The quality gate: the suites of `schemas/quality.py` as Great Expectations Checkpoints.

A processing run has one `QualityGate` (one ephemeral GE context, both suites, two
Checkpoints) in the process that commits, `run_gate`, whose `check` runs on each chunk between
embedding and the upsert. A row that fails
a row check goes to ``quarantine/<source>/<batch>.quality.parquet`` with the reason (suite,
column, what was expected, the observed value's shape) and not to ``feedback/``. A batch check
failing anywhere in a landed batch rejects that whole batch: all its rows go to quarantine and
a ``chorus.quality.failed`` event names the failed expectations. Data Docs (both suites and
this run's validation results) are written to ``<reports>/data_docs/index.html``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from flows.lake.store import Lake, RawBatch
from flows.processing.process_stats import ProcessStats
from flows.runtime.config import ChorusConfig
from flows.runtime.events import emit
from flows.runtime.logs import logger
from schemas.quality import (
    CURATED_SUITE,
    NORMALIZED_SUITE,
    Check,
    build_suite,
    curated_view,
    normalized_view,
    suite_checks,
)

DOCS_SITE = "chorus"


@dataclass(frozen=True)
class Failure:
    """One failed expectation of one suite and the positions of the rows it refused."""

    suite: str
    check: Check
    expectation_type: str  # snake_case, as Great Expectations names it
    rows: tuple[int, ...]
    rank: tuple[int, int]  # (suite, check) order, for reasons in the order the suites list them

    @property
    def name(self) -> str:
        return f"{self.suite}:{self.expectation_type}({', '.join(self.check.shown_columns)})"


def docs_dir(cfg: ChorusConfig) -> str:
    """Where the Data Docs site goes: ``<reports>/data_docs`` (open ``index.html``)."""
    return os.path.join(cfg.reports_dir, "data_docs")


class QualityGate:
    """Both suites, validated per chunk; built once per processing run (GE is loaded on first use)."""

    def __init__(self, cfg: ChorusConfig, lake: Lake, now: datetime) -> None:
        self.cfg, self.lake, self.now = cfg, lake, now
        self.checks = suite_checks([s.name for s in cfg.sources], now)
        self.docs = docs_dir(cfg)
        self.seconds = 0.0  # time spent in Great Expectations (setup, validation, Data Docs)
        self.rows_checked = 0
        self._checkpoints: dict[str, Any] | None = None
        self._runs = 0
        self._setup_lock = threading.Lock()

    def warm_up(self) -> None:
        """Import Great Expectations and build the suites in a background thread (1.5-4 s), so
        the first commit does not wait for them while the parse workers sit idle."""
        threading.Thread(target=self._setup, name="chorus-quality-setup", daemon=True).start()

    # ---- Great Expectations --------------------------------------------------------------
    def _setup(self) -> dict[str, Any]:
        with self._setup_lock:
            return self._setup_locked()

    def _setup_locked(self) -> dict[str, Any]:
        if self._checkpoints is not None:
            return self._checkpoints
        with warnings.catch_warnings():  # GE imports deprecated modules (sre_constants)
            warnings.simplefilter("ignore", DeprecationWarning)
            import great_expectations as gx
            from great_expectations.checkpoint import UpdateDataDocsAction
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

        shutil.rmtree(os.path.join(self.docs, "validations"), ignore_errors=True)  # older runs
        site = {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": self.docs,
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        context = gx.get_context(
            mode="ephemeral",
            project_config=DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(),
                data_docs_sites={DOCS_SITE: site},
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False),
            ),
        )
        datasource = context.data_sources.add_pandas("chorus")
        checkpoints = {}
        for name, checks in self.checks.items():
            suite = context.suites.add(build_suite(name, checks))
            batch = datasource.add_dataframe_asset(name).add_batch_definition_whole_dataframe(
                "chunk"
            )
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
            checkpoints[name] = context.checkpoints.add(
                gx.Checkpoint(
                    name=name,
                    validation_definitions=[definition],
                    actions=[UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])],
                    result_format={"result_format": "COMPLETE"},
                )
            )
        self._checkpoints = checkpoints
        return checkpoints

    def validate(self, views: dict[str, pd.DataFrame]) -> list[Failure]:
        """Run each suite's Checkpoint on its view; the failed expectations with their rows."""
        from great_expectations.core.run_identifier import RunIdentifier

        checkpoints = self._setup()
        self._runs += 1
        run_id = RunIdentifier(
            run_name=f"process-{self.now:%Y%m%dT%H%M%SZ}-chunk{self._runs}",  # a folder name
            run_time=self.now,
        )
        failures = []
        for name, checkpoint in checkpoints.items():
            with warnings.catch_warnings():  # GE on pandas 3 with time-zone-aware columns
                warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
                result = checkpoint.run(batch_parameters={"dataframe": views[name]}, run_id=run_id)
            for run in result.run_results.values():
                for r in run.results:
                    config = r.expectation_config
                    check = self.checks[name][config.meta["check"]]
                    if (r.exception_info or {}).get("raised_exception"):
                        raise RuntimeError(
                            f"quality suite {name}: {config.type} on {check.shown_columns} "
                            f"raised: {r.exception_info.get('exception_message')}"
                        )
                    if not r.success:
                        rows = tuple(int(i) for i in r.result.get("unexpected_index_list") or ())
                        rank = (list(checkpoints).index(name), config.meta["check"])
                        failures.append(Failure(name, check, config.type, rows, rank))
        return failures

    # ---- the gate ---------------------------------------------------------------------------
    def check(
        self,
        batches: Sequence[RawBatch],
        rows: list[dict[str, Any]],
        table: pa.Table,
        stats: ProcessStats,
        done: dict[str, dict[str, dict[str, Any]]],
    ) -> pa.Table:
        """The rows of `table` that pass; the rest quarantined, counts and batch state updated.

        `rows` are the canonical rows `table` was built from, in the same order (each carries
        its ``_batch``); `done` is the per-batch state the commit writes afterwards.
        """
        if not rows:
            return table
        start = time.perf_counter()
        views = {NORMALIZED_SUITE: normalized_view(rows), CURATED_SUITE: curated_view(table)}
        failures = self.validate(views)
        self.seconds += time.perf_counter() - start
        self.rows_checked += len(rows)
        by_id = {b.batch_id: b for b in batches}
        batch_of = [r.get("_batch") for r in rows]
        size = Counter(batch_of)
        rejected: dict[str, list[str]] = {}
        reasons: dict[int, dict[tuple, tuple[tuple[int, int], str]]] = {}
        for f in failures:
            key = (f.check.expectation, f.check.shown_columns)
            view = views[f.suite]
            if f.check.scope == "batch":
                for bid, n in sorted(Counter(batch_of[i] for i in f.rows).items()):
                    rejected.setdefault(bid, []).append(
                        f"batch rejected: {f.name} failed for {n} of {size[bid]} rows"
                    )
            for i in f.rows:
                reasons.setdefault(i, {}).setdefault(key, (f.rank, _row_reason(f, view, i)))
        out = [i for i in range(len(rows)) if i in reasons or batch_of[i] in rejected]
        if not out:
            logger().info(
                "quality: %d rows passed %s in %.2fs",
                len(rows),
                " and ".join(self.checks),
                time.perf_counter() - start,
            )
            return table
        self._quarantine(out, rows, batch_of, by_id, rejected, reasons)
        self._count(out, batch_of, by_id, rejected, stats, done)
        for bid, why in sorted(rejected.items()):
            batch = by_id[bid]
            emit(
                "quality_failed",
                f"chorus.source.{batch.source}",
                {
                    "batch_id": bid,
                    "rows": size[bid],
                    "quarantined": size[bid],
                    "row_failures": sum(1 for i in reasons if batch_of[i] == bid),
                    "failed_expectations": sorted(
                        {f.name for f in failures if any(batch_of[i] == bid for i in f.rows)}
                    ),
                    "reasons": why,
                    "data_docs": os.path.join(self.docs, "index.html"),
                },
                **{"chorus.batch": bid},
            )
        logger().warning(
            "quality: %d of %d rows quarantined (%d batches rejected whole: %s) in %.2fs; see %s",
            len(out),
            len(rows),
            len(rejected),
            "; ".join(f"{by_id[b].source}/{b}" for b in sorted(rejected)) or "none",
            time.perf_counter() - start,
            os.path.join(self.docs, "index.html"),
        )
        drop = set(out)
        keep = pa.array([i not in drop for i in range(len(rows))], pa.bool_())
        return table.filter(keep)

    def _quarantine(self, out, rows, batch_of, by_id, rejected, reasons) -> None:
        docs: dict[str, Any] = {}
        per_batch: dict[str, list[dict[str, Any]]] = {}
        for i in out:
            bid = batch_of[i]
            batch = by_id[bid]
            if bid not in docs:
                docs[bid] = self.lake.read_raw(batch).get("items", [])
            item = rows[i].get("_item")
            own = [text for _, text in sorted(reasons.get(i, {}).values())]
            if bid in rejected:
                own = ["this row: " + "; ".join(own) if own else "this row passed"]
            parts = rejected.get(bid, []) + own
            per_batch.setdefault(bid, []).append(
                {
                    "source": batch.source,
                    "batch_id": bid,
                    "item_index": item if isinstance(item, int) else -1,
                    "source_id": None
                    if rows[i].get("source_id") is None
                    else str(rows[i]["source_id"]),
                    "reason": "quality: " + "; ".join(parts),
                    "payload": json.dumps(docs[bid][item], default=str)[:1_000_000]
                    if isinstance(item, int) and 0 <= item < len(docs[bid])
                    else None,
                    "quarantined_at": self.now,
                }
            )
        for bid, qrows in per_batch.items():
            self.lake.write_quarantine(
                by_id[bid].source, f"{bid}.quality", pa.Table.from_pylist(qrows)
            )

    @staticmethod
    def _count(out, batch_of, by_id, rejected, stats, done) -> None:
        n = len(out)
        stats.quarantined += n
        stats.quality_quarantined += n
        stats.rows -= n
        for bid, k in Counter(batch_of[i] for i in out).items():
            source = by_id[bid].source
            per = stats.per_source.setdefault(source, {"landed": 0, "rows": 0, "quarantined": 0})
            per["rows"] -= k
            per["quarantined"] += k
            entry = done.setdefault(source, {}).setdefault(bid, {"rows": k, "quarantined": 0})
            entry["rows"] -= k
            entry["quarantined"] += k
            entry["quality_quarantined"] = k
            if bid in rejected:
                entry["quality_failed"] = rejected[bid]


# the gates of the latest runs in this process, by (lake, run start): a run's commits share one
_run_gates: dict[tuple[str, datetime], QualityGate] = {}
_run_gates_lock = threading.Lock()


def run_gate(cfg: ChorusConfig, now: datetime) -> QualityGate:
    """The quality gate of the processing run that started at `now`, in this process: built on
    the first call, the same object for the run's later commits (setting Great Expectations up
    takes seconds). Tasks call this with the run's config and start time instead of receiving
    the gate, a live object, as an argument."""
    key = (cfg.lake_url, now)
    with _run_gates_lock:
        gate = _run_gates.get(key)
        if gate is None:
            gate = _run_gates[key] = QualityGate(cfg, Lake(cfg.lake_url), now)
            while len(_run_gates) > 2:  # runs at once in one process are rare; older ones done
                del _run_gates[next(iter(_run_gates))]
        return gate


def _observed(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "null"
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:g}"
    return repr(value)


def _row_reason(f: Failure, view: pd.DataFrame, i: int) -> str:
    """Which suite and expectation, which column, and what was observed (a view value: no PII)."""
    cols = f.check.shown_columns
    seen = ", ".join(f"{c}={_observed(view.at[i, c])}" for c in cols if c in view.columns)
    return f"{f.suite} {'/'.join(cols)}: expected {f.check.meaning}, observed {seen} [{f.expectation_type}]"
