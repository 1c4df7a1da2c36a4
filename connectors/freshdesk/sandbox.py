"""Freshdesk sandbox: the ticket list, ticket conversations and satisfaction ratings (API v2).

Speaks the documented shapes: lists are bare JSON arrays paged by `page` / `per_page`
(max 100) with an RFC 8288 `Link: <...>; rel="next"` header while more remain; the ticket
list filters `updated_since` inclusively, sorts by `order_by`/`order_type`, answers only tickets
created in the last 30 days without `updated_since`, and refuses `page` beyond `max_page`
(300) with Freshdesk's validation error. Auth is Basic with the API key and "X".
"""

from __future__ import annotations

import base64
import random
import re
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

PER_PAGE_MAX = 100
RECENT_S = 30 * 24 * 3600
CSAT = (103, 100, -103, 102, -102)


class FreshdeskSandbox(VendorApp):
    """Tickets, replies, notes and CSAT answers of an invented help desk."""

    name = "freshdesk"
    domain = "chorus-sandbox"
    max_page = 300
    default_credentials: ClassVar[dict[str, str]] = {"api_key": "fd-sandbox-api-key-7c41e9"}

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        self.clock = fx.Clock()
        super().__init__(data, **kw)
        for key in ("tickets", "conversations", "ratings"):
            self.store.setdefault(key, [])
        times = [fx.epoch(r["updated_at"]) for k in ("tickets", "ratings") for r in self.store[k]]
        self.clock.now = max([self.clock.now, *times])

    # -- fixture data and the mutations tests make between runs ---------------------------

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        rng = random.Random(seed)
        self.store = {"tickets": [], "conversations": [], "ratings": []}
        for n in range(11):
            ticket = self.add_ticket(
                subject=fx.SUBJECTS[n % len(fx.SUBJECTS)],
                description=fx.BODIES[n % len(fx.BODIES)],
                requester_id=3000 + rng.randrange(6),
                company_id=rng.choice((None, 8001, 8002)),
                tags=rng.sample(("export", "billing", "mobile", "sso"), k=1),
            )
            for _ in range(rng.randrange(4)):
                kind = rng.choice(("customer", "agent", "note"))
                text = rng.choice(fx.INTERNAL_NOTES if kind == "note" else fx.REPLIES)
                self.add_conversation(ticket["id"], text, kind=kind)
            if n % 3 == 1:
                self.add_rating(ticket["id"], rng.choice(CSAT), rng.choice(fx.RATING_COMMENTS))
        return self.store

    def _next_id(self, key: str, start: int) -> int:
        return max([start, *(r["id"] for r in self.store[key])]) + 1

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """The stored ticket with this id."""
        for ticket in self.store["tickets"]:
            if ticket["id"] == ticket_id:
                return ticket
        raise KeyError(f"no ticket {ticket_id}")

    def add_ticket(
        self,
        subject: str,
        description: str,
        requester_id: int = 3001,
        company_id: int | None = None,
        tags: list[str] | tuple[str, ...] = (),
        at: int | None = None,
    ) -> dict[str, Any]:
        """A new open ticket from the portal; `at` pins its time (same-second tickets)."""
        with self.lock:
            now = self.clock.tick() if at is None else at
            tid = self._next_id("tickets", 40)
            ticket = {
                "id": tid,
                "subject": subject,
                "description": f"<div>{description}</div>",
                "description_text": description,
                "status": 2,
                "priority": 1,
                "source": 2,
                "type": "Question",
                "requester_id": requester_id,
                "responder_id": 7001,
                "company_id": company_id,
                "group_id": 6001,
                "tags": list(tags),
                "cc_emails": [],
                "fwd_emails": [],
                "reply_cc_emails": [],
                "to_emails": None,
                "fr_escalated": False,
                "is_escalated": False,
                "spam": False,
                "custom_fields": {},
                "due_by": fx.iso(now + 3 * 24 * 3600),
                "fr_due_by": fx.iso(now + 24 * 3600),
                "created_at": fx.iso(now),
                "updated_at": fx.iso(now),
            }
            self.store["tickets"].append(ticket)
            return ticket

    def add_conversation(self, ticket_id: int, body: str, kind: str = "customer") -> dict[str, Any]:
        """A customer reply, an agent reply or (kind="note") a private note; the ticket moves."""
        with self.lock:
            ticket = self.ticket(ticket_id)
            now = self.clock.tick()
            ticket["updated_at"] = fx.iso(now)
            cid = self._next_id("conversations", 90000)
            customer = kind == "customer"
            conversation = {
                "id": cid,
                "body": f"<div>{body}</div>",
                "body_text": body,
                "incoming": customer,
                "private": kind == "note",
                "user_id": ticket["requester_id"] if customer else 7001,
                "support_email": None if customer else "support@chorus-sandbox.example",
                "source": 2 if kind == "note" else 0,
                "category": 2,
                "ticket_id": ticket_id,
                "to_emails": [] if customer else ["customer@example.com"],
                "from_email": None,
                "cc_emails": [],
                "bcc_emails": [],
                "attachments": [],
                "created_at": fx.iso(now),
                "updated_at": fx.iso(now),
            }
            self.store["conversations"].append(conversation)
            return conversation

    def edit_conversation(self, conversation_id: int, body: str) -> dict[str, Any]:
        """An agent edits a note: its updated_at moves, and so does the ticket's."""
        with self.lock:
            note = next(c for c in self.store["conversations"] if c["id"] == conversation_id)
            now = self.clock.tick()
            note.update(body=f"<div>{body}</div>", body_text=body, updated_at=fx.iso(now))
            self.ticket(note["ticket_id"])["updated_at"] = fx.iso(now)
            return note

    def add_rating(self, ticket_id: int, rating: int, feedback: str = "") -> dict[str, Any]:
        """The requester's answer to the CSAT survey."""
        with self.lock:
            ticket = self.ticket(ticket_id)
            now = self.clock.tick()
            rating_row = {
                "id": self._next_id("ratings", 500),
                "survey_id": 4001,
                "user_id": ticket["requester_id"],
                "agent_id": 7001,
                "group_id": 6001,
                "ticket_id": ticket_id,
                "feedback": feedback,
                "ratings": {"default_question": rating},
                "created_at": fx.iso(now),
                "updated_at": fx.iso(now),
            }
            self.store["ratings"].append(rating_row)
            return rating_row

    # -- HTTP -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        raw = f"{self.credentials['api_key']}:X".encode()
        if request.headers.get("Authorization", "") == f"Basic {base64.b64encode(raw).decode()}":
            return None
        body = {
            "code": "invalid_credentials",
            "message": "You have to be logged in to perform this action.",
        }
        return Response(401, body)

    def error(self, status: int, message: str) -> Response:
        if status == 400:
            return Response(
                400,
                {
                    "description": "Validation failed",
                    "errors": [{"field": "query", "message": message, "code": "invalid_value"}],
                },
            )
        if status == 429:
            return Response(429, {"message": "You have exceeded the limit of requests per minute"})
        if status == 404:
            return Response(404, {"code": "not_found", "message": "Record not found"})
        return Response(status, {"code": "internal_error", "message": message})

    def _page(self, request: Request, path: str, rows: list[dict[str, Any]]) -> Response:
        """One page of a list: a bare array, and a Link header to the next page."""
        size = self.page_size(request, "per_page", 30, PER_PAGE_MAX)
        page = _int(request.q("page") or "1", "page")
        start = (page - 1) * size
        chunk = rows[start : start + size]
        headers = {}
        if len(rows) > start + size:
            query = {k: v for k, v in request.query.items() if k != "page"}
            url = f"{request.base_url}/{path}?{urlencode({**query, 'page': page + 1})}"
            headers["Link"] = f'<{url}>; rel="next"'
        return Response(body=[fx.public(r) for r in chunk], headers=headers)

    @route("GET", r"api/v2/tickets")
    def tickets(self, request: Request, match: re.Match[str]) -> Response:
        """Tickets updated at or after updated_since (else created in the last 30 days)."""
        page = _int(request.q("page") or "1", "page")
        if page > self.max_page:
            message = (
                f"You cannot access tickets beyond the {self.max_page}th page. "
                "Please provide a smaller page number."
            )
            return Response(
                400,
                {
                    "description": "Validation failed",
                    "errors": [{"field": "page", "message": message, "code": "invalid_value"}],
                },
            )
        since = request.q("updated_since")
        if since is not None:
            floor = _epoch(since, "updated_since")
            rows = [t for t in self.store["tickets"] if fx.epoch(t["updated_at"]) >= floor]
        else:
            recent = self.clock.now - RECENT_S
            rows = [t for t in self.store["tickets"] if fx.epoch(t["created_at"]) >= recent]
        order_by = request.q("order_by", "created_at")
        if order_by not in ("created_at", "updated_at", "due_by", "status"):
            raise BadRequest(f"order_by {order_by!r} is not allowed")
        rows = sorted(rows, key=lambda t: (t[order_by], t["id"]))
        if request.q("order_type", "desc") == "desc":
            rows.reverse()
        if request.q("include") != "description":
            rows = [
                {k: v for k, v in t.items() if k not in ("description", "description_text")}
                for t in rows
            ]
        return self._page(request, match.group(0), rows)

    @route("GET", r"api/v2/tickets/(?P<ticket_id>\d+)/conversations")
    def conversations(self, request: Request, match: re.Match[str]) -> Response:
        """A ticket's replies and notes, oldest first; 404 for an unknown ticket."""
        tid = int(match["ticket_id"])
        try:
            self.ticket(tid)
        except KeyError:
            return self.error(404, "not found")
        rows = sorted((c for c in self.store["conversations"] if c["ticket_id"] == tid), key=_id)
        return self._page(request, match.group(0), rows)

    @route("GET", r"api/v2/surveys/satisfaction_ratings")
    def satisfaction_ratings(self, request: Request, match: re.Match[str]) -> Response:
        """CSAT answers created at or after created_since, oldest first."""
        since = request.q("created_since")
        floor = _epoch(since, "created_since") if since else 0
        rows = sorted(
            (r for r in self.store["ratings"] if fx.epoch(r["created_at"]) >= floor),
            key=lambda r: (r["created_at"], r["id"]),
        )
        return self._page(request, match.group(0), rows)


def _int(raw: str, name: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise BadRequest(f"{name} must be a positive number, got {raw!r}")
    return int(raw)


def _epoch(raw: str, name: str) -> int:
    try:
        return fx.epoch(raw)
    except ValueError:
        raise BadRequest(f"{name} {raw!r} is not a valid date-time") from None


def _id(record: dict[str, Any]) -> int:
    return int(record["id"])
