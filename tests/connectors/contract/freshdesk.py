"""Contract case for Freshdesk: tickets, their conversations, satisfaction ratings."""

from __future__ import annotations

from typing import Any

from tests.connectors.contract_cases import ContractCase


def freshdesk_expected(app: Any) -> list[str]:
    """Every ticket, every reply and note, every CSAT answer."""
    return (
        [f"tickets:{t['id']}" for t in app.store["tickets"]]
        + [f"ticket_conversations:{c['ticket_id']}:{c['id']}" for c in app.store["conversations"]]
        + [f"satisfaction_ratings:{r['id']}" for r in app.store["ratings"]]
    )


def freshdesk_item_key(item: dict[str, Any]) -> str:
    endpoint = item["_endpoint"]
    if endpoint == "ticket_conversations":
        return f"{endpoint}:{item['_parent']['ticket_id']}:{item['id']}"
    return f"{endpoint}:{item['id']}"


def freshdesk_mutate(app: Any) -> set[str]:
    """A new ticket with a reply and a note, a reply on an old ticket, an edited note, a rating."""
    old = app.store["tickets"][0]
    new = app.add_ticket("Export to PDF", "We need the weekly report as a PDF.", tags=["export"])
    added = [
        app.add_conversation(new["id"], "Any news on this?", kind="customer"),
        app.add_conversation(new["id"], "Asked product about it.", kind="note"),
        app.add_conversation(old["id"], "Still broken after the update.", kind="customer"),
    ]
    note = next(c for c in app.store["conversations"] if c["private"] and c not in added)
    app.edit_conversation(note["id"], "Internal: root cause found, fix scheduled.")
    rating = app.add_rating(app.store["tickets"][2]["id"], 102, "Better now")
    touched = {new["id"], old["id"], note["ticket_id"]}
    return (
        {f"tickets:{t}" for t in touched}
        | {f"ticket_conversations:{c['ticket_id']}:{c['id']}" for c in [*added, note]}
        | {f"satisfaction_ratings:{rating['id']}"}
    )


CASES: list[ContractCase] = [
    ContractCase(
        vendor="freshdesk",
        connector_type="freshdesk",
        credentials={"api_key": "CONTRACT_FRESHDESK_API_KEY"},
        auth_credential="api_key",
        expected=freshdesk_expected,
        item_key=freshdesk_item_key,
        mutate=freshdesk_mutate,
        options={"page_size": 2, "domain": "chorus-sandbox"},
    )
]
