"""Canonical rows of a landed raw batch, parsed by its source's connector, and the accounts the
customers file names by e-mail domain: what processing, forgetting and the tests share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.common.registry import build_connector
from flows.lake.store import RawBatch
from flows.runtime.config import ChorusConfig
from transforms.canonical import canonical_rows


def landed_rows(
    cfg: ChorusConfig, batch: RawBatch, doc: dict[str, Any], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(clean canonical rows, quarantine rows) of one raw batch (`doc`, as `Lake.read_raw`
    returns it); one bad item never stops the rest."""
    connector = build_connector(cfg.source(batch.source), resolve_path=cfg.resolve)
    return canonical_rows(doc.get("items", []), connector.parse, batch.source, batch.batch_id, now)


def domain_accounts(cfg: ChorusConfig) -> dict[str, str]:
    """e-mail domain -> account id from the configured customers table (empty without one)."""
    if cfg.customers is None:
        return {}
    from transforms.segments import accounts_by_domain, read_customers

    return accounts_by_domain(read_customers(cfg.resolve(cfg.customers.path), cfg.customers.format))
