"""Zendesk Support: tickets (cursor-based incremental export), their comments, CSAT ratings.

Traps handled:
- The time-based export repeats items across pages; we use the cursor-based export and still
  drop a ticket seen twice with the same updated_at within one run.
- Deleted tickets stay in the export with status "deleted": they become a row tagged
  `chorus:deleted` (DELETED_TAG) so processing retires the item; their comments are not
  fetched (Zendesk answers 404).
- Archived tickets (closed, moved out of ticket lists) are still in the incremental export,
  which is why we use it: they arrive like any closed ticket, tagged "status:closed".
- Comments have no incremental API: when an updated ticket comes back, only comments newer
  than what the previous run covered are kept (`since_field`).
- Ratings are created when offered and updated when answered, and the API filters by
  creation time: we ask from a lookback before the watermark and keep only newer updates.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import Field

from connectors.common.base import ParseError, parse_timestamp, parsed_tags
from connectors.common.http.auth import ApiTokenAuth, AuthStrategy, BearerAuth
from connectors.common.http.paginators import CursorPaginator
from connectors.common.incremental import CursorExport, Watermark
from connectors.common.rest import (
    DELETED_TAG,
    ChildEndpoint,
    Endpoint,
    RestConnector,
    RestOptions,
    required,
)
from connectors.common.text import text_or_none

API_DOCS = "https://developer.zendesk.com/api-reference/ticketing"
RATING_LOOKBACK_S = 14 * 24 * 3600
RATING_SCORES = {"good": 1.0, "bad": 0.0}


def _list_paginator() -> CursorPaginator:
    """Zendesk cursor pagination for list endpoints: page[after] <- meta.after_cursor."""
    return CursorPaginator("page[after]", "meta.after_cursor", has_more="meta.has_more")


TICKET_COMMENTS = ChildEndpoint(
    name="ticket_comments",
    path="api/v2/tickets/{ticket_id}/comments.json",
    records="comments",
    paginator=_list_paginator,
    parent_params=lambda ticket: {"ticket_id": ticket["id"]},
    context=lambda ticket: {"ticket_id": ticket["id"]},
    applies=lambda ticket: ticket.get("status") != "deleted",
    page_size_param="page[size]",
    since_field="created_at",
    docs_url=f"{API_DOCS}/tickets/ticket_comments/#list-comments",
)

TICKETS = Endpoint(
    name="tickets",
    path="api/v2/incremental/tickets/cursor.json",
    records="tickets",
    paginator=lambda: CursorPaginator(
        "cursor", "after_cursor", is_last="end_of_stream", drop_params=("start_time",)
    ),
    page_size_param="per_page",
    incremental=CursorExport("cursor", "after_cursor", "start_time", time_field="updated_at"),
    dedupe_key=lambda ticket: (ticket.get("id"), ticket.get("updated_at")),
    child=TICKET_COMMENTS,
    docs_url=f"{API_DOCS}/ticket-management/incremental_exports/"
    "#incremental-ticket-export-cursor-based",
)

SATISFACTION_RATINGS = Endpoint(
    name="satisfaction_ratings",
    path="api/v2/satisfaction_ratings.json",
    records="satisfaction_ratings",
    paginator=_list_paginator,
    params={"score": "received"},
    page_size_param="page[size]",
    incremental=Watermark("updated_at", "start_time", lookback_s=RATING_LOOKBACK_S),
    dedupe_key=lambda rating: (rating.get("id"), rating.get("updated_at")),
    docs_url=f"{API_DOCS}/ticket-management/satisfaction_ratings/#list-satisfaction-ratings",
)


class ZendeskOptions(RestOptions):
    """Zendesk keys: the subdomain (for the API and agent URLs) and the API user's email."""

    subdomain: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    email: str | None = None  # or credentials.email


