"""Zendesk Support sandbox: cursor-based incremental ticket export, ticket comments, CSAT ratings.

Speaks the documented shapes: the export pages with `cursor`/`after_cursor`/`end_of_stream`
and `per_page` (max 1000); list endpoints page with `page[size]` (max 100) / `page[after]`,
answering `meta.has_more`, `meta.after_cursor` and `links.next`. Deleted tickets stay in the
export with status "deleted"; archived tickets are closed ones the export still returns.
"""

from __future__ import annotations

import base64
import random
import re
from typing import Any, ClassVar

from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

EXPORT_MAX = 1000
LIST_MAX = 100
RECEIVED = ("good", "bad")


class ZendeskSandbox(VendorApp):
    """Tickets, comments and satisfaction ratings of an invented help desk."""

    name = "zendesk"
    subdomain = "chorus-sandbox"
    default_credentials: ClassVar[dict[str, str]] = {
        "email": "agent@example.com",
        "api_token": "zd-sandbox-api-token-9f3b2c",
        "oauth_token": "zd-sandbox-oauth-token-51ad7e",
    }

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        self.clock = fx.Clock()
        super().__init__(data, **kw)
        for key in ("tickets", "comments", "ratings"):
            self.store.setdefault(key, [])
        times = [fx.epoch(r["updated_at"]) for k in ("tickets", "ratings") for r in self.store[k]]
        self.clock.now = max([self.clock.now, *times])

    # -- fixture data and the mutations tests make between runs ---------------------------

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        rng = random.Random(seed)
        self.store = {"tickets": [], "comments": [], "ratings": []}
        for n in range(12):
            ticket = self.add_ticket(
                subject=fx.SUBJECTS[n % len(fx.SUBJECTS)],
                description=fx.BODIES[n % len(fx.BODIES)],
                requester_id=100 + rng.randrange(8),
                organization_id=rng.choice((None, 360001, 360002, 360003)),
                tags=rng.sample(("export", "billing", "mobile", "sso", "performance"), k=2),
            )
            for _ in range(rng.randrange(4)):
                private = rng.random() < 0.25
                text = rng.choice(fx.INTERNAL_NOTES if private else fx.REPLIES)
                self.add_comment(ticket["id"], text, public=not private, author_id=900)
            if n % 3 == 0:
                score = rng.choice(RECEIVED)
                self.add_rating(ticket["id"], score, rng.choice(fx.RATING_COMMENTS))
        self.add_rating(self.store["tickets"][1]["id"], "offered", "")
        self.delete_ticket(self.store["tickets"][4]["id"])
        self.archive_ticket(self.store["tickets"][0]["id"])
        return self.store

    def _next_id(self, key: str, start: int) -> int:
        return max([start, *(r["id"] for r in self.store[key])]) + 1

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """The stored ticket with this id."""
        for ticket in self.store["tickets"]:
            if ticket["id"] == ticket_id:
                return ticket
        raise KeyError(f"no ticket {ticket_id}")

    def _touch(self, record: dict[str, Any]) -> int:
        now = self.clock.tick()
        record["updated_at"] = fx.iso(now)
        if "generated_timestamp" in record:
            record["generated_timestamp"] = now
        return now

    def add_ticket(
        self,
        subject: str,
        description: str,
        requester_id: int = 101,
        organization_id: int | None = None,
        tags: list[str] | tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """A new open ticket; its description is also its first public comment."""
        with self.lock:
            now = self.clock.tick()
            tid = self._next_id("tickets", 100)
            ticket = {
                "id": tid,
                "url": f"https://{self.subdomain}.zendesk.com/api/v2/tickets/{tid}.json",
                "external_id": None,
                "type": "question",
                "subject": subject,
                "raw_subject": subject,
                "description": description,
                "priority": "normal",
                "status": "open",
                "requester_id": requester_id,
                "submitter_id": requester_id,
                "assignee_id": 900,
                "organization_id": organization_id,
                "group_id": 20001,
                "tags": list(tags),
                "via": {"channel": "email"},
                "satisfaction_rating": {"score": "unoffered"},
                "created_at": fx.iso(now),
                "updated_at": fx.iso(now),
                "generated_timestamp": now,
            }
            self.store["tickets"].append(ticket)
            self._comment(ticket, description, True, requester_id, now)
            return ticket

    def _comment(
        self, ticket: dict[str, Any], body: str, public: bool, author_id: int, now: int
    ) -> dict[str, Any]:
        cid = self._next_id("comments", 5000)
        comment = {
            "id": cid,
            "type": "Comment",
            "author_id": author_id,
            "body": body,
            "html_body": f'<div class="zd-comment"><p>{body}</p></div>',
            "plain_body": body,
            "public": public,
            "attachments": [],
            "audit_id": cid + 100000,
            "via": {"channel": "web"},
            "metadata": {"system": {}},
            "created_at": fx.iso(now),
            "_ticket_id": ticket["id"],
        }
        self.store["comments"].append(comment)
        return comment

    def add_comment(
        self, ticket_id: int, body: str, public: bool = True, author_id: int = 900
    ) -> dict[str, Any]:
        """A reply or (public=False) an internal note; the ticket's updated_at moves with it."""
        with self.lock:
            ticket = self.ticket(ticket_id)
            return self._comment(ticket, body, public, author_id, self._touch(ticket))

    def update_ticket(self, ticket_id: int, **changes: Any) -> dict[str, Any]:
        """Change ticket fields (status, tags, ...); updated_at moves."""
        with self.lock:
            ticket = self.ticket(ticket_id)
            ticket.update(changes)
            self._touch(ticket)
            return ticket

    def delete_ticket(self, ticket_id: int) -> dict[str, Any]:
        """Soft-delete: the export keeps returning it with status "deleted"."""
        return self.update_ticket(ticket_id, status="deleted")

    def archive_ticket(self, ticket_id: int) -> dict[str, Any]:
        """Close and archive: gone from ticket lists, still in the export and its comments."""
        with self.lock:
            ticket = self.update_ticket(ticket_id, status="closed")
            ticket["_archived"] = True
            return ticket

    def add_rating(self, ticket_id: int, score: str, comment: str = "") -> dict[str, Any]:
        """A satisfaction rating on a ticket ("offered" until the customer answers)."""
        with self.lock:
            ticket = self.ticket(ticket_id)
            now = self._touch(ticket)
            rid = self._next_id("ratings", 7000)
            rating = {
                "id": rid,
                "url": f"https://{self.subdomain}.zendesk.com/api/v2/satisfaction_ratings/{rid}.json",
                "assignee_id": ticket["assignee_id"],
                "group_id": ticket["group_id"],
                "requester_id": ticket["requester_id"],
                "ticket_id": ticket_id,
                "score": score,
                "comment": comment,
                "reason": None,
                "created_at": fx.iso(now),
                "updated_at": fx.iso(now),
            }
            self.store["ratings"].append(rating)
            ticket["satisfaction_rating"] = {"id": rid, "score": score, "comment": comment}
            return rating

    def update_rating(self, rating_id: int, score: str, comment: str = "") -> dict[str, Any]:
        """The customer changes (or gives) their answer; rating and ticket move forward."""
        with self.lock:
            rating = next(r for r in self.store["ratings"] if r["id"] == rating_id)
            rating.update(score=score, comment=comment)
            self._touch(rating)
            ticket = self.ticket(rating["ticket_id"])
            ticket["satisfaction_rating"] = {"id": rating_id, "score": score, "comment": comment}
            self._touch(ticket)
            return rating

    # -- HTTP -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        creds = self.credentials
        raw = f"{creds['email']}/token:{creds['api_token']}".encode()
        allowed = {f"Basic {base64.b64encode(raw).decode()}", f"Bearer {creds['oauth_token']}"}
        if header in allowed:
            return None
        return Response(401, {"error": "Couldn't authenticate you"})

    def error(self, status: int, message: str) -> Response:
        if status == 429:
            body: Any = {"error": "APIRateLimitExceeded", "description": "Rate limit exceeded"}
            return Response(429, body)
        if status == 404:
            return Response(404, {"error": "RecordNotFound", "description": "Not found"})
        if status == 503:
            return Response(503, "Service Unavailable: maintenance in progress")
        if status == 400:
            return Response(400, {"error": "InvalidValue", "description": message})
        return Response(status, {"error": "InternalError", "description": message})

    @route("GET", r"api/v2/incremental/tickets/cursor\.json")
    def ticket_export(self, request: Request, match: re.Match[str]) -> Response:
        """Tickets ordered by (updated_at, id) after the cursor's position, or since start_time."""
        size = self.page_size(request, "per_page", EXPORT_MAX, EXPORT_MAX)
        cursor, start = request.q("cursor"), request.q("start_time")
        if cursor:
            try:
                after = tuple(fx.decode_cursor(cursor))
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
        elif start is not None and start.isdigit():
            after = (int(start), -1)
        else:
            raise BadRequest("start_time (epoch seconds) or cursor is required")
        exclude_deleted = request.q("exclude_deleted") == "true"
        rows = sorted(
            (
                t
                for t in self.store["tickets"]
                if not (exclude_deleted and t["status"] == "deleted")
            ),
            key=lambda t: (t["generated_timestamp"], t["id"]),
        )
        rest = [t for t in rows if (t["generated_timestamp"], t["id"]) > after]
        page = rest[:size]
        last = (page[-1]["generated_timestamp"], page[-1]["id"]) if page else after
        after_cursor = fx.encode_cursor(list(last))
        return Response(
            body={
                "tickets": [fx.public(t) for t in page],
                "after_url": f"{request.base_url}/api/v2/incremental/tickets/cursor.json"
                f"?cursor={after_cursor}",
                "after_cursor": after_cursor,
                "before_url": None,
                "before_cursor": None,
                "end_of_stream": len(rest) <= size,
            }
        )

    def _cursor_page(
        self, request: Request, path: str, key: str, rows: list[dict[str, Any]]
    ) -> Response:
        """One page of a list endpoint in Zendesk's cursor pagination (rows sorted by id)."""
        size = self.page_size(request, "page[size]", LIST_MAX, LIST_MAX)
        after = request.q("page[after]")
        if after:
            try:
                last_id = int(fx.decode_cursor(after))
            except (ValueError, TypeError) as exc:
                raise BadRequest(str(exc)) from None
            rows = [r for r in rows if r["id"] > last_id]
        page, more = rows[:size], len(rows) > size
        after_cursor = fx.encode_cursor(page[-1]["id"]) if page else None
        before_cursor = fx.encode_cursor(page[0]["id"]) if page else None
        base = f"{request.base_url}/{path}?page[size]={size}"
        return Response(
            body={
                key: [fx.public(r) for r in page],
                "meta": {
                    "has_more": more,
                    "after_cursor": after_cursor,
                    "before_cursor": before_cursor,
                },
                "links": {
                    "next": f"{base}&page[after]={after_cursor}" if more else None,
                    "prev": f"{base}&page[before]={before_cursor}" if before_cursor else None,
                },
            }
        )

    @route("GET", r"api/v2/tickets/(?P<ticket_id>\d+)/comments\.json")
    def ticket_comments(self, request: Request, match: re.Match[str]) -> Response:
        """A ticket's comments, oldest first; 404 for a missing or deleted ticket."""
        tid = int(match["ticket_id"])
        try:
            ticket = self.ticket(tid)
        except KeyError:
            return self.error(404, "not found")
        if ticket["status"] == "deleted":
            return self.error(404, "not found")
        rows = sorted((c for c in self.store["comments"] if c["_ticket_id"] == tid), key=_id)
        return self._cursor_page(request, match.group(0), "comments", rows)

    @route("GET", r"api/v2/satisfaction_ratings\.json")
    def satisfaction_ratings(self, request: Request, match: re.Match[str]) -> Response:
        """Ratings filtered by score and by created_at within [start_time, end_time]."""
        score = request.q("score")
        wanted = {"received": RECEIVED, None: None}.get(score, (score,))
        start, end = request.q("start_time"), request.q("end_time")
        rows = [
            r
            for r in sorted(self.store["ratings"], key=_id)
            if (wanted is None or r["score"] in wanted)
            and (start is None or fx.epoch(r["created_at"]) >= int(start))
            and (end is None or fx.epoch(r["created_at"]) <= int(end))
        ]
        return self._cursor_page(request, match.group(0), "satisfaction_ratings", rows)


def _id(record: dict[str, Any]) -> int:
    return int(record["id"])
