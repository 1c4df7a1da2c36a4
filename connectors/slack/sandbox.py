"""Slack Web API sandbox: conversations.history and conversations.replies of a few channels.

Speaks the documented shapes: errors as HTTP 200 {"ok": false, "error": ...} (not_authed,
invalid_auth, channel_not_found, invalid_cursor, thread_not_found), rate limits as 429
{"ok": false, "error": "ratelimited"} with Retry-After; history newest first with
oldest/latest/inclusive and `limit` (max 999) / `cursor` paging (`has_more`,
`response_metadata.next_cursor`); history lists parents (with reply_count, latest_reply) and
thread_broadcast replies, not plain replies; replies returns the parent first, then replies
oldest first. Message ts are "<epoch>.<6 digits>" from a fixed clock.
"""

from __future__ import annotations

import random
import re
from typing import Any, ClassVar

from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

PRODUCT = "C0PRODUCT01"  # an internal channel
SHARED = "C0SHARED001"  # a Slack Connect channel shared with a customer
OUR_TEAM, CUSTOMER_TEAM = "T0OURTEAM1", "T0CUSTOMR1"
STAFF = ("U0STAFF0001", "U0STAFF0002", "U0STAFF0003")
CUSTOMERS = ("U0CUST00001", "U0CUST00002")
LIST_MAX = 999
POSTS = (
    "The <https://status.example.com|export job> failed again for <@U0CUST00001> :disappointed:",
    "Customers keep asking for dark mode, see <#C0PRODUCT01|product-feedback>",
    "Dashboard loads in 30s for big teams &amp; it is getting worse",
    "SSO with Okta is a blocker for the rollout :warning:",
    "Love the new share sheet :tada: :+1::skin-tone-3:",
    "Can we get the weekly report as a PDF?",
)
REPLIES = (
    "Same here, it happened twice this week.",
    "Filed it as a bug :bug:",
    "Any update on this one?",
)