class ZendeskConnector(RestConnector):
    type = "zendesk"
    source_kind = "support"
    docs_url = "https://developer.zendesk.com/api-reference/ticketing/introduction/"
    description = "Zendesk Support tickets, comments and satisfaction ratings"
    Options = ZendeskOptions
    DEFAULT_BASE_URL = "https://{subdomain}.zendesk.com"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = (TICKETS, SATISFACTION_RATINGS)

    def auth(self) -> tuple[AuthStrategy, str]:
        """An OAuth access token when configured, else email + API token."""
        if "oauth_token" in self.source.credentials:
            name = self.credential_name("oauth_token")
            return BearerAuth(self.secret("oauth_token"), credential_name=name), name
        email = self.options.email or self.secret("email")
        name = self.credential_name("api_token")
        return ApiTokenAuth(email, self.secret("api_token"), credential_name=name), name

    def agent_url(self, ticket_id: Any, api_url: Any = None) -> str | None:
        """The ticket's page in the agent workspace, when the subdomain is known."""
        subdomain = self.options.subdomain
        if subdomain is None and isinstance(api_url, str):
            host = urlsplit(api_url).hostname or ""
            subdomain = host.removesuffix(".zendesk.com") if host.endswith(".zendesk.com") else None
        return f"https://{subdomain}.zendesk.com/agent/tickets/{ticket_id}" if subdomain else None

    def parse_tickets(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A ticket: subject and description; deleted ones tagged for retirement."""
        tid = required(item, "id", "ticket")
        what = f"ticket {tid}"
        created = parse_timestamp(item.get("created_at"), what=f"{what}: created_at")
        updated = parse_timestamp(item.get("updated_at") or created, what=f"{what}: updated_at")
        status = item.get("status")
        if status is None:
            raise ParseError(f"{what}: status is missing")
        tags = parsed_tags(item.get("tags")) + [f"status:{status}"]
        if status == "deleted":
            tags.append(DELETED_TAG)
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            raise ParseError(f"{what}: description is {type(description).__name__}, not text")
        return [
            self.row(
                source_id=str(tid),
                thread_id=str(tid),
                account_id=text_or_none(item.get("organization_id")),
                customer_id=text_or_none(item.get("requester_id")),
                created_at=created,
                updated_at=updated,
                title=text_or_none(item.get("subject")),
                text=description or "",
                tags=tags,
                url=self.agent_url(tid, item.get("url")),
            )
        ]

    def parse_ticket_comments(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A comment; private notes (public: false) are marked internal."""
        ticket_id = (item.get("_parent") or {}).get("ticket_id")
        if ticket_id is None:
            raise ParseError("comment: _parent.ticket_id is missing (not fetched via its ticket)")
        cid = required(item, "id", f"comment on ticket {ticket_id}")
        what = f"comment {cid} on ticket {ticket_id}"
        created = parse_timestamp(item.get("created_at"), what=f"{what}: created_at")
        text = item.get("plain_body") or item.get("body")
        if not isinstance(text, str):
            raise ParseError(f"{what}: neither plain_body nor body holds text")
        public = item.get("public")
        if not isinstance(public, bool):
            raise ParseError(f"{what}: public is {public!r}, expected true or false")
        return [
            self.row(
                source_id=f"{ticket_id}:{cid}",
                thread_id=str(ticket_id),
                customer_id=text_or_none(item.get("author_id")),
                created_at=created,
                text=text,
                tags=[] if public else ["internal_note"],
                url=self.agent_url(ticket_id),
                is_internal=not public,
            )
        ]

    def parse_satisfaction_ratings(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A CSAT answer: good -> 1.0, bad -> 0.0 on the "bad-good" scale, with its comment."""
        rid = required(item, "id", "satisfaction rating")
        what = f"satisfaction rating {rid}"
        score = item.get("score")
        if score not in RATING_SCORES:
            raise ParseError(f"{what}: score {score!r} is not a received rating (good or bad)")
        created = parse_timestamp(item.get("created_at"), what=f"{what}: created_at")
        updated = parse_timestamp(item.get("updated_at") or created, what=f"{what}: updated_at")
        ticket_id = text_or_none(item.get("ticket_id"))
        reason = item.get("reason")
        return [
            self.row(
                source_id=f"rating:{rid}",
                thread_id=ticket_id,
                customer_id=text_or_none(item.get("requester_id")),
                created_at=created,
                updated_at=updated,
                text=item.get("comment") or "",
                rating=RATING_SCORES[score],
                rating_raw=RATING_SCORES[score],
                rating_scale="bad-good",
                tags=["csat", f"csat:{score}"] + ([f"reason:{reason}"] if reason else []),
                url=self.agent_url(ticket_id) if ticket_id else None,
            )
        ]
