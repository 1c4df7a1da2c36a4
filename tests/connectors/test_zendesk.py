"""Zendesk parsing on documented payload shapes, plus the traps that need a live sandbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.common.base import ParseError
from connectors.common.http.errors import SourceError
from connectors.common.rest import DELETED_TAG
from connectors.common.sandbox.server import start_sandbox
from connectors.zendesk.connector import SATISFACTION_RATINGS, ZendeskConnector
from flows.runtime.config import SecretRef, SourceConfig


def connector(**extra: Any) -> ZendeskConnector:
    source = SourceConfig(name="zd", type="zendesk", **extra)
    return ZendeskConnector(source, http={"sleep": lambda s: None})


TICKET = {
    "_endpoint": "tickets",
    "id": 35436,
    "url": "https://acme.zendesk.com/api/v2/tickets/35436.json",
    "subject": "Help, my printer is on fire!",
    "description": "The fire is very colorful.",
    "status": "open",
    "requester_id": 20978392,
    "organization_id": 509974,
    "tags": ["enterprise", "other_tag"],
    "created_at": "2009-07-20T22:55:29Z",
    "updated_at": "2011-05-05T10:38:52Z",
}
COMMENT = {
    "_endpoint": "ticket_comments",
    "_parent": {"ticket_id": 35436},
    "id": 1274,
    "type": "Comment",
    "author_id": 123123,
    "body": "Thanks for your help!",
    "html_body": "<p>Thanks for your help!</p>",
    "plain_body": "Thanks for your help!",
    "public": True,
    "created_at": "2009-07-20T22:55:29Z",
}
RATING = {
    "_endpoint": "satisfaction_ratings",
    "id": 35121,
    "ticket_id": 208,
    "requester_id": 7881,
    "assignee_id": 135,
    "score": "good",
    "comment": "Awesome support!",
    "created_at": "2011-07-20T22:55:29Z",
    "updated_at": "2011-07-20T22:55:29Z",
}


def test_ticket_becomes_a_thread_row_with_the_agent_url():
    (row,) = connector().parse(TICKET)
    assert row["source_id"] == row["thread_id"] == "35436"
    assert (row["title"], row["text"]) == (TICKET["subject"], TICKET["description"])
    assert (row["account_id"], row["customer_id"]) == ("509974", "20978392")
    assert row["created_at"] == datetime(2009, 7, 20, 22, 55, 29, tzinfo=UTC)
    assert row["updated_at"] == datetime(2011, 5, 5, 10, 38, 52, tzinfo=UTC)
    assert row["tags"] == ["enterprise", "other_tag", "status:open"]
    assert row["url"] == "https://acme.zendesk.com/agent/tickets/35436"
    assert row["is_internal"] is False and row["rating"] is None
    assert (row["source"], row["source_kind"]) == ("zd", "support")


def test_subdomain_option_wins_for_the_agent_url():
    (row,) = connector(subdomain="other").parse({**TICKET, "url": None})
    assert row["url"] == "https://other.zendesk.com/agent/tickets/35436"
    (row,) = connector().parse({**TICKET, "url": None})
    assert row["url"] is None


def test_deleted_ticket_is_kept_and_flagged_for_retirement():
    deleted = {"_endpoint": "tickets", "id": 9, "status": "deleted"}
    deleted |= {"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-02-01T00:00:00Z"}
    (row,) = connector().parse(deleted)
    assert DELETED_TAG in row["tags"] and "status:deleted" in row["tags"]
    assert row["text"] == "" and row["title"] is None


def test_archived_ticket_arrives_like_any_closed_ticket():
    (row,) = connector().parse({**TICKET, "status": "closed"})
    assert "status:closed" in row["tags"] and DELETED_TAG not in row["tags"]


def test_public_comment_row():
    (row,) = connector().parse({**COMMENT, "plain_body": "plain", "body": "**md**"})
    assert row["source_id"] == "35436:1274" and row["thread_id"] == "35436"
    assert row["text"] == "plain" and row["is_internal"] is False
    assert row["customer_id"] == "123123" and row["updated_at"] == row["created_at"]


def test_private_note_is_internal_and_body_is_the_fallback():
    (row,) = connector().parse({**COMMENT, "public": False, "plain_body": None})
    assert row["is_internal"] is True and row["text"] == COMMENT["body"]
    assert row["tags"] == ["internal_note"]


@pytest.mark.parametrize("score,value", [("good", 1.0), ("bad", 0.0)])
def test_rating_scores(score, value):
    (row,) = connector().parse({**RATING, "score": score})
    assert (row["rating"], row["rating_raw"], row["rating_scale"]) == (value, value, "bad-good")
    assert row["source_id"] == "rating:35121" and row["thread_id"] == "208"
    assert row["text"] == "Awesome support!" and f"csat:{score}" in row["tags"]


@pytest.mark.parametrize(
    "item,message",
    [
        ({**TICKET, "id": None}, "id is missing"),
        ({**TICKET, "created_at": None}, "created_at is missing"),
        ({**TICKET, "created_at": "yesterday-ish"}, "not a recognised date"),
        ({**TICKET, "status": None}, "status is missing"),
        ({**TICKET, "description": {"html": "x"}}, "not text"),
        ({k: v for k, v in COMMENT.items() if k != "_parent"}, "_parent.ticket_id"),
        ({**COMMENT, "plain_body": None, "body": None}, "neither plain_body nor body"),
        ({**COMMENT, "public": None}, "public is None"),
        ({**RATING, "score": "offered"}, "not a received rating"),
        ({**RATING, "id": None}, "id is missing"),
        ({**TICKET, "_endpoint": "users"}, "_endpoint 'users'"),
    ],
)
def test_bad_items_raise_parse_errors(item, message):
    with pytest.raises(ParseError, match=message):
        connector().parse(item)


def test_base_url_needs_a_subdomain_and_options_are_checked():
    assert connector(subdomain="acme").base_url() == "https://acme.zendesk.com"
    with pytest.raises(SourceError, match="subdomain"):
        connector().base_url()
    errors = ZendeskConnector.option_errors(SourceConfig(name="zd", type="zendesk", pagesize=3))
    assert errors and "unknown key" in errors[0] and "page_size" in errors[0]


def test_rating_watermark_drops_boundary_repeats_but_keeps_later_updates():
    mark = SATISFACTION_RATINGS.incremental
    cursor = {"value": 1_800_000_000.0, "ids": [1]}
    at = lambda i, t: {"id": i, "updated_at": t}  # noqa: E731
    assert not mark.is_new(cursor, at(1, 1_800_000_000))  # already landed
    assert mark.is_new(cursor, at(2, 1_800_000_000))  # same second, another rating
    assert mark.is_new(cursor, at(1, 1_800_000_001))  # updated since
    assert not mark.is_new(cursor, at(3, 1_799_999_999))  # inside the lookback, older
    assert mark.first_params(cursor, 0)["start_time"] == 1_800_000_000 - 14 * 24 * 3600
    assert mark.first_params(None, 42) == {"start_time": 42}


def test_oauth_token_and_a_ticket_deleted_mid_run(monkeypatch):
    with start_sandbox(vendors=("zendesk",), page_size_cap=3) as sb:
        app = sb.vendor("zendesk")
        monkeypatch.setenv("ZD_OAUTH", app.credentials["oauth_token"])
        zd = connector(
            base_url=sb.url("zendesk"),
            credentials={"oauth_token": SecretRef(env="ZD_OAUTH")},
            endpoints=["tickets"],
        )
        batches = zd.fetch({})
        first = next(batches)
        doomed = first.items[0]["id"]
        app.delete_ticket(doomed)  # its comments now answer 404
        rest = list(batches)
    comments = [i for b in rest for i in b.items if i["_endpoint"] == "ticket_comments"]
    assert comments and all(c["_parent"]["ticket_id"] != doomed for c in comments)
    tickets = [i["id"] for b in [first, *rest] for i in b.items if i["_endpoint"] == "tickets"]
    assert tickets.count(doomed) == 2  # the export hands back its deletion too
    assert "satisfaction_ratings" not in rest[-1].state["endpoints"]
