"""Zendesk contract case: tickets, their comments and ratings once; then only what changed."""

from __future__ import annotations

from typing import Any

from tests.connectors.contract_cases import ContractCase


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


CASES: list[ContractCase] = [
    ContractCase(
        vendor="zendesk",
        connector_type="zendesk",
        credentials={"email": "CONTRACT_ZENDESK_EMAIL", "api_token": "CONTRACT_ZENDESK_API_TOKEN"},
        auth_credential="api_token",
        expected=zendesk_expected,
        item_key=zendesk_item_key,
        mutate=zendesk_mutate,
        options={"page_size": 2},
    )
]
