"""Slack channels (Web API conversations.history and conversations.replies): messages and threads.

One history endpoint per configured channel ("history:<channel>"), its threads as child
fetches ("replies:<channel>"); each channel keeps its own cursor.

Traps handled:
- Slack reports errors as HTTP 200 with {"ok": false, "error": ...}: invalid_auth, not_authed,
  token_revoked, ... become a SourceAuthError naming the credential (status 401; missing_scope
  and other permission errors 403); channel_not_found / not_in_channel name the channel
  (api_errors, each endpoint's error policy). Rate limits are HTTP 429 with Retry-After, which
  the shared client honours.
- Replies to OLD threads: history lists parent messages by their own ts, so a new reply to a
  thread started before the cursor never appears after it. Each run re-reads
  `thread_lookback_days` of history before the cursor; a parent whose latest_reply (or edit) is
  newer than what was delivered comes back (a newer version of the same row) and its new
  replies are fetched. LIMIT: replies to threads whose parent is older than the lookback are
  missed, unless also sent to the channel (thread_broadcast, which history lists).
- The cursor is the newest top-level ts plus, for messages whose activity (latest reply, edit)
  ran past it, that activity ("active"); replies are fetched up to the latest_reply history
  showed. So no reply is delivered twice, and none posted during a run is lost.
- Text is Slack mrkdwn: mentions, channel links, URLs with labels, :emoji: become readable text.
- System subtypes (channel_join, channel_topic, ...) give no row; bot messages give none
  unless include_bots (then tagged "bot", internal); a deleted thread parent (tombstone) is
  tagged for retirement.
Left out: edits of replies (their parent does not move), files' content, reactions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

from pydantic import Field

from connectors.common.base import ParseError
from connectors.common.http.auth import AuthStrategy, BearerAuth
from connectors.common.http.client import Page
from connectors.common.http.error_policy import Action, ErrorRule
from connectors.common.http.errors import SourceAuthError, SourceError
from connectors.common.http.paginators import CursorPaginator
from connectors.common.incremental import Incremental
from connectors.common.rest import DELETED_TAG, ChildEndpoint, Endpoint, RestConnector, RestOptions

API_DOCS = "https://docs.slack.dev/reference/methods"
KEPT_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message", "tombstone", "bot_message"}
# Slack error codes (HTTP 200, "ok": false) that mean: the token is wrong / lacks a permission.
UNAUTHENTICATED = frozenset(
    "not_authed invalid_auth account_inactive token_revoked token_expired org_login_required "
    "two_factor_setup_required".split()
)
FORBIDDEN = frozenset(
    "missing_scope not_allowed_token_type no_permission access_denied team_access_not_granted "
    "ekm_access_denied".split()
)
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel"})


def ts_value(ts: Any) -> Decimal:
    """A Slack ts ("1512085950.000216") as an exact number."""
    try:
        return Decimal(str(ts))
    except (InvalidOperation, ValueError):
        raise ParseError(f"ts {ts!r} is not a Slack timestamp") from None


def activity(message: dict[str, Any]) -> Decimal | None:
    """The latest thing that happened to a message: its newest reply or its last edit."""
    marks = [message.get("latest_reply"), (message.get("edited") or {}).get("ts")]
    found = [ts_value(m) for m in marks if m]
    return max(found) if found else None


def _ts_text(value: Decimal) -> str:
    return f"{value:.6f}"


def messages_of(body: Any) -> Any:
    """The records selector: body["messages"] (an "ok": false body never gets here)."""
    return body.get("messages") if isinstance(body, dict) else None


def api_errors(channel: str) -> tuple[ErrorRule, ...]:
    """A channel's error policy: Slack answers errors as HTTP 200 {"ok": false, "error": code}."""
    where = f"Slack answered {{body[error]!r}} for channel {channel}"
    ok_false = {"ok": False}
    return (
        ErrorRule(
            Action.FAIL,
            status={200},
            body={**ok_false, "error": UNAUTHENTICATED},
            message=where + "; check {credential}: it is missing, wrong or revoked",
            error=SourceAuthError,
            report_status=401,
        ),
        ErrorRule(
            Action.FAIL,
            status={200},
            body={**ok_false, "error": "missing_scope"},
            message=where + "; check {credential}: it lacks a permission (needs scope "
            "{body[needed]})",
            error=SourceAuthError,
            report_status=403,
        ),
        ErrorRule(
            Action.FAIL,
            status={200},
            body={**ok_false, "error": FORBIDDEN},
            message=where + "; check {credential}: it lacks a permission",
            error=SourceAuthError,
            report_status=403,
        ),
        ErrorRule(
            Action.FAIL,
            status={200},
            body={**ok_false, "error": CHANNEL_ERRORS},
            message=where + ": check the channel id in `channels` and invite the app to it",
            error=SourceError,
        ),
        ErrorRule(Action.FAIL, status={200}, body=ok_false, message=where),  # any other code
    )


