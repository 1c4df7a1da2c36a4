"""Contract cases: one entry per connector that has a sandbox; tests/connectors/test_contract.py runs them all.

To add a vendor: write its connector and connectors/common/sandbox/<vendor>.py, then append one
ContractCase here saying how to configure the connector against the sandbox, which items a
full run must deliver, and how to change the sandbox's data for the incremental check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ContractCase:
    """How one connector is checked against its sandbox vendor."""

    vendor: str  # name in connectors.common.sandbox.server.VENDORS
    connector_type: str  # name in connectors.common.registry.CONNECTORS
    credentials: dict[str, str]  # credential key -> env var the test sets from the sandbox's values
    auth_credential: str  # the key whose env var a 401 must name
    expected: Callable[[Any], list[str]]  # item keys a full run delivers, from the vendor app
    item_key: Callable[[dict[str, Any]], str]  # one fetched item's identity
    mutate: Callable[[Any], set[str]]  # change the data; the item keys the next run delivers
    options: dict[str, Any] = field(default_factory=dict)  # type-specific config keys


# -- Zendesk ----------------------------------------------------------------------------------


def zendesk_expected(app: Any) -> list[str]:
    """Every ticket, every comment of a live ticket, every received rating."""
    tickets = app.store["tickets"]
    live = {t["id"] for t in tickets if t["status"] != "deleted"}
    return (
        [f"tickets:{t['id']}" for t in tickets]
        + [
            f"ticket_comments:{c['_ticket_id']}:{c['id']}"
            for c in app.store["comments"]
            if c["_ticket_id"] in live
        ]
        + [
            f"satisfaction_ratings:{r['id']}"
            for r in app.store["ratings"]
            if r["score"] in ("good", "bad")
        ]
    )


def zendesk_item_key(item: dict[str, Any]) -> str:
    endpoint = item["_endpoint"]
    if endpoint == "ticket_comments":
        return f"{endpoint}:{item['_parent']['ticket_id']}:{item['id']}"
    return f"{endpoint}:{item['id']}"


def zendesk_mutate(app: Any) -> set[str]:
    """A new ticket with replies, a reply on an old one, a changed and a new rating, a deletion."""
    tickets = [t for t in app.store["tickets"] if t["status"] not in ("deleted", "closed")]
    old, doomed, rated = tickets[0], tickets[1], tickets[2]
    new = app.add_ticket("Export to PDF", "We need the weekly report as a PDF.", tags=["export"])
    replies = [
        app.add_comment(new["id"], "Any news on this?"),
        app.add_comment(new["id"], "Internal: asked product.", public=False),
        app.add_comment(old["id"], "Still broken after the update."),
    ]
    opening = next(c for c in app.store["comments"] if c["_ticket_id"] == new["id"])
    changed = next(r for r in app.store["ratings"] if r["score"] in ("good", "bad"))
    app.update_rating(changed["id"], "bad" if changed["score"] == "good" else "good", "Changed")
    added = app.add_rating(rated["id"], "good", "Sorted quickly")
    app.delete_ticket(doomed["id"])
    touched = {new["id"], old["id"], doomed["id"], rated["id"], changed["ticket_id"]}
    return (
        {f"tickets:{t}" for t in touched}
        | {f"ticket_comments:{c['_ticket_id']}:{c['id']}" for c in [opening, *replies]}
        | {f"satisfaction_ratings:{changed['id']}", f"satisfaction_ratings:{added['id']}"}
    )


ZENDESK = ContractCase(
    vendor="zendesk",
    connector_type="zendesk",
    credentials={"email": "CONTRACT_ZENDESK_EMAIL", "api_token": "CONTRACT_ZENDESK_API_TOKEN"},
    auth_credential="api_token",
    expected=zendesk_expected,
    item_key=zendesk_item_key,
    mutate=zendesk_mutate,
    options={"page_size": 2},
)


def _vendor_cases() -> list[ContractCase]:
    """Cases defined in tests/connectors/contract/<vendor>.py (each module exposes CASES)."""
    import importlib
    import pkgutil

    import tests.connectors.contract as pkg

    found: list[ContractCase] = []
    for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
        found.extend(importlib.import_module(f"tests.connectors.contract.{mod}").CASES)
    return found


CASES: list[ContractCase] = [ZENDESK, *_vendor_cases()]
