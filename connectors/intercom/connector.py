"""Intercom: conversations (search by updated_at), their parts, and conversation ratings.

Choices and traps handled:
- Incremental reads use POST /conversations/search, `updated_at >= watermark` sorted ascending;
  the query, sort and pagination (`pages.next.starting_after`) travel in the JSON body, which
  `SearchPaginator` builds and the shared client sends (a JSON-body paginator). The boundary
  second is asked for again and the Watermark drops the ids it already holds.
- Search results carry no parts: each updated conversation is read again with
  GET /conversations/{id} (up to 500 parts) and its parts are kept when updated after the
  previous run's watermark, by the part's own `updated_at`, so an edited or redacted part
  comes back as a new version. Within a run, a part is handed on once per (id, updated_at)
  even when its conversation shows up twice (updated while the run pages).
- A part updated without its conversation's updated_at moving is only seen when the
  conversation next comes back; the API offers no part-level feed.
- The first message is the conversation's `source`; its row and the rating row come from the
  search result itself. Notes and parts by admins, bots or teams are internal.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from connectors.common.base import ParseError, normalised_rating, parse_timestamp
from connectors.common.http.auth import AuthStrategy, BearerAuth
from connectors.common.http.paginators import JsonBodyCursorPaginator, SinglePage, dig
from connectors.common.incremental import Watermark
from connectors.common.rest import ChildEndpoint, Endpoint, RestConnector, RestOptions, required
from connectors.common.text import html_text, text_or_none

API_DOCS = "https://developers.intercom.com/docs/references/rest-api/api.intercom.io"
REGION_HOSTS = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}
SEARCH_PER_PAGE = 150  # the search API's maximum
INTERNAL_AUTHORS = frozenset({"admin", "bot", "team"})


class SearchPaginator(JsonBodyCursorPaginator):
    """Intercom search paging: the whole request is a JSON body; the next one adds starting_after."""

    def __init__(self, field: str = "updated_at", since_param: str = "updated_since") -> None:
        super().__init__("pages.next.starting_after", "pagination.starting_after")
        self.field = field
        self.since_param = since_param

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        """The search body for `field >= params[since_param]`, oldest first."""
        since = int(params.get(self.since_param) or 0)
        body = {
            "query": {
                "operator": "OR",
                "value": [
                    {"field": self.field, "operator": ">", "value": since},
                    {"field": self.field, "operator": "=", "value": since},
                ],
            },
            "sort": {"field": self.field, "order": "ascending"},
            "pagination": {"per_page": int(params.get("per_page") or SEARCH_PER_PAGE)},
        }
        return super().first_request(body)


def _conversation_parts(body: Any) -> list[Any]:
    """The parts that carry a message: comments, notes, and replies attached to close/assign."""
    parts = dig(body, "conversation_parts.conversation_parts") or []
    return [p for p in parts if isinstance(p, dict) and p.get("body")]


def _first_contact(conversation: dict[str, Any]) -> str | None:
    contacts = dig(conversation, "contacts.contacts") or []
    return (
        text_or_none(contacts[0].get("id")) if contacts and isinstance(contacts[0], dict) else None
    )


CONVERSATION_PARTS = ChildEndpoint(
    name="conversation_parts",
    path="conversations/{conversation_id}",
    records=_conversation_parts,
    paginator=SinglePage,
    parent_params=lambda conversation: {"conversation_id": conversation["id"]},
    context=lambda conversation: {
        "conversation_id": conversation["id"],
        "contact_id": _first_contact(conversation),
        "company_id": conversation.get("company_id"),
    },
    since_field="updated_at",
    dedupe_key=lambda part: (part.get("id"), part.get("updated_at")),  # its conversation twice
    docs_url=f"{API_DOCS}/conversations/retrieveconversation",
)

CONVERSATIONS = Endpoint(
    name="conversations",
    path="conversations/search",
    records="conversations",
    paginator=SearchPaginator,
    page_size_param="per_page",
    incremental=Watermark("updated_at", "updated_since"),
    dedupe_key=lambda conversation: (conversation.get("id"), conversation.get("updated_at")),
    child=CONVERSATION_PARTS,
    docs_url=f"{API_DOCS}/conversations/searchconversations",
)


class IntercomOptions(RestOptions):
    """Intercom keys: data region, API version, and the workspace id for inbox links."""

    region: Literal["us", "eu", "au"] = "us"
    api_version: str = "2.11"
    app_id: str | None = None  # workspace id: conversation URLs need it


class IntercomConnector(RestConnector):
    type = "intercom"
    source_kind = "support"
    docs_url = f"{API_DOCS}/conversations"
    description = "Intercom conversations, their replies and notes, and conversation ratings"
    Options = IntercomOptions
    DEFAULT_BASE_URL = REGION_HOSTS["us"]
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = (CONVERSATIONS,)
    HEADERS: ClassVar[dict[str, str]] = {
        "Intercom-Version": "{api_version}",  # pinned: shapes change between versions
        "Accept": "application/json",
    }

    def base_url(self) -> str:
        """source.base_url, else the API host of the workspace's region."""
        return (
            str(self.source.base_url) if self.source.base_url else REGION_HOSTS[self.options.region]
        )

    def auth(self) -> tuple[AuthStrategy, str]:
        """An access token (or an OAuth token) sent as Bearer."""
        name = self.credential_name("access_token")
        return BearerAuth(self.secret("access_token"), credential_name=name), name

    def inbox_url(self, conversation_id: Any) -> str | None:
        """The conversation in the Intercom inbox, when the workspace id is configured."""
        app = self.options.app_id
        return (
            f"https://app.intercom.com/a/inbox/{app}/inbox/conversation/{conversation_id}"
            if app
            else None
        )

    def parse_conversations(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """The opening message (source) and, when given, the conversation rating."""
        cid = required(item, "id", "conversation")
        what = f"conversation {cid}"
        created = parse_timestamp(item.get("created_at"), what=f"{what}: created_at")
        updated = parse_timestamp(item.get("updated_at") or created, what=f"{what}: updated_at")
        source = item.get("source")
        if not isinstance(source, dict):
            raise ParseError(f"{what}: source is missing")
        author = source.get("author") or {}
        contact, company = _first_contact(item), text_or_none(item.get("company_id"))
        internal = author.get("type") in INTERNAL_AUTHORS
        tags = [
            t["name"] for t in dig(item, "tags.tags") or [] if isinstance(t, dict) and t.get("name")
        ]
        tags += [f"state:{item['state']}"] if item.get("state") else []
        tags += [f"channel:{source['type']}"] if source.get("type") else []
        rows = [
            self.row(
                source_id=str(cid),
                thread_id=str(cid),
                account_id=company,
                customer_id=contact if internal else text_or_none(author.get("id")) or contact,
                created_at=created,
                updated_at=updated,
                title=text_or_none(item.get("title")) or text_or_none(source.get("subject")),
                text=html_text(source.get("body"), f"{what}: source.body"),
                tags=tags,
                url=self.inbox_url(cid),
                is_internal=internal,
            )
        ]
        rating = item.get("conversation_rating")
        if isinstance(rating, dict) and rating.get("rating") is not None:
            value, raw = normalised_rating(rating["rating"], (1, 5))
            rated = rating.get("updated_at") or rating.get("created_at") or updated
            rows.append(
                self.row(
                    source_id=f"{cid}:rating",
                    thread_id=str(cid),
                    account_id=company,
                    customer_id=text_or_none(dig(rating, "contact.id")) or contact,
                    created_at=parse_timestamp(
                        rating.get("created_at") or rated, what=f"{what}: rating"
                    ),
                    updated_at=parse_timestamp(rated, what=f"{what}: rating updated_at"),
                    text=html_text(rating.get("remark"), f"{what}: rating remark"),
                    rating=value,
                    rating_raw=raw,
                    rating_scale="1-5",
                    tags=["csat", f"csat:{raw:g}"],
                    url=self.inbox_url(cid),
                )
            )
        return rows

    def parse_conversation_parts(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A reply or note; notes and admins', bots' and teams' parts are internal."""
        parent = item.get("_parent") or {}
        conversation_id = parent.get("conversation_id")
        if conversation_id is None:
            raise ParseError(
                "part: _parent.conversation_id is missing (not fetched via its conversation)"
            )
        pid = required(item, "id", f"part of conversation {conversation_id}")
        what = f"part {pid} of conversation {conversation_id}"
        created = parse_timestamp(item.get("created_at"), what=f"{what}: created_at")
        updated = parse_timestamp(item.get("updated_at") or created, what=f"{what}: updated_at")
        part_type = required(item, "part_type", what)
        author = item.get("author") or {}
        internal = part_type == "note" or author.get("type") in INTERNAL_AUTHORS
        contact = text_or_none(parent.get("contact_id"))
        tags = [part_type] + ([f"author:{author['type']}"] if author.get("type") else [])
        return [
            self.row(
                source_id=f"{conversation_id}:{pid}",
                thread_id=str(conversation_id),
                account_id=text_or_none(parent.get("company_id")),
                customer_id=contact if internal else text_or_none(author.get("id")) or contact,
                created_at=created,
                updated_at=updated,
                text=html_text(item.get("body"), f"{what}: body"),
                tags=tags,
                url=self.inbox_url(conversation_id),
                is_internal=internal,
            )
        ]