# the thread's parent was deleted since history listed it
THREAD_GONE = ErrorRule(
    Action.END_OF_DATA,
    status={200},
    body={"ok": False, "error": "thread_not_found"},
    message="the thread was deleted meanwhile: no replies",
)


def _paginator() -> CursorPaginator:
    return CursorPaginator("cursor", "response_metadata.next_cursor", has_more="has_more")


@dataclass(frozen=True)
class ThreadAwareCursor(Incremental):
    """{"ts": newest top-level ts, "active": {message ts: activity ts past it}}; reads a lookback."""

    lookback_s: float = 14 * 86400

    def first_params(self, cursor: Any, start: int) -> dict[str, Any]:
        if cursor:
            oldest = max(Decimal(0), ts_value(cursor["ts"]) - Decimal(str(self.lookback_s)))
        elif start:
            oldest = Decimal(start)
        else:
            return {}
        return {"oldest": _ts_text(oldest), "inclusive": "true"}

    def advance(self, cursor: Any, page: Page) -> Any:
        newest = ts_value(cursor["ts"]) if cursor else None
        active = {k: ts_value(v) for k, v in (cursor or {}).get("active", {}).items()}
        for message in page.records:
            if not message.get("ts"):
                continue
            ts = ts_value(message["ts"])
            newest = ts if newest is None or ts > newest else newest
            moved, before = activity(message), active.get(message["ts"])
            if moved is not None and (before is None or moved > before):
                active[message["ts"]] = moved
        if newest is None:
            return cursor
        horizon = newest - Decimal(str(self.lookback_s))
        kept = {k: v for k, v in active.items() if v > newest and ts_value(k) >= horizon}
        return {"ts": _ts_text(newest), "active": {k: _ts_text(v) for k, v in sorted(kept.items())}}

    @staticmethod
    def seen(cursor: Any, ts: str) -> Decimal:
        """Up to when this message (and its thread) was already delivered."""
        mark = ts_value(cursor["ts"])
        other = cursor.get("active", {}).get(ts)
        return max(mark, ts_value(other)) if other else mark

    def is_new(self, cursor: Any, record: dict[str, Any]) -> bool:
        if not cursor or not record.get("ts"):
            return True
        if ts_value(record["ts"]) > ts_value(cursor["ts"]):
            return True
        moved = activity(record)
        return moved is not None and moved > self.seen(cursor, record["ts"])

    def since(self, cursor: Any) -> Any:
        return cursor  # the replies filter needs the whole cursor, not one time


@dataclass(frozen=True)
class ThreadReplies(ChildEndpoint):
    """conversations.replies of a parent: only replies past what the cursor delivered."""

    def is_new(self, record: dict[str, Any], since: Any) -> bool:
        thread_ts = record.get("thread_ts")
        if record.get("ts") == thread_ts or record.get("subtype") == "thread_broadcast":
            return False  # the parent, or a reply history already lists
        if not since or not record.get("ts") or not thread_ts:
            return True
        return ts_value(record["ts"]) > ThreadAwareCursor.seen(since, thread_ts)


