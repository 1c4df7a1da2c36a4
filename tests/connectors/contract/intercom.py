"""Contract case for Intercom: conversations (search) and their message parts."""

from __future__ import annotations

from typing import Any

from tests.connectors.contract_cases import ContractCase


def intercom_expected(app: Any) -> list[str]:
    """Every conversation, and every part that carries a message (state changes have none)."""
    conversations = app.store["conversations"]
    return [f"conversations:{c['id']}" for c in conversations] + [
        f"conversation_parts:{c['id']}:{p['id']}"
        for c in conversations
        for p in c["_parts"]
        if p["body"]
    ]


def intercom_item_key(item: dict[str, Any]) -> str:
    endpoint = item["_endpoint"]
    if endpoint == "conversation_parts":
        return f"{endpoint}:{item['_parent']['conversation_id']}:{item['id']}"
    return f"{endpoint}:{item['id']}"


def intercom_mutate(app: Any) -> set[str]:
    """A new conversation with a reply and a note, a reply elsewhere, an edit, a rating, a close."""
    old, edited, rated, closed = app.store["conversations"][:4]
    new = app.add_conversation("The export button is greyed out.", contact_id="65a0c0de0099")
    added = [
        app.add_part(new["id"], "It happens in Firefox too.", "comment", "user"),
        app.add_part(new["id"], "Reproduced; filed with engineering.", "note", "admin"),
        app.add_part(old["id"], "Still broken after the update.", "comment", "user"),
    ]
    keys = {
        f"conversation_parts:{p_conv}:{p['id']}"
        for p_conv, p in zip([new["id"], new["id"], old["id"]], added, strict=True)
    }
    message_parts = [p for p in edited["_parts"] if p["body"]]
    if message_parts:  # edited without its conversation moving: seen with the next change
        app.edit_part(message_parts[0]["id"], "Edited: it was the VPN after all.")
        keys.add(f"conversation_parts:{edited['id']}:{message_parts[0]['id']}")
    app.add_part(edited["id"], "Thanks, all good now.", "comment", "user")
    keys.add(f"conversation_parts:{edited['id']}:{edited['_parts'][-1]['id']}")
    app.rate(rated["id"], 2, "Slow answer")
    app.add_part(closed["id"], None, "close", "admin")  # moves the conversation, no message
    touched = {new["id"], old["id"], edited["id"], rated["id"], closed["id"]}
    return {f"conversations:{c}" for c in touched} | keys


CASES: list[ContractCase] = [
    ContractCase(
        vendor="intercom",
        connector_type="intercom",
        credentials={"access_token": "CONTRACT_INTERCOM_ACCESS_TOKEN"},
        auth_credential="access_token",
        expected=intercom_expected,
        item_key=intercom_item_key,
        mutate=intercom_mutate,
        options={"page_size": 2, "app_id": "sandboxapp"},
    )
]
