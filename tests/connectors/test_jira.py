"""Jira Cloud parsing on documented payload shapes, the JQL boundary, and the removed search (410)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.common.base import ParseError
from connectors.common.http.client import Page
from connectors.common.http.errors import SourceError, SourceGone
from connectors.common.sandbox.server import start_sandbox
from connectors.jira.connector import ISSUES, JiraConnector, JqlWindow, jql_since
from flows.runtime.config import SecretRef, SourceConfig

SITE = "https://your-domain.atlassian.net"


def connector(**extra: Any) -> JiraConnector:
    source = SourceConfig(name="jira_beta", type="jira", **extra)
    return JiraConnector(source, http={"sleep": lambda s: None})


REPORTER = {
    "self": f"{SITE}/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
    "accountId": "5b10a2844c20165700ede21g",
    "emailAddress": "mia.krystof@example.com",
    "displayName": "Mia Krystof",
    "active": True,
    "timeZone": "Australia/Sydney",
    "accountType": "atlassian",
}
ISSUE = {
    "_endpoint": "issues",
    "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
    "id": "10068",
    "self": f"{SITE}/rest/api/3/issue/10068",
    "key": "BETA-12",
    "fields": {
        "summary": "Export hangs on large boards",
        "description": {
            "type": "doc",
            "version": 1,
            "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Export never ends."}]}
            ],
        },
        "created": "2026-01-05T09:00:25.000+0000",
        "updated": "2026-01-06T10:15:00.123+0100",
        "reporter": REPORTER,
        "labels": ["beta", "export"],
        "issuetype": {"id": "10001", "name": "Bug", "subtask": False},
        "status": {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}},
        "customfield_10042": {"id": "10100", "value": "2.3.0-beta.4"},
        "customfield_10002": [{"id": "1", "name": "Acme Widgets"}],
    },
}
COMMENT = {
    "_endpoint": "issue_comments",
    "_parent": {"issue_id": "10068", "issue_key": "BETA-12"},
    "self": f"{SITE}/rest/api/3/issue/10068/comment/10000",
    "id": "10000",
    "author": {**REPORTER, "emailAddress": None},
    "body": {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Still stuck."}]}],
    },
    "updateAuthor": REPORTER,
    "created": "2026-01-07T12:34:00.000+0000",
    "updated": "2026-01-07T12:35:00.000+0000",
    "jsdPublic": True,
}


def test_issue_row_reads_fields_adf_and_custom_fields():
    jira = connector(app_version_field="customfield_10042", account_field="customfield_10002")
    (row,) = jira.parse(ISSUE)
    assert row["source_id"] == row["thread_id"] == "10068"
    assert (row["title"], row["text"]) == ("Export hangs on large boards", "Export never ends.")
    assert row["customer_id"] == "mia.krystof@example.com"
    assert row["account_id"] == "Acme Widgets" and row["app_version"] == "2.3.0-beta.4"
    assert row["created_at"] == datetime(2026, 1, 5, 9, 0, 25, tzinfo=UTC)
    assert row["updated_at"] == datetime(2026, 1, 6, 9, 15, 0, 123000, tzinfo=UTC)
    assert row["tags"] == ["beta", "export", "type:Bug", "status:In Progress"]
    assert row["url"] == f"{SITE}/browse/BETA-12"
    assert (row["source_kind"], row["is_internal"], row["rating"]) == ("beta", False, None)


def test_issue_without_email_uses_the_account_id_and_site_builds_the_url():
    fields = {
        **ISSUE["fields"],
        "reporter": {**REPORTER, "emailAddress": None},
        "description": None,
    }
    (row,) = connector(site="acme").parse({**ISSUE, "fields": fields})
    assert row["customer_id"] == "5b10a2844c20165700ede21g" and row["text"] == ""
    assert row["url"] == "https://acme.atlassian.net/browse/BETA-12"
    assert row["app_version"] is None and row["account_id"] is None


def test_api_v2_plain_text_description_and_app_reporter():
    fields = {**ISSUE["fields"], "description": "Plain text", "reporter": {"accountType": "app"}}
    (row,) = connector().parse({**ISSUE, "fields": fields})
    assert row["text"] == "Plain text" and row["is_internal"] is True and row["customer_id"] is None


def test_public_comment_and_restricted_or_private_comments():
    (row,) = connector().parse(COMMENT)
    assert row["source_id"] == "10068:10000" and row["thread_id"] == "10068"
    assert row["text"] == "Still stuck." and row["customer_id"] == REPORTER["accountId"]
    assert row["url"] == f"{SITE}/browse/BETA-12?focusedCommentId=10000"
    assert row["updated_at"] == datetime(2026, 1, 7, 12, 35, tzinfo=UTC)
    assert row["is_internal"] is False and row["tags"] == []
    role = {"type": "role", "value": "Administrators", "identifier": "Administrators"}
    for variant in ({**COMMENT, "visibility": role}, {**COMMENT, "jsdPublic": False}):
        (row,) = connector().parse(variant)
        assert row["is_internal"] is True and row["tags"] == ["internal_note"]


@pytest.mark.parametrize(
    "item,message",
    [
        ({**ISSUE, "id": None}, "id is missing"),
        ({"_endpoint": "issues", "id": "1", "key": "B-1"}, "fields are missing"),
        ({**ISSUE, "fields": {**ISSUE["fields"], "created": None}}, "created is missing"),
        ({k: v for k, v in COMMENT.items() if k != "_parent"}, "_parent.issue_id"),
        ({**COMMENT, "created": "last tuesday"}, "not a recognised date"),
        ({**ISSUE, "_endpoint": "worklogs"}, "_endpoint 'worklogs'"),
    ],
)
def test_bad_items_raise_parse_errors(item, message):
    with pytest.raises(ParseError, match=message):
        connector().parse(item)


def test_jql_floors_to_the_minute_in_the_users_timezone():
    t = datetime(2026, 1, 5, 23, 59, 59, tzinfo=UTC).timestamp()
    assert jql_since("project = BETA", t) == (
        '(project = BETA) AND updated >= "2026/01/05 23:59" ORDER BY updated ASC'
    )
    assert (
        jql_since(None, t, "Australia/Sydney")
        == 'updated >= "2026/01/06 10:59" ORDER BY updated ASC'
    )


def _page(*issues: tuple[str, str]) -> Page:
    return Page(
        records=[{"id": i, "fields": {"updated": u}} for i, u in issues], response=None, token=None
    )  # type: ignore[arg-type]


def test_boundary_minute_ids_and_updates_are_kept_across_runs():
    window = JqlWindow("project = BETA")
    cursor = window.advance(None, _page(("1", "2026-01-05T09:00:10.000+0000")))
    cursor = window.advance(
        cursor,
        _page(("2", "2026-01-05T09:01:05.000+0000"), ("3", "2026-01-05T09:01:40.500+0000")),
    )
    assert cursor["from"] == datetime(2026, 1, 5, 9, 1, tzinfo=UTC).timestamp()
    assert sorted(cursor["seen"]) == ["2", "3"]  # issue 1 is before the boundary minute
    assert window.first_params(cursor, 0)["jql"] == (
        '(project = BETA) AND updated >= "2026/01/05 09:01" ORDER BY updated ASC'
    )
    at = lambda i, u: {"id": i, "fields": {"updated": u}}  # noqa: E731
    assert not window.is_new(cursor, at("2", "2026-01-05T09:01:05.000+0000"))  # landed already
    assert window.is_new(cursor, at("2", "2026-01-05T09:01:50.000+0000"))  # changed since
    assert window.is_new(cursor, at("4", "2026-01-05T09:01:01.000+0000"))  # same minute, unseen
    assert not window.is_new(cursor, at("1", "2026-01-05T09:00:10.000+0000"))  # before the minute
    assert window.since(cursor) == datetime(2026, 1, 5, 9, 1, 40, 500000, tzinfo=UTC).timestamp()


def test_lookback_catches_an_update_the_search_index_showed_late():
    window = JqlWindow(None, lookback_s=5 * 60)
    cursor = window.advance(
        None,
        _page(("1", "2026-01-05T08:50:00.000+0000"), ("2", "2026-01-05T09:02:30.000+0000")),
    )
    assert cursor["from"] == datetime(2026, 1, 5, 8, 57, tzinfo=UTC).timestamp()
    assert list(cursor["seen"]) == ["2"]  # older ids are pruned from the state
    assert window.first_params(cursor, 0)["jql"].startswith('updated >= "2026/01/05 08:57"')
    late = {"id": "5", "fields": {"updated": "2026-01-05T09:01:00.000+0000"}}
    assert window.is_new(cursor, late)  # updated before the newest, but not seen: not lost
    assert not window.is_new(cursor, {"id": "2", "fields": {"updated": "2026-01-05T09:02:30Z"}})


def test_options_are_checked_and_the_site_fills_the_base_url():
    assert connector(site="acme").base_url() == "https://acme.atlassian.net"
    with pytest.raises(SourceError, match="site"):
        connector().base_url()
    for bad in ({"jql": "project = X ORDER BY created"}, {"timezone": "Mars/Olympus"}):
        errors = JiraConnector.option_errors(SourceConfig(name="j", type="jira", **bad))
        assert errors, bad
    assert ISSUES.docs_url.endswith("#api-rest-api-3-search-jql-get")


def sandbox_connector(sb: Any, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> JiraConnector:
    app = sb.vendor("jira")
    monkeypatch.setenv("JIRA_TOKEN", app.credentials["api_token"])
    return connector(
        base_url=sb.url("jira"),
        email=app.credentials["email"],
        credentials={"api_token": SecretRef(env="JIRA_TOKEN")},
        **extra,
    )


def test_removed_search_endpoint_fails_with_a_clear_gone_message(monkeypatch):
    with start_sandbox(vendors=("jira",)) as sb:
        jira = sandbox_connector(sb, monkeypatch, search_path="rest/api/3/search")
        with pytest.raises(SourceGone) as gone:
            list(jira.fetch({}))
    assert gone.value.status == 410 and "jira_beta" in str(gone.value)
    assert "rest/api/3/search/jql" in str(gone.value) and "search_path" in str(gone.value)


def test_enhanced_search_is_asked_for_fields_and_paged_by_token(monkeypatch):
    with start_sandbox(vendors=("jira",), page_size_cap=3) as sb:
        items = [i for b in sandbox_connector(sb, monkeypatch).fetch({}) for i in b.items]
        searches = sb.requests_to("jira", "rest/api/3/search/jql")
    queries = [parse_qs(urlsplit(s).query) for s in searches]
    assert all("summary" in q["fields"][0].split(",") for q in queries)
    assert "nextPageToken" not in queries[0] and all("nextPageToken" in q for q in queries[1:])
    assert len(queries) > 2 and all("startAt" not in q for q in queries)
    issues = [i for i in items if i["_endpoint"] == "issues"]
    rows = [r for i in items for r in connector().parse(i)]
    assert len(issues) == len(sb.vendor("jira").store["issues"])  # no project filter: OPS too
    assert all(r["text"] for r in rows) and any(r["is_internal"] for r in rows)


def test_an_issue_changed_within_the_boundary_minute_comes_back_once(monkeypatch):
    with start_sandbox(vendors=("jira",)) as sb:
        app = sb.vendor("jira")
        jira = sandbox_connector(sb, monkeypatch, project="BETA")
        state = list(jira.fetch({}))[-1].state
        again = list(jira.fetch(state))
        assert [i for b in again for i in b.items] == []  # the boundary minute was re-read...
        (search,) = sb.requests_to("jira", "rest/api/3/search/jql")[-1:]
        assert app.matching(parse_qs(urlsplit(search).query)["jql"][0])  # answered, dropped
        beta = [i for i in app.store["issues"] if i["_project"] == "BETA"]
        last = max(beta, key=lambda i: i["_updated"])
        other = next(i for i in beta if i is not last)
        app.clock.now, app.clock.step = last["_updated"], 1  # a second later: the same minute
        app.update_issue(other["key"], labels=["beta", "regression"])
        assert other["_updated"] // 60 == last["_updated"] // 60
        third = [i for b in jira.fetch(again[-1].state) for i in b.items]
    assert [(i["_endpoint"], i["id"]) for i in third] == [("issues", other["id"])]
    assert third[0]["fields"]["labels"] == ["beta", "regression"]