def _is_thread_parent(message: dict[str, Any]) -> bool:
    replies = message.get("reply_count") or 0
    return bool(
        replies and message.get("latest_reply") and message.get("thread_ts") == message.get("ts")
    )


ChannelId = Annotated[str, Field(pattern=r"^[CGD][A-Z0-9]{2,}$")]  # an id, not "#name"


class SlackOptions(RestOptions):
    """Slack keys: channel ids to read, which are shared with customers, the thread lookback."""

    channels: list[ChannelId] = Field(min_length=1)
    # Slack Connect channels shared with customers (optionally channel id -> account_id):
    # their messages are not internal, except those by members of `internal_teams`.
    customer_channels: list[ChannelId] | dict[ChannelId, str | None] = []
    internal_teams: list[str] = []  # our own workspace team ids (T...)
    thread_lookback_days: float = Field(default=14.0, ge=0)
    include_bots: bool = False
    workspace_url: str | None = Field(default=None, pattern=r"^https://[^/]+\.slack\.com/?$")

    def customer_accounts(self) -> dict[str, str | None]:
        """Customer channel id -> account id (None when not given)."""
        given = self.customer_channels
        return dict(given) if isinstance(given, dict) else dict.fromkeys(given)


class SlackConnector(RestConnector):
    type = "slack"
    source_kind = "internal"
    docs_url = f"{API_DOCS}/conversations.history"
    description = "Slack channel messages and thread replies (internal unless customer-shared)"
    Options = SlackOptions
    DEFAULT_BASE_URL = "https://slack.com"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = ()  # one per configured channel
    ENDPOINTS_HINT = "endpoints are history:<channel id>, one per channel in `channels`"

    def channels(self) -> list[str]:
        """Configured channels, then customer channels not already listed."""
        extra = [c for c in self.options.customer_accounts() if c not in self.options.channels]
        return [*self.options.channels, *extra]

    def declared_endpoints(self) -> list[Endpoint]:
        """One history endpoint (with its thread replies) per channel."""
        lookback = self.options.thread_lookback_days * 86400
        return [self.history(channel, lookback) for channel in self.channels()]

    @staticmethod
    def history(channel: str, lookback_s: float) -> Endpoint:
        """conversations.history of one channel, thread replies as its child endpoint."""
        replies = ThreadReplies(
            name=f"replies:{channel}",
            path="api/conversations.replies",
            records=messages_of,
            paginator=_paginator,
            parent_params=lambda m: {
                "channel": channel,
                "ts": m["ts"],
                "latest": m["latest_reply"],
                "inclusive": "true",
            },
            context=lambda m: {"channel": channel, "thread_ts": m["ts"]},
            applies=_is_thread_parent,
            page_size_param="limit",
            errors=(THREAD_GONE, *api_errors(channel)),  # no PARENT_GONE: a 404 is an error
            docs_url=f"{API_DOCS}/conversations.replies",
        )
        return Endpoint(
            name=f"history:{channel}",
            path="api/conversations.history",
            records=messages_of,
            paginator=_paginator,
            params={"channel": channel},
            page_size_param="limit",
            incremental=ThreadAwareCursor(lookback_s),
            dedupe_key=lambda m: (m.get("ts"), str(activity(m))),
            child=replies,
            errors=api_errors(channel),
            docs_url=f"{API_DOCS}/conversations.history",
        )

    def credential_key(self) -> str:
        """A bot token (xoxb-), or a user token (xoxp-) when configured instead."""
        return "user_token" if "user_token" in self.source.credentials else "bot_token"

    def auth(self) -> tuple[AuthStrategy, str]:
        """The token as a Bearer header."""
        key = self.credential_key()
        name = self.credential_name(key)
        return BearerAuth(self.secret(key), credential_name=name), name

    # -- parsing ------------------------------------------------------------------------------

    def parse(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A channel message or thread reply as one row; system events and bots as none."""
        kind, _, channel = str(item.get("_endpoint") or "").partition(":")
        if kind not in ("history", "replies") or not channel:
            where = item.get("_endpoint")
            raise ParseError(
                f"item has _endpoint {where!r}; expected history:<channel> or replies:<channel>"
            )
        return self.message_rows(item, channel)

    def message_rows(self, message: dict[str, Any], channel: str) -> list[dict[str, Any]]:
        """The row for one message (none for system events, or bots unless include_bots)."""
        ts = message.get("ts")
        if not ts:
            raise ParseError(f"message in {channel}: ts is missing")
        what = f"message {channel}:{ts}"
        subtype = message.get("subtype")
        if subtype not in KEPT_SUBTYPES:
            return []  # joins, leaves, topic changes, pins ...: events, not feedback
        bot = subtype == "bot_message" or bool(message.get("bot_id"))
        if bot and not self.options.include_bots:
            return []
        created = _datetime(ts, what)
        edited = (message.get("edited") or {}).get("ts")
        text = message.get("text")
        if text is not None and not isinstance(text, str):
            raise ParseError(f"{what}: text is {type(text).__name__}, not text")
        thread_ts = message.get("thread_ts") or ts
        accounts = self.options.customer_accounts()
        team = message.get("user_team") or message.get("team")
        ours = channel not in accounts or bot or team in self.options.internal_teams
        tags = [f"channel:{channel}"]
        tags += ["thread_reply"] if thread_ts != ts else []
        tags += ["bot"] if bot else []
        tags += [f"subtype:{subtype}"] if subtype else []
        tags += [DELETED_TAG] if subtype == "tombstone" else []
        return [
            self.row(
                source_id=f"{channel}:{ts}",
                thread_id=f"{channel}:{thread_ts}",
                account_id=None if ours else accounts.get(channel),
                customer_id=message.get("user") or message.get("bot_id"),
                created_at=created,
                updated_at=_datetime(edited, what) if edited else created,
                text=readable_text(text or ""),
                tags=tags,
                url=self.permalink(channel, ts, thread_ts),
                is_internal=ours,
            )
        ]

    def permalink(self, channel: str, ts: str, thread_ts: str) -> str | None:
        """The message's link in the workspace, when workspace_url is configured."""
        if not self.options.workspace_url:
            return None
        url = f"{self.options.workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
        return url + (f"?thread_ts={thread_ts}&cid={channel}" if thread_ts != ts else "")


def _datetime(ts: Any, what: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts_value(ts)), tz=UTC)
    except ParseError as exc:
        raise ParseError(f"{what}: {exc}") from None


