"""Slack parsing on documented payload shapes, Slack's error style, and the old-thread trap."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.common.base import ParseError
from connectors.common.http.client import Page
from connectors.common.http.errors import SourceAuthError, SourceError
from connectors.common.rest import DELETED_TAG
from connectors.common.sandbox.http_faults import FaultPlan
from connectors.common.sandbox.server import start_sandbox
from connectors.slack.connector import SlackConnector, ThreadAwareCursor, readable_text
from connectors.slack.sandbox import OUR_TEAM, PRODUCT, SHARED, STAFF
from flows.runtime.config import SecretRef, SourceConfig
from tests.httpserver import Reply, scripted, servers

CHANNELS = {"channels": ["C024BE91L"], "customer_channels": {"C0ACME": "acc_1"}}


def test_channels_must_be_ids():
    source = SourceConfig(name="chat", type="slack", channels=["#general"])
    (problem,) = SlackConnector.option_errors(source)
    assert problem.startswith("channels.0: got '#general'")


def connector(**extra: Any) -> SlackConnector:
    options = {**CHANNELS, "internal_teams": ["T0OURS"], **extra}
    source = SourceConfig(name="chat", type="slack", **options)
    return SlackConnector(source, http={"sleep": lambda s: None})


MESSAGE = {
    "_endpoint": "history:C024BE91L",
    "type": "message",
    "user": "U061F7AUR",
    "team": "T0OURS",
    "text": "Export broke for <@U0CUST|dana> again :disappointed: see <https://status.example.com|status>",
    "ts": "1767603600.000200",
    "thread_ts": "1767603600.000200",
    "reply_count": 2,
    "latest_reply": "1767610000.000300",
}
REPLY = {
    "_endpoint": "replies:C024BE91L",
    "_parent": {"channel": "C024BE91L", "thread_ts": "1767603600.000200"},
    "type": "message",
    "user": "U0CUST",
    "text": "Still broken &amp; slow",
    "ts": "1767610000.000300",
    "thread_ts": "1767603600.000200",
    "parent_user_id": "U061F7AUR",
}


@pytest.mark.parametrize(
    "mrkdwn,text",
    [
        ("hi <@U123> and <@U456|bo>", "hi @U123 and @bo"),
        ("in <#C123|general> or <#C999>", "in #general or #C999"),
        ("<!here> <!channel> <!subteam^S1|@design>", "@here @channel @design"),
        ("<!date^1392734382^{date}|Feb 18, 2014> at 10:30:45", "Feb 18, 2014 at 10:30:45"),
        (
            "see <https://x.example/a|the doc> or <https://y.example/b:c:d>",
            "see the doc or https://y.example/b:c:d",
        ),
        ("mail <mailto:ada@example.com|Ada>", "mail Ada"),
        (":+1::skin-tone-2: :tada: :party_parrot:", "\U0001f44d \U0001f389 party parrot"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
    ],
)
def test_mrkdwn_becomes_readable_text(mrkdwn, text):
    assert readable_text(mrkdwn) == text


def test_channel_message_is_internal_with_a_thread_and_a_permalink():
    (row,) = connector(workspace_url="https://acme.slack.com").parse(MESSAGE)
    assert row["source_id"] == row["thread_id"] == "C024BE91L:1767603600.000200"
    assert row["text"] == "Export broke for @dana again \U0001f61e see status"
    assert row["customer_id"] == "U061F7AUR" and row["account_id"] is None
    assert row["is_internal"] is True and row["source_kind"] == "internal"
    assert row["created_at"] == datetime(2026, 1, 5, 9, 0, 0, 200, tzinfo=UTC)
    assert row["url"] == "https://acme.slack.com/archives/C024BE91L/p1767603600000200"
    assert row["tags"] == ["channel:C024BE91L"]


def test_reply_belongs_to_its_thread():
    (row,) = connector(workspace_url="https://acme.slack.com").parse(REPLY)
    assert row["source_id"] == "C024BE91L:1767610000.000300"
    assert row["thread_id"] == "C024BE91L:1767603600.000200"
    assert row["text"] == "Still broken & slow" and "thread_reply" in row["tags"]
    assert row["url"].endswith("p1767610000000300?thread_ts=1767603600.000200&cid=C024BE91L")


def test_customer_channel_messages_are_not_internal_except_our_own_team():
    customer = {**REPLY, "_endpoint": "history:C0ACME", "user_team": "T0ACME", "thread_ts": None}
    (row,) = connector().parse(customer)
    assert row["is_internal"] is False and row["account_id"] == "acc_1"
    (ours,) = connector().parse({**customer, "user_team": "T0OURS"})
    assert ours["is_internal"] is True and ours["account_id"] is None


def test_edited_message_keeps_its_id_with_a_later_updated_at():
    (row,) = connector().parse(
        {**MESSAGE, "edited": {"user": "U061F7AUR", "ts": "1767700000.000000"}}
    )
    assert row["updated_at"] == datetime(2026, 1, 6, 11, 46, 40, tzinfo=UTC)
    assert row["source_id"] == "C024BE91L:1767603600.000200"


def test_system_events_and_bots_give_no_row_unless_bots_are_wanted():
    join = {**MESSAGE, "subtype": "channel_join", "text": "<@U1> has joined the channel"}
    assert connector().parse(join) == []
    assert connector().parse({**MESSAGE, "subtype": "channel_topic"}) == []
    bot = {**MESSAGE, "subtype": "bot_message", "bot_id": "B01", "user": None}
    assert connector().parse(bot) == []
    (row,) = connector(include_bots=True).parse(bot)
    assert row["is_internal"] is True and "bot" in row["tags"] and row["customer_id"] == "B01"


def test_deleted_thread_parent_is_retired():
    tomb = {**MESSAGE, "subtype": "tombstone", "text": "This message was deleted."}
    (row,) = connector().parse(tomb)
    assert DELETED_TAG in row["tags"]


@pytest.mark.parametrize(
    "item,message",
    [
        ({**MESSAGE, "_endpoint": "tickets"}, "expected history:<channel>"),
        ({**MESSAGE, "ts": None}, "ts is missing"),
        ({**MESSAGE, "ts": "yesterday"}, "not a Slack timestamp"),
        ({**MESSAGE, "text": {"blocks": []}}, "not text"),
    ],
)
def test_bad_messages_raise_parse_errors(item, message):
    with pytest.raises(ParseError, match=message):
        connector().parse(item)


def page(*messages: dict[str, Any]) -> Page:
    return Page(records=list(messages), response=None, token=None)  # type: ignore[arg-type]


def test_cursor_keeps_thread_activity_past_the_newest_message():
    inc = ThreadAwareCursor(lookback_s=86400)
    plain = {"ts": "1767600000.000100"}
    cursor = inc.advance(None, page(MESSAGE, plain))
    assert cursor == {
        "ts": "1767603600.000200",
        "active": {"1767603600.000200": "1767610000.000300"},
    }
    assert inc.first_params(cursor, 0) == {"oldest": "1767517200.000200", "inclusive": "true"}
    assert not inc.is_new(cursor, MESSAGE) and not inc.is_new(cursor, plain)
    assert inc.is_new(cursor, {**MESSAGE, "latest_reply": "1767620000.000000"})  # a new reply
    assert inc.is_new(cursor, {**plain, "edited": {"ts": "1767620000.000000"}})  # an edit
    newer = inc.advance(cursor, page({"ts": "1767650000.000000"}))
    assert newer["active"] == {}  # the newest message now covers the thread's activity


@pytest.fixture
def slack(monkeypatch):
    with start_sandbox(vendors=("slack",), page_size_cap=3) as sb:
        app = sb.vendor("slack")
        monkeypatch.setenv("SLACK_BOT", app.credentials["bot_token"])
        yield sb, app


def live(sb: Any, sleeps: list[float] | None = None, **extra: Any) -> SlackConnector:
    options = {"channels": [PRODUCT], "customer_channels": [SHARED], **extra}
    source = SourceConfig(
        name="chat",
        type="slack",
        base_url=sb.url("slack"),
        credentials={"bot_token": SecretRef(env="SLACK_BOT")},
        internal_teams=[OUR_TEAM],
        **options,
    )
    sleep = sleeps.append if sleeps is not None else (lambda s: None)
    return SlackConnector(source, http={"sleep": sleep})


def keys(batches: list[Any]) -> list[str]:
    return [f"{item['_endpoint']}:{item['ts']}" for b in batches for item in b.items]


def test_a_new_reply_to_an_old_thread_is_found_within_the_lookback(slack):
    sb, app = slack
    first = list(live(sb).fetch({}))
    parent = next(m for m in app.store["messages"] if app.replies_of(PRODUCT, m["ts"]))
    app.clock.tick(48)  # 13.6 hours later: within the default 14-day lookback
    app.post(PRODUCT, "A newer top-level message moves the cursor on", STAFF[0])
    second = list(live(sb).fetch(first[-1].state))
    reply = app.reply(PRODUCT, parent["ts"], "Back again on 5.4.2", STAFF[1])
    third = list(live(sb).fetch(second[-1].state))
    assert keys(third) == [f"history:{PRODUCT}:{parent['ts']}", f"replies:{PRODUCT}:{reply['ts']}"]
    assert keys(list(live(sb).fetch(third[-1].state))) == []


def test_replies_to_threads_older_than_the_lookback_are_missed(slack):
    sb, app = slack
    short = {"thread_lookback_days": 0.5}  # 12 hours
    first = list(live(sb, **short).fetch({}))
    parent = next(m for m in app.store["messages"] if app.replies_of(PRODUCT, m["ts"]))
    app.clock.tick(48)  # 13.6 hours later
    app.post(PRODUCT, "Much later", STAFF[0])
    state = list(live(sb, **short).fetch(first[-1].state))[-1].state
    reply = app.reply(PRODUCT, parent["ts"], "Only a longer lookback sees this one", STAFF[1])
    assert keys(list(live(sb, **short).fetch(state))) == []
    assert f"replies:{PRODUCT}:{reply['ts']}" in keys(list(live(sb).fetch(state)))


def test_invalid_auth_in_a_200_body_names_the_credential(slack, monkeypatch):
    sb, _ = slack
    monkeypatch.setenv("SLACK_BOT", "xoxb-wrong")
    with pytest.raises(SourceAuthError, match="SLACK_BOT") as failed:
        list(live(sb).fetch({}))
    assert failed.value.status == 401 and "invalid_auth" in str(failed.value)
    assert "xoxb-wrong" not in str(failed.value)


def test_missing_scope_is_a_403_naming_the_scope(monkeypatch):
    monkeypatch.setenv("SLACK_BOT", "xoxb-test-only")
    denied = {"ok": False, "error": "missing_scope", "needed": "groups:history"}
    with servers() as start:
        server = start(scripted(Reply(body=denied)))
        source = SourceConfig(
            name="chat",
            type="slack",
            channels=["G01PRIVATE"],
            base_url=server.url,
            credentials={"bot_token": SecretRef(env="SLACK_BOT")},
        )
        with pytest.raises(SourceAuthError) as failed:
            list(SlackConnector(source, http={"sleep": lambda s: None}).fetch({}))
    error = failed.value
    assert isinstance(error, SourceAuthError) and error.status == 403
    assert "groups:history" in str(error) and "credentials.bot_token" in str(error)


def test_unknown_channel_names_the_channel(slack):
    sb, _ = slack
    with pytest.raises(SourceError, match="C0NOSUCH.*invite the app"):
        list(live(sb, channels=["C0NOSUCH"]).fetch({}))


def test_ratelimited_429_waits_retry_after_and_loses_nothing(slack):
    sb, app = slack
    clean = keys(list(live(sb).fetch({})))
    plan = FaultPlan(rate=0.5, kinds=("429",), seed=3, retry_after=1.5)
    with start_sandbox(vendors=("slack",), faults=plan, page_size_cap=3) as faulty:
        sleeps: list[float] = []
        got = keys(list(live(faulty, sleeps).fetch({})))
    assert got == clean and sleeps and set(sleeps) == {1.5}
