"""Intercom parsing on documented payload shapes, search paging, and the parts traps."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from connectors.common.base import ParseError
from connectors.common.http.errors import PaginationLoopError
from connectors.common.sandbox.server import start_sandbox
from connectors.intercom.connector import CONVERSATION_PARTS, IntercomConnector, SearchPaginator
from flows.runtime.config import SecretRef, SourceConfig


def connector(**extra: Any) -> IntercomConnector:
    source = SourceConfig(name="ic", type="intercom", **extra)
    return IntercomConnector(source, http={"sleep": lambda s: None})


CONVERSATION = {
    "_endpoint": "conversations",
    "type": "conversation",
    "id": "1295",
    "title": None,
    "created_at": 1663597223,
    "updated_at": 1663597260,
    "state": "open",
    "company_id": "6329bd9ffe4e2e91dac76188",
    "tags": {"type": "tag.list", "tags": [{"type": "tag", "id": "123456", "name": "billing"}]},
    "source": {
        "type": "conversation",
        "id": "403918396",
        "delivered_as": "customer_initiated",
        "subject": "",
        "body": "<p>Hey there, the <b>export</b> fails.</p>",
        "author": {
            "type": "user",
            "id": "5bc4f3a0",
            "name": "Ada Arden",
            "email": "ada@example.com",
        },
        "attachments": [],
        "url": None,
        "redacted": False,
    },
    "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "5bc4f3a0"}]},
    "conversation_rating": {
        "rating": 4,
        "remark": "Helpful",
        "created_at": 1671028894,
        "contact": {"type": "contact", "id": "5bc4f3a0"},
        "teammate": {"type": "admin", "id": "814860"},
    },
}
PART = {
    "_endpoint": "conversation_parts",
    "_parent": {"conversation_id": "1295", "contact_id": "5bc4f3a0", "company_id": "6329bd9f"},
    "type": "conversation_part",
    "id": "3",
    "part_type": "comment",
    "body": "<p>Okay!</p>",
    "created_at": 1663597223,
    "updated_at": 1663597260,
    "notified_at": 1663597260,
    "author": {"type": "admin", "id": "274", "name": "Sam Support", "email": "sam@acme.example"},
    "attachments": [],
    "redacted": False,
}


def test_conversation_source_row_and_rating_row():
    source_row, rating_row = connector(app_id="abc123").parse(CONVERSATION)
    assert source_row["source_id"] == source_row["thread_id"] == "1295"
    assert source_row["text"] == "Hey there, the export fails."
    assert (source_row["customer_id"], source_row["account_id"]) == (
        "5bc4f3a0",
        "6329bd9ffe4e2e91dac76188",
    )
    assert source_row["created_at"] == datetime(2022, 9, 19, 14, 20, 23, tzinfo=UTC)
    assert source_row["tags"] == ["billing", "state:open", "channel:conversation"]
    assert source_row["url"] == "https://app.intercom.com/a/inbox/abc123/inbox/conversation/1295"
    assert source_row["is_internal"] is False and source_row["rating"] is None
    assert rating_row["source_id"] == "1295:rating" and rating_row["text"] == "Helpful"
    assert (rating_row["rating"], rating_row["rating_raw"], rating_row["rating_scale"]) == (
        0.75,
        4,
        "1-5",
    )


def test_admin_started_conversation_is_internal_and_kept_on_the_contact():
    source = {**CONVERSATION["source"], "author": {"type": "admin", "id": "814860"}}
    (row,) = connector().parse({**CONVERSATION, "source": source, "conversation_rating": None})
    assert row["is_internal"] is True and row["customer_id"] == "5bc4f3a0"
    assert row["url"] is None


@pytest.mark.parametrize(
    "changes,internal,customer",
    [
        ({}, True, "5bc4f3a0"),  # an admin's reply
        ({"author": {"type": "user", "id": "5bc4f3a0"}}, False, "5bc4f3a0"),
        ({"author": {"type": "lead", "id": "77aa"}}, False, "77aa"),
        ({"author": {"type": "bot", "id": "9"}}, True, "5bc4f3a0"),
        ({"part_type": "note"}, True, "5bc4f3a0"),
    ],
)
def test_part_authorship(changes, internal, customer):
    (row,) = connector().parse({**PART, **changes})
    assert row["is_internal"] is internal and row["customer_id"] == customer
    assert row["source_id"] == "1295:3" and row["thread_id"] == "1295"
    assert row["text"] == "Okay!" and row["account_id"] == "6329bd9f"
    assert row["updated_at"] == datetime(2022, 9, 19, 14, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    "item,message",
    [
        ({**CONVERSATION, "id": None}, "id is missing"),
        ({**CONVERSATION, "source": None}, "source is missing"),
        ({**CONVERSATION, "conversation_rating": {"rating": 6}}, "outside its scale"),
        ({**CONVERSATION, "created_at": None}, "created_at is missing"),
        ({**PART, "body": ["x"]}, "not text"),
        ({**PART, "part_type": None}, "part_type is missing"),
        ({k: v for k, v in PART.items() if k != "_parent"}, "_parent.conversation_id"),
    ],
)
def test_bad_items_raise_parse_errors(item, message):
    with pytest.raises(ParseError, match=message):
        connector().parse(item)


def test_only_parts_with_a_message_are_records():
    body = {
        "conversation_parts": {
            "conversation_parts": [
                {"id": "1", "part_type": "comment", "body": "<p>hi</p>"},
                {"id": "2", "part_type": "close", "body": None},
                {"id": "3", "part_type": "assignment", "body": "<p>Closing, thanks!</p>"},
            ]
        }
    }
    assert [p["id"] for p in CONVERSATION_PARTS.records(body)] == ["1", "3"]


def reply(body: dict[str, Any]) -> requests.Response:
    response = requests.Response()
    response._content = json.dumps(body).encode()
    response.status_code = 200
    return response


def test_search_body_asks_from_the_watermark_and_pages_by_starting_after():
    pager = SearchPaginator()
    first = pager.first_request({"updated_since": 1700000000, "per_page": 2})
    assert first["query"]["operator"] == "OR"
    assert {(f["operator"], f["value"]) for f in first["query"]["value"]} == {
        (">", 1700000000),
        ("=", 1700000000),
    }
    assert first["sort"] == {"field": "updated_at", "order": "ascending"}
    assert first["pagination"] == {"per_page": 2}
    page = {
        "conversations": [{"id": "1"}],
        "pages": {"next": {"page": 2, "starting_after": "WzE="}},
    }
    second = pager.next_request(reply(page), page["conversations"], first)
    assert second["pagination"] == {"per_page": 2, "starting_after": "WzE="}
    assert second["query"] == first["query"]
    resumed = SearchPaginator().resume(json.loads(json.dumps(pager.token())))
    assert resumed == second
    with pytest.raises(PaginationLoopError):
        pager.next_request(reply(page), page["conversations"], second)
    assert (
        pager.next_request(
            reply({"conversations": [{"id": "2"}], "pages": {}}), [{"id": "2"}], second
        )
        is None
    )


def test_region_picks_the_api_host():
    assert connector().base_url() == "https://api.intercom.io"
    assert connector(region="eu").base_url() == "https://api.eu.intercom.io"


def fetch(sb: Any, state: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("IC_TOKEN", sb.vendor("intercom").credentials["access_token"])
    ic = connector(
        base_url=sb.url("intercom"),
        credentials={"access_token": SecretRef(env="IC_TOKEN")},
        page_size=2,
        api_version="2.10",
    )
    return ic.fetch(state)


def part_keys(batches: list[Any]) -> list[tuple[str, str]]:
    return [
        (i["id"], i["updated_at"])
        for b in batches
        for i in b.items
        if i["_endpoint"] == "conversation_parts"
    ]


def test_an_edited_part_comes_back_when_its_conversation_next_moves(monkeypatch):
    with start_sandbox(vendors=("intercom",)) as sb:
        app = sb.vendor("intercom")
        state = list(fetch(sb, {}, monkeypatch))[-1].state
        conversation = next(
            c for c in app.store["conversations"] if len([p for p in c["_parts"] if p["body"]]) == 2
        )
        edited, untouched = [p for p in conversation["_parts"] if p["body"]]
        app.edit_part(edited["id"], "Edited after the fact.")  # the conversation does not move
        quiet = list(fetch(sb, state, monkeypatch))
        assert part_keys(quiet) == []  # nothing says it changed yet
        app.rate(conversation["id"], 5, "Great")
        later = list(fetch(sb, quiet[-1].state, monkeypatch))
        assert set(app.versions) == {"2.10"}
    assert part_keys(later) == [(edited["id"], edited["updated_at"])]
    assert untouched["id"] not in {k for k, _ in part_keys(later)}


def test_a_conversation_updated_mid_run_hands_on_its_parts_once(monkeypatch):
    with start_sandbox(vendors=("intercom",)) as sb:
        app = sb.vendor("intercom")
        batches = fetch(sb, {}, monkeypatch)
        first = next(batches)
        moved = next(
            c for c in first.items if any(p["body"] for p in app.conversation(c["id"])["_parts"])
        )
        app.rate(moved["id"], 3, "Meh")  # moves it to the end of the ascending search
        rest = [first, *batches]
    conversations = [i["id"] for b in rest for i in b.items if i["_endpoint"] == "conversations"]
    assert conversations.count(moved["id"]) == 2
    keys = part_keys(rest)
    assert len(keys) == len(set(keys))
    assert sorted(k for k, _ in keys) == sorted(
        p["id"] for c in app.store["conversations"] for p in c["_parts"] if p["body"]
    )
