"""Ingest: pull each source incrementally into the raw landing zone; cursors commit after the data."""

from __future__ import annotations

import json

from prefect import flow, task

from connectors.common.base import batch_id_for
from connectors.common.registry import build_connector
from flows.lake.crash_points import crash_point
from flows.lake.store import Lake
from flows.runtime.config import ChorusConfig, load_config
from flows.runtime.events import emit
from flows.runtime.logs import logger


@task(retries=2, retry_delay_seconds=[2, 10])  # I/O: retried with backoff
def ingest_source(cfg: ChorusConfig, source: str) -> dict[str, int]:
    """Land every new batch of one source; returns counts."""
    lake = Lake(cfg.lake_url)
    log = logger()
    connector = build_connector(cfg.source(source), resolve_path=cfg.resolve)
    state_name = f"ingest/{source}"
    batches = items = 0
    for batch in connector.fetch(lake.read_state(state_name)):
        crash_point("ingest.fetched", source)
        if batch.items:
            bid = batch_id_for(
                source, batch.items, salt=json.dumps(batch.meta, sort_keys=True, default=str)
            )
            lake.land_raw(source, bid, batch.items, batch.meta)
            crash_point("ingest.landed", bid)
            batches += 1
            items += len(batch.items)
            emit(
                "batch_landed",
                f"chorus.source.{source}",
                {"batch_id": bid, "items": len(batch.items)},
                **{"chorus.source": source},
            )
        lake.write_state(state_name, batch.state)  # only once the items it covers have landed
        crash_point("ingest.state", state_name)
    log.info("source %s: landed %d items in %d batches", source, items, batches)
    return {"batches": batches, "items": items}


@flow(name="chorus-ingest", log_prints=True)
def ingest(config_path: str, sources: list[str] | None = None) -> dict[str, dict[str, int]]:
    cfg = load_config(config_path)
    names = sources or [s.name for s in cfg.sources]
    return {name: ingest_source(cfg, name) for name in names}
