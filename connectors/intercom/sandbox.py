"""Intercom sandbox: conversation search, single conversations with their parts (REST API 2.x).

Speaks the documented shapes: POST /conversations/search takes {query, sort, pagination} as a
JSON body (nested AND/OR filters, `=`, `!=`, `>`, `<` on integer fields; per_page up to 150)
and answers `conversation.list` with `pages.next.starting_after`; search results carry no
parts; GET /conversations/{id} returns them under `conversation_parts`. Errors are
`error.list` bodies. Auth is a Bearer access token.
"""

from __future__ import annotations

import random
import re
from typing import Any, ClassVar

from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

SEARCH_MAX = 150


class IntercomSandbox(VendorApp):
    """Conversations, replies, notes and ratings of an invented Intercom workspace."""

    name = "intercom"
    app_id = "sandboxapp"
    default_credentials: ClassVar[dict[str, str]] = {"access_token": "ic-sandbox-token-2b8d61"}

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        self.clock = fx.Clock()
        self.versions: list[str | None] = []  # Intercom-Version header of each request
        super().__init__(data, **kw)
        self.store.setdefault("conversations", [])
        times = [c["updated_at"] for c in self.store["conversations"]]
        self.clock.now = max([self.clock.now, *times])

    # -- fixture data and the mutations tests make between runs ---------------------------

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        rng = random.Random(seed)
        self.store = {"conversations": []}
        for n in range(9):
            admin_started = n % 4 == 3
            conversation = self.add_conversation(
                body=fx.BODIES[n % len(fx.BODIES)],
                contact_id=f"65a0c0de{rng.randrange(16):04x}",
                company_id=rng.choice((None, "6480f00d0001", "6480f00d0002")),
                subject=fx.SUBJECTS[n % len(fx.SUBJECTS)] if n % 2 else None,
                author_type="admin" if admin_started else "user",
            )
            cid = conversation["id"]
            for _ in range(rng.randrange(3)):  # at most 2 message parts: GET has no paging
                if rng.random() < 0.3:
                    self.add_part(cid, rng.choice(fx.INTERNAL_NOTES), "note", "admin")
                else:
                    admin = rng.random() < 0.5
                    self.add_part(
                        cid, rng.choice(fx.REPLIES), "comment", "admin" if admin else "user"
                    )
            if n % 3 == 0:
                self.add_part(cid, None, "close", "admin")
            if n % 3 == 1:
                self.rate(cid, rng.randint(1, 5), rng.choice(fx.RATING_COMMENTS))
        return self.store

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        """The stored conversation with this id."""
        for conversation in self.store["conversations"]:
            if conversation["id"] == conversation_id:
                return conversation
        raise KeyError(f"no conversation {conversation_id}")

    def _author(self, kind: str, contact_id: str) -> dict[str, Any]:
        """A part author: the sandbox's one admin (or bot), else the conversation's contact."""
        staff = kind in ("admin", "bot")
        who, name = ("814860", "Sam Support") if staff else (contact_id, "Customer")
        email = "sam@chorus-sandbox.example" if staff else f"{contact_id}@example.com"
        return {"type": kind, "id": who, "name": name, "email": email}

    def add_conversation(
        self,
        body: str,
        contact_id: str = "65a0c0de0001",
        company_id: str | None = None,
        subject: str | None = None,
        author_type: str = "user",
    ) -> dict[str, Any]:
        """A new open conversation whose first message (`source`) is `body`."""
        with self.lock:
            now = self.clock.tick()
            cid = str(1000 + len(self.store["conversations"]) + 1)
            conversation = {
                "type": "conversation",
                "id": cid,
                "title": subject,
                "created_at": now,
                "updated_at": now,
                "waiting_since": now,
                "snoozed_until": None,
                "open": True,
                "state": "open",
                "read": False,
                "priority": "not_priority",
                "admin_assignee_id": None,
                "team_assignee_id": None,
                "company_id": company_id,
                "tags": {"type": "tag.list", "tags": []},
                "conversation_rating": None,
                "source": {
                    "type": "conversation",
                    "id": f"40{cid}",
                    "delivered_as": "admin_initiated"
                    if author_type == "admin"
                    else "customer_initiated",
                    "subject": subject or "",
                    "body": f"<p>{body}</p>",
                    "author": self._author(author_type, contact_id),
                    "attachments": [],
                    "url": None,
                    "redacted": False,
                },
                "contacts": {
                    "type": "contact.list",
                    "contacts": [{"type": "contact", "id": contact_id, "external_id": None}],
                },
                "teammates": {"type": "admin.list", "admins": []},
                "custom_attributes": {},
                "statistics": None,
                "_parts": [],
            }
            self.store["conversations"].append(conversation)
            return conversation

    def add_part(
        self,
        conversation_id: str,
        body: str | None,
        part_type: str = "comment",
        author: str = "user",
    ) -> dict[str, Any]:
        """A reply, note or state change (body None); the conversation's updated_at moves."""
        with self.lock:
            conversation = self.conversation(conversation_id)
            now = self.clock.tick()
            total = sum(len(c["_parts"]) for c in self.store["conversations"])
            contact = conversation["contacts"]["contacts"][0]["id"]
            part = {
                "type": "conversation_part",
                "id": str(70000 + total + 1),
                "part_type": part_type,
                "body": f"<p>{body}</p>" if body else None,
                "created_at": now,
                "updated_at": now,
                "notified_at": now,
                "assigned_to": None,
                "author": self._author(author, contact),
                "attachments": [],
                "external_id": None,
                "redacted": False,
            }
            conversation["_parts"].append(part)
            conversation["updated_at"] = now
            if part_type == "close":
                conversation.update(open=False, state="closed")
            return part

    def edit_part(
        self, part_id: str, body: str, touch_conversation: bool = False
    ) -> dict[str, Any]:
        """Edit a part; by default the conversation's updated_at stays (Intercom's trap)."""
        with self.lock:
            now = self.clock.tick()
            for conversation in self.store["conversations"]:
                for part in conversation["_parts"]:
                    if part["id"] == part_id:
                        part.update(body=f"<p>{body}</p>", updated_at=now)
                        if touch_conversation:
                            conversation["updated_at"] = now
                        return part
            raise KeyError(f"no part {part_id}")

    def rate(self, conversation_id: str, rating: int, remark: str = "") -> dict[str, Any]:
        """The contact rates the conversation (1-5); updated_at moves."""
        with self.lock:
            conversation = self.conversation(conversation_id)
            now = self.clock.tick()
            contact = conversation["contacts"]["contacts"][0]
            conversation["conversation_rating"] = {
                "rating": rating,
                "remark": remark,
                "created_at": now,
                "contact": {"type": "contact", "id": contact["id"], "external_id": None},
                "teammate": {"type": "admin", "id": "814860"},
            }
            conversation["updated_at"] = now
            return conversation

    # -- HTTP -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        self.versions.append(request.headers.get("Intercom-Version"))
        if request.headers.get("Authorization", "") == f"Bearer {self.credentials['access_token']}":
            return None
        return self._errors(401, "unauthorized", "Access Token Invalid")

    def _errors(self, status: int, code: str, message: str) -> Response:
        body = {
            "type": "error.list",
            "request_id": f"sandbox-{status}",
            "errors": [{"code": code, "message": message}],
        }
        return Response(status, body)

    def error(self, status: int, message: str) -> Response:
        codes = {400: "parameter_invalid", 404: "not_found", 429: "rate_limit_exceeded"}
        return self._errors(status, codes.get(status, "server_error"), message)

    @route("POST", r"conversations/search")
    def search(self, request: Request, match: re.Match[str]) -> Response:
        """Conversations matching the body's query, sorted, one page after starting_after."""
        body = _json_body(request)
        query = body.get("query")
        sort = body.get("sort") or {"field": "updated_at", "order": "descending"}
        if not isinstance(query, dict):
            raise BadRequest("query is required")
        paging = body.get("pagination") or {}
        size = min(int(paging.get("per_page") or 20), SEARCH_MAX)
        size = min(size, self.page_size_cap) if self.page_size_cap else size
        field, descending = sort.get("field", "updated_at"), sort.get("order") == "descending"
        key = lambda c: [c.get(field) or 0, c["id"]]  # noqa: E731
        rows = sorted(
            (c for c in self.store["conversations"] if _matches(c, query)),
            key=key,
            reverse=descending,
        )
        page = 1
        if paging.get("starting_after"):
            try:
                page, *position = fx.decode_cursor(paging["starting_after"])
            except (ValueError, TypeError) as exc:
                raise BadRequest(str(exc)) from None
            rows = [c for c in rows if (key(c) < position if descending else key(c) > position)]
        chunk = rows[:size]
        pages: dict[str, Any] = {
            "type": "pages",
            "page": page,
            "per_page": size,
            "total_pages": page + max(0, -(-len(rows) // size) - 1),
        }
        if len(rows) > size:
            cursor = fx.encode_cursor([page + 1, *key(chunk[-1])])
            pages["next"] = {"page": page + 1, "starting_after": cursor}
        return Response(
            body={
                "type": "conversation.list",
                "conversations": [fx.public(c) for c in chunk],
                "total_count": len(rows),
                "pages": pages,
            }
        )

    @route("GET", r"conversations/(?P<conversation_id>[^/]+)")
    def retrieve(self, request: Request, match: re.Match[str]) -> Response:
        """One conversation with all its parts (no paging)."""
        try:
            conversation = self.conversation(match["conversation_id"])
        except KeyError:
            return self.error(404, "Resource Not Found")
        parts = [dict(p) for p in conversation["_parts"]]
        return Response(
            body={
                **fx.public(conversation),
                "conversation_parts": {
                    "type": "conversation_part.list",
                    "conversation_parts": parts,
                    "total_count": len(parts),
                },
            }
        )


def _json_body(request: Request) -> dict[str, Any]:
    """The request's JSON body, which search requires to be an object."""
    body = request.json()
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


_COMPARE = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not None and a > b,
    "<": lambda a, b: a is not None and a < b,
}


def _matches(conversation: dict[str, Any], query: dict[str, Any]) -> bool:
    """Whether a conversation satisfies a search query (nested AND/OR of field filters)."""
    operator, value = query.get("operator"), query.get("value")
    if operator in ("AND", "OR"):
        if not isinstance(value, list) or not value:
            raise BadRequest(f"{operator} needs a non-empty list of filters")
        results = [_matches(conversation, q) for q in value]
        return all(results) if operator == "AND" else any(results)
    if operator not in _COMPARE or "field" not in query:
        raise BadRequest(f"unsupported filter {query!r}")
    return _COMPARE[operator](conversation.get(query["field"]), value)