class SlackSandbox(VendorApp):
    """Messages and threads of an internal and a customer-shared channel."""

    name = "slack"
    default_credentials: ClassVar[dict[str, str]] = {
        "bot_token": "xoxb-000000000001-sandbox-bot-token-4f2a",
    }
    channels = (PRODUCT, SHARED)

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        self.clock = fx.Clock(step=17 * 60)
        self.seq = 0
        super().__init__(data, **kw)
        self.store.setdefault("messages", [])

    # -- fixture data and the mutations tests make between runs ---------------------------

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        rng = random.Random(seed)
        self.store = {"messages": []}
        self.post(PRODUCT, "", STAFF[2], subtype="channel_join")
        for n in range(9):
            channel = (PRODUCT, SHARED)[n % 2]
            user = rng.choice(CUSTOMERS if channel == SHARED and n % 3 else STAFF)
            parent = self.post(channel, POSTS[n % len(POSTS)], user)
            for k in range(rng.randrange(3) if n % 3 != 2 else 0):
                self.reply(
                    channel, parent["ts"], REPLIES[(n + k) % len(REPLIES)], rng.choice(STAFF)
                )
        thread = self.store["messages"][1]
        self.reply(PRODUCT, thread["ts"], "Sharing with everyone: fixed in 5.4.1", STAFF[0], True)
        self.post(PRODUCT, "Build 5.4.1 deployed", "", subtype="bot_message")
        return self.store

    def _ts(self) -> str:
        self.seq += 1
        return f"{self.clock.tick()}.{self.seq:06d}"

    def post(
        self, channel: str, text: str, user: str, subtype: str | None = None
    ) -> dict[str, Any]:
        """A top-level message (or a system event / bot message with `subtype`)."""
        with self.lock:
            message: dict[str, Any] = {"type": "message", "text": text, "ts": self._ts()}
            if subtype == "bot_message":
                message.update(subtype=subtype, bot_id="B0DEPLOYBOT", username="deploy-bot")
            else:
                team = CUSTOMER_TEAM if user in CUSTOMERS else OUR_TEAM
                message.update(user=user, team=team, user_team=team)
                if subtype:
                    message["subtype"] = subtype
            message["_channel"] = channel
            self.store["messages"].append(message)
            return message

    def reply(
        self, channel: str, thread_ts: str, text: str, user: str, broadcast: bool = False
    ) -> dict[str, Any]:
        """A reply in a thread; `broadcast` also sends it to the channel (thread_broadcast)."""
        with self.lock:
            parent = self.find(channel, thread_ts)
            team = CUSTOMER_TEAM if user in CUSTOMERS else OUR_TEAM
            message = self.post(channel, text, user, "thread_broadcast" if broadcast else None)
            message.update(thread_ts=parent["ts"], parent_user_id=parent.get("user"), team=team)
            return message

    def edit(self, channel: str, ts: str, text: str) -> dict[str, Any]:
        """The author edits a message: text changes, edited.ts records when."""
        with self.lock:
            message = self.find(channel, ts)
            message.update(text=text, edited={"user": message.get("user"), "ts": self._ts()})
            return message

    def find(self, channel: str, ts: str) -> dict[str, Any]:
        return next(m for m in self.store["messages"] if m["_channel"] == channel and m["ts"] == ts)

    def replies_of(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """A thread's replies, oldest first."""
        return sorted(
            (
                m
                for m in self.store["messages"]
                if m["_channel"] == channel and m.get("thread_ts") == ts and m["ts"] != ts
            ),
            key=_ts_key,
        )

    def listed_in_history(self, message: dict[str, Any]) -> bool:
        """Parents, plain messages and broadcast replies; not plain thread replies."""
        thread = message.get("thread_ts")
        return not thread or thread == message["ts"] or message.get("subtype") == "thread_broadcast"

    def served(self, message: dict[str, Any]) -> dict[str, Any]:
        """A message as the API shows it: parents carry their thread summary."""
        out = fx.public(message)
        replies = self.replies_of(message["_channel"], message["ts"])
        if replies and "thread_ts" not in message:
            out.update(
                thread_ts=message["ts"],
                reply_count=len(replies),
                reply_users_count=len({r.get("user") for r in replies}),
                latest_reply=replies[-1]["ts"],
                reply_users=sorted({r.get("user") for r in replies}),
                is_locked=False,
                subscribed=False,
            )
        return out

    # -- HTTP -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return Response(200, {"ok": False, "error": "not_authed"})
        if header != f"Bearer {self.credentials['bot_token']}":
            return Response(200, {"ok": False, "error": "invalid_auth"})
        return None

    def error(self, status: int, message: str) -> Response:
        if status == 429:
            return Response(429, {"ok": False, "error": "ratelimited"})
        if status == 400:
            meta = {"messages": [f"[ERROR] {message}"]}
            return Response(
                200, {"ok": False, "error": "invalid_arguments", "response_metadata": meta}
            )
        if status == 404:
            return Response(404, {"ok": False, "error": "unknown_method"})
        if status == 503:
            return Response(503, "Service Unavailable")
        return Response(status, {"ok": False, "error": "internal_error"})

    def _window(self, request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows within oldest/latest (exclusive unless inclusive=true)."""
        inclusive = (request.q("inclusive") or "").lower() in ("true", "1")
        try:
            oldest = _key(request.q("oldest") or "0")
            latest = _key(request.q("latest")) if request.q("latest") else None
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return [
            m
            for m in rows
            if (_ts_key(m) >= oldest if inclusive else _ts_key(m) > oldest)
            and (latest is None or (_ts_key(m) <= latest if inclusive else _ts_key(m) < latest))
        ]

    def _page(self, request: Request, rows: list[dict[str, Any]], newest_first: bool) -> Response:
        size = self.page_size(request, "limit", 100, LIST_MAX)
        cursor = request.q("cursor")
        if cursor:
            try:
                after = tuple(fx.decode_cursor(cursor))
            except (ValueError, TypeError):
                return Response(200, {"ok": False, "error": "invalid_cursor"})
            rows = [m for m in rows if (_ts_key(m) < after if newest_first else _ts_key(m) > after)]
        page, more = rows[:size], len(rows) > size
        nxt = fx.encode_cursor(list(_ts_key(page[-1]))) if more else ""
        body = {
            "ok": True,
            "messages": [self.served(m) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": nxt},
        }
        return Response(body=body)

    def _channel(self, request: Request) -> str | Response:
        channel = request.q("channel") or ""
        if channel not in self.channels:
            return Response(200, {"ok": False, "error": "channel_not_found"})
        return channel

    @route("GET", r"api/conversations\.history")
    def history(self, request: Request, match: re.Match[str]) -> Response:
        """Top-level messages of a channel, newest first."""
        channel = self._channel(request)
        if isinstance(channel, Response):
            return channel
        rows = [
            m
            for m in self.store["messages"]
            if m["_channel"] == channel and self.listed_in_history(m)
        ]
        rows = sorted(self._window(request, rows), key=_ts_key, reverse=True)
        return self._page(request, rows, newest_first=True)

    @route("GET", r"api/conversations\.replies")
    def replies(self, request: Request, match: re.Match[str]) -> Response:
        """A thread: the parent first, then its replies (within oldest/latest) oldest first."""
        channel = self._channel(request)
        if isinstance(channel, Response):
            return channel
        try:
            parent = self.find(channel, request.q("ts") or "")
        except StopIteration:
            return Response(200, {"ok": False, "error": "thread_not_found"})
        rows = [parent, *self._window(request, self.replies_of(channel, parent["ts"]))]
        return self._page(request, rows, newest_first=False)


def _key(ts: str) -> tuple[int, int]:
    seconds, _, micros = str(ts).partition(".")
    try:
        return int(seconds), int((micros or "0").ljust(6, "0")[:6])
    except ValueError:
        raise ValueError(f"invalid ts {ts!r}") from None


def _ts_key(message: dict[str, Any]) -> tuple[int, int]:
    return _key(message["ts"])