# -- Slack mrkdwn -> readable text ------------------------------------------------------------

_ENTITY = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_EMOJI = re.compile(
    r"(?<![\w:/]):(\+1|-1|[a-z0-9_+'-]*[a-z][a-z0-9_+'-]*):(?::skin-tone-[2-6]:)?(?![\w])"
)
# Common emoji shortcodes; others read as their words (":party_parrot:" -> "party parrot").
EMOJI = dict(
    pair.split("=")
    for pair in (
        "+1=👍 thumbsup=👍 -1=👎 thumbsdown=👎 heart=❤️ smile=😄 "
        "slightly_smiling_face=🙂 joy=😂 tada=🎉 pray=🙏 fire=🔥 eyes=👀 rocket=🚀 "
        "white_check_mark=✅ x=❌ warning=⚠️ thinking_face=🤔 confused=😕 "
        "disappointed=😞 cry=😢 sob=😭 rage=😡 bug=🐛 "
    ).split()
)


def _entity(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target[0] in "@#":  # <@U123|ada>, <#C123|general>
        return target[0] + (label or target[1:])
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
        name = target[1:].split("^")[0]
        return label if label is not None and name in ("subteam", "date") else f"@{label or name}"
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    return label or target  # <https://x|label>, <https://x>


def _emoji(match: re.Match[str]) -> str:
    name = match.group(1)
    return EMOJI.get(name, name.replace("_", " "))


def readable_text(mrkdwn: str) -> str:
    """Slack mrkdwn as plain text: mentions, channels, links, :emoji: and &amp; entities resolved."""
    text = _EMOJI.sub(_emoji, _ENTITY.sub(_entity, mrkdwn))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
