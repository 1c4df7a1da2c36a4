"""Contract case for Slack channels against connectors/slack/sandbox.py."""

from __future__ import annotations

from typing import Any

from connectors.slack.sandbox import CUSTOMERS, OUR_TEAM, PRODUCT, SHARED, STAFF
from tests.connectors.contract_cases import ContractCase


def key_of(app: Any, message: dict[str, Any]) -> str:
    kind = "history" if app.listed_in_history(message) else "replies"
    return f"{kind}:{message['_channel']}:{message['ts']}"


def expected(app: Any) -> list[str]:
    """Every message history lists (events and bots too), every plain thread reply."""
    return [key_of(app, m) for m in app.store["messages"]]


def item_key(item: dict[str, Any]) -> str:
    return f"{item['_endpoint']}:{item['ts']}"


def mutate(app: Any) -> set[str]:
    """A new thread, a reply to an old thread, a broadcast reply, an edit, a join event."""
    old_threads = [m for m in app.store["messages"] if app.replies_of(m["_channel"], m["ts"])]
    old = next(m for m in old_threads if m["_channel"] == PRODUCT)
    shared = next(m for m in app.store["messages"] if m["_channel"] == SHARED)
    plain = next(
        m
        for m in app.store["messages"]
        if m["_channel"] == PRODUCT
        and m.get("user")
        and not m.get("subtype")
        and "thread_ts" not in m
        and m is not old
    )
    new = app.post(PRODUCT, "Onboarding emails land in spam :x:", STAFF[1])
    first = app.reply(PRODUCT, new["ts"], "Confirmed for two customers", STAFF[0])
    late = app.reply(PRODUCT, old["ts"], "Still happening on 5.4.1", STAFF[2])
    broadcast = app.reply(SHARED, shared["ts"], "Fixed on our side, thanks!", CUSTOMERS[0], True)
    app.edit(PRODUCT, plain["ts"], plain["text"] + " (edited)")
    joined = app.post(SHARED, "", CUSTOMERS[1], subtype="channel_join")
    return {key_of(app, m) for m in (new, first, old, late, shared, broadcast, plain, joined)}


CASES: list[ContractCase] = [
    ContractCase(
        vendor="slack",
        connector_type="slack",
        credentials={"bot_token": "CONTRACT_SLACK_BOT_TOKEN"},
        auth_credential="bot_token",
        expected=expected,
        item_key=item_key,
        mutate=mutate,
        options={
            "channels": [PRODUCT],
            "customer_channels": {SHARED: "acc_1"},
            "internal_teams": [OUR_TEAM],
            "page_size": 2,
        },
    )
]
