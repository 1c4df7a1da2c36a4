"""Freshdesk parsing on documented payload shapes, plus the paging traps against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.common.base import ParseError
from connectors.common.http.errors import PaginationLoopError
from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import start_sandbox
from connectors.freshdesk import connector as freshdesk
from connectors.freshdesk.connector import TICKETS, FreshdeskConnector
from flows.runtime.config import SecretRef, SourceConfig


def connector(**extra: Any) -> FreshdeskConnector:
    source = SourceConfig(name="fd", type="freshdesk", **extra)
    return FreshdeskConnector(source, http={"sleep": lambda s: None})


TICKET = {
    "_endpoint": "tickets",
    "id": 20,
    "subject": "Support needed..",
    "description": "<div>Details about the <b>issue</b>...</div>",
    "description_text": "Details about the issue...",
    "status": 2,
    "priority": 1,
    "source": 2,
    "type": "Question",
    "requester_id": 129,
    "responder_id": None,
    "company_id": 77,
    "tags": ["billing"],
    "created_at": "2015-08-24T11:56:51Z",
    "updated_at": "2015-08-24T11:59:05Z",
}
CONVERSATION = {
    "_endpoint": "ticket_conversations",
    "_parent": {"ticket_id": 20, "requester_id": 129},
    "id": 3,
    "body": "<div>We are working on it</div>",
    "body_text": "We are working on it",
    "incoming": False,
    "private": False,
    "user_id": 1,
    "support_email": "support@acme.example",
    "source": 0,
    "ticket_id": 20,
    "created_at": "2015-08-24T12:02:10Z",
    "updated_at": "2015-08-24T12:02:10Z",
}
RATING = {
    "_endpoint": "satisfaction_ratings",
    "id": 10,
    "survey_id": 1,
    "user_id": 129,
    "agent_id": 1,
    "feedback": "Quick and friendly.",
    "group_id": 2,
    "ticket_id": 20,
    "ratings": {"default_question": 103},
    "created_at": "2015-08-25T09:00:00Z",
    "updated_at": "2015-08-25T09:00:00Z",
}


def test_ticket_row_prefers_the_plain_description():
    (row,) = connector(domain="acme").parse(TICKET)
    assert row["source_id"] == row["thread_id"] == "20"
    assert (row["title"], row["text"]) == ("Support needed..", "Details about the issue...")
    assert (row["account_id"], row["customer_id"]) == ("77", "129")
    assert row["created_at"] == datetime(2015, 8, 24, 11, 56, 51, tzinfo=UTC)
    assert row["tags"] == ["billing", "status:open", "channel:portal", "type:Question"]
    assert row["url"] == "https://acme.freshdesk.com/a/tickets/20"
    assert row["is_internal"] is False and row["rating"] is None


def test_ticket_html_description_is_the_fallback_and_no_domain_no_url():
    (row,) = connector().parse({**TICKET, "description_text": None})
    assert row["text"] == "Details about the issue..." and row["url"] is None


@pytest.mark.parametrize(
    "changes,kind,internal",
    [
        ({"private": True}, "note", True),
        ({}, "agent_reply", True),  # outgoing, by someone other than the requester
        ({"incoming": True, "user_id": 129}, "customer_reply", False),
        ({"user_id": 129}, "customer_reply", False),  # the requester, via the portal
    ],
)
def test_conversation_authorship(changes, kind, internal):
    (row,) = connector().parse({**CONVERSATION, **changes})
    assert row["tags"] == [kind] and row["is_internal"] is internal
    assert row["source_id"] == "20:3" and row["thread_id"] == "20"
    assert row["text"] == "We are working on it"


@pytest.mark.parametrize("raw,value", [(103, 1.0), (100, 0.5), (-103, 0.0), (102, 5 / 6)])
def test_csat_codes_are_placed_by_rank(raw, value):
    (row,) = connector().parse({**RATING, "ratings": {"default_question": raw}})
    assert row["rating"] == pytest.approx(value) and row["rating_raw"] == raw
    assert row["rating_scale"] == "freshdesk:-103..103" and row["text"] == "Quick and friendly."
    assert row["source_id"] == "rating:10" and row["thread_id"] == "20"


@pytest.mark.parametrize(
    "item,message",
    [
        ({**TICKET, "id": None}, "id is missing"),
        ({**TICKET, "created_at": "soon"}, "not a recognised date"),
        ({**TICKET, "description_text": 5}, "not text"),
        ({k: v for k, v in CONVERSATION.items() if k != "_parent"}, "_parent.ticket_id"),
        ({**CONVERSATION, "private": None}, "private and incoming"),
        ({**RATING, "ratings": {"default_question": 4}}, "not one of"),
        ({**RATING, "ratings": {}}, "not one of"),
        ({**TICKET, "_endpoint": "contacts"}, "_endpoint 'contacts'"),
    ],
)
def test_bad_items_raise_parse_errors(item, message):
    with pytest.raises(ParseError, match=message):
        connector().parse(item)


def test_base_url_needs_a_domain():
    assert connector(domain="acme").base_url() == "https://acme.freshdesk.com"
    errors = FreshdeskConnector.option_errors(
        SourceConfig(name="fd", type="freshdesk", domain="A B")
    )
    assert errors and errors[0].startswith("domain")


def test_updated_since_boundary_is_inclusive_but_lands_once():
    mark = TICKETS.incremental
    assert mark.first_params(None, 0) == {"updated_since": "1970-01-01T00:00:00Z"}
    cursor = {"value": 1_440_417_545.0, "ids": [20]}
    assert mark.first_params(cursor, 0) == {"updated_since": "2015-08-24T11:59:05Z"}
    assert not mark.is_new(cursor, {"id": 20, "updated_at": "2015-08-24T11:59:05Z"})
    assert mark.is_new(cursor, {"id": 21, "updated_at": "2015-08-24T11:59:05Z"})


def run(sb: Any, state: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[list, dict]:
    """One tickets-only run against the sandbox: the items and the final state."""
    monkeypatch.setenv("FD_KEY", sb.vendor("freshdesk").credentials["api_key"])
    fd = connector(
        base_url=sb.url("freshdesk"),
        credentials={"api_key": SecretRef(env="FD_KEY")},
        endpoints=["tickets"],
        page_size=2,
    )
    batches = list(fd.fetch(state))
    return [i for b in batches for i in b.items], batches[-1].state


def test_same_second_ticket_after_a_run_arrives_and_the_boundary_one_does_not(monkeypatch):
    with start_sandbox(vendors=("freshdesk",)) as sb:
        app = sb.vendor("freshdesk")
        _, state = run(sb, {}, monkeypatch)
        last = max(app.store["tickets"], key=lambda t: t["updated_at"])
        twin = app.add_ticket("Same second", "Created then too.", at=fx.epoch(last["updated_at"]))
        items, _ = run(sb, state, monkeypatch)
        asked = [p for p in sb.requests_to("freshdesk", "api/v2/tickets?")][-1]
    assert [i["id"] for i in items if i["_endpoint"] == "tickets"] == [twin["id"]]
    assert parse_qs(urlsplit(asked).query)["updated_since"] == [last["updated_at"]]


def test_page_limit_opens_a_new_window_and_every_ticket_arrives_once(monkeypatch):
    monkeypatch.setattr(freshdesk, "TICKETS_MAX_PAGE", 2)
    with start_sandbox(vendors=("freshdesk",)) as sb:
        app = sb.vendor("freshdesk")
        app.max_page = 2
        boundary = app.clock.tick()
        for n in range(3):  # three tickets in one second, across a window boundary
            app.add_ticket(f"Burst {n}", "Same second.", at=boundary)
        items, _ = run(sb, {}, monkeypatch)
        queries = [
            parse_qs(urlsplit(p).query) for p in sb.requests_to("freshdesk", "api/v2/tickets?")
        ]
        expected = sorted(t["id"] for t in app.store["tickets"])
    got = [i["id"] for i in items if i["_endpoint"] == "tickets"]
    assert sorted(got) == expected and len(got) == len(set(got))
    assert max(int(q["page"][0]) for q in queries) == 2
    assert len({q["updated_since"][0] for q in queries}) >= 3  # windows moved forward


def test_a_window_that_cannot_move_forward_is_a_loop(monkeypatch):
    monkeypatch.setattr(freshdesk, "TICKETS_MAX_PAGE", 1)
    data = {"tickets": [], "conversations": [], "ratings": []}
    with start_sandbox({"freshdesk": data}, vendors=("freshdesk",)) as sb:
        app = sb.vendor("freshdesk")
        app.max_page = 1
        for n in range(5):
            app.add_ticket(f"Burst {n}", "Same second.", at=1_800_000_000)
        with pytest.raises(PaginationLoopError, match="window start"):
            run(sb, {}, monkeypatch)
