"""GitHub parsing on documented payload shapes, pull requests left out, rate limits, `since`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.common.base import ParseError
from connectors.common.sandbox.server import start_sandbox
from connectors.github.connector import ISSUES, GitHubConnector, iso_since
from flows.runtime.config import SecretRef, SourceConfig

REPO = "octo-example/hello-app"
API, WEB = f"https://api.github.com/repos/{REPO}", f"https://github.com/{REPO}"


def connector(**extra: Any) -> GitHubConnector:
    extra.setdefault("repository", REPO)
    source = SourceConfig(name="gh_beta", type="github", **extra)
    return GitHubConnector(source, http={"sleep": lambda s: None})


USER = {"login": "ada-tester", "id": 1, "type": "User", "site_admin": False}
ISSUE = {
    "_endpoint": "issues",
    "id": 1,
    "node_id": "MDU6SXNzdWUx",
    "url": f"{API}/issues/1347",
    "repository_url": API,
    "html_url": f"{WEB}/issues/1347",
    "number": 1347,
    "state": "open",
    "title": "Found a bug",
    "body": "<!-- Please describe the bug -->\nI'm having a problem with this.",
    "user": USER,
    "labels": [{"id": 208045946, "name": "bug", "description": "Something isn't working"}],
    "locked": False,
    "comments": 0,
    "author_association": "NONE",
    "reactions": {"total_count": 3, "+1": 3},
    "closed_at": None,
    "created_at": "2011-04-22T13:33:48Z",
    "updated_at": "2011-04-22T13:35:00Z",
}
COMMENT = {
    "_endpoint": "issue_comments",
    "id": 1,
    "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
    "url": f"{API}/issues/comments/1",
    "html_url": f"{WEB}/issues/1347#issuecomment-1",
    "body": "Me too",
    "user": {**USER, "login": "octo-maint"},
    "created_at": "2011-04-14T16:00:49Z",
    "updated_at": "2011-04-14T16:00:49Z",
    "issue_url": f"{API}/issues/1347",
    "author_association": "COLLABORATOR",
}


def test_issue_row():
    (row,) = connector().parse(ISSUE)
    assert row["source_id"] == f"{REPO}#1347" and row["thread_id"] == "1347"
    assert (row["title"], row["text"]) == ("Found a bug", "I'm having a problem with this.")
    assert row["customer_id"] == "ada-tester" and row["account_id"] is None
    assert row["tags"] == ["bug", "state:open"] and row["url"] == f"{WEB}/issues/1347"
    assert row["created_at"] == datetime(2011, 4, 22, 13, 33, 48, tzinfo=UTC)
    assert row["updated_at"] == datetime(2011, 4, 22, 13, 35, tzinfo=UTC)
    assert (row["source_kind"], row["is_internal"], row["rating"]) == ("beta", False, None)


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR"])
def test_maintainers_are_internal(association):
    (row,) = connector().parse({**ISSUE, "author_association": association})
    assert row["is_internal"] is True


def test_contributors_are_customers_and_bots_are_internal():
    (row,) = connector().parse({**ISSUE, "author_association": "CONTRIBUTOR", "body": None})
    assert row["is_internal"] is False and row["text"] == ""
    (row,) = connector().parse({**ISSUE, "user": {"login": "ci[bot]", "type": "Bot"}})
    assert row["is_internal"] is True


def test_comment_row():
    (row,) = connector().parse(COMMENT)
    assert row["source_id"] == f"{REPO}#1347:1" and row["thread_id"] == "1347"
    assert row["text"] == "Me too" and row["customer_id"] == "octo-maint"
    assert row["is_internal"] is True and row["url"] == COMMENT["html_url"]
    assert row["title"] is None and row["tags"] == []


@pytest.mark.parametrize(
    "item,message",
    [
        ({**ISSUE, "number": None}, "number is missing"),
        ({**ISSUE, "created_at": None}, "created_at is missing"),
        ({**ISSUE, "body": {"md": "x"}}, "body is dict"),
        ({**ISSUE, "labels": "bug"}, "labels is str"),
        ({**COMMENT, "issue_url": None}, "names no issue"),
        ({**COMMENT, "id": None}, "id is missing"),
    ],
)
def test_bad_items_raise_parse_errors(item, message):
    with pytest.raises(ParseError, match=message):
        connector().parse(item)


def test_pull_requests_and_their_comments_are_dropped_unless_wanted():
    pr = {**ISSUE, "number": 7, "pull_request": {"url": f"{API}/pulls/7", "merged_at": None}}
    on_pr = {**COMMENT, "html_url": f"{WEB}/pull/7#issuecomment-2", "issue_url": f"{API}/issues/7"}
    body = [ISSUE, pr, COMMENT, on_pr]
    (issues, comments) = connector().endpoints()
    assert issues.records(body) == [ISSUE, COMMENT]
    assert comments.path == f"repos/{REPO}/issues/comments"
    (issues, _) = connector(include_pull_requests=True).endpoints()
    assert issues.records(body) == body
    (row,) = connector(include_pull_requests=True).parse(pr)
    assert "pull_request" in row["tags"]


def test_since_is_iso_and_the_boundary_item_is_not_repeated():
    mark = ISSUES.incremental
    cursor = {"value": datetime(2026, 1, 5, 9, tzinfo=UTC).timestamp(), "ids": [11]}
    assert mark.first_params(cursor, 0) == {"since": "2026-01-05T09:00:00Z"}
    assert (
        mark.first_params(None, 0) == {"since": iso_since(0)} == {"since": "1970-01-01T00:00:00Z"}
    )
    assert not mark.is_new(cursor, {"id": 11, "updated_at": "2026-01-05T09:00:00Z"})
    assert mark.is_new(cursor, {"id": 12, "updated_at": "2026-01-05T09:00:00Z"})


def test_options_need_an_owner_and_name():
    errors = GitHubConnector.option_errors(SourceConfig(name="g", type="github", repository="x"))
    assert errors and errors[0].startswith("repository")
    errors = GitHubConnector.option_errors(SourceConfig(name="g", type="github"))
    assert errors and "missing" in errors[0]
    assert connector().base_url() == "https://api.github.com"


def sandbox_connector(
    sb: Any, monkeypatch: pytest.MonkeyPatch, sleep: Any = lambda s: None, **extra: Any
) -> GitHubConnector:
    monkeypatch.setenv("GH_TOKEN", sb.vendor("github").credentials["token"])
    source = SourceConfig(
        name="gh_beta",
        type="github",
        base_url=sb.url("github"),
        credentials={"token": SecretRef(env="GH_TOKEN")},
        repository="chorus-example/beta-app",
        **extra,
    )
    return GitHubConnector(source, http={"sleep": sleep})


def test_rate_limit_403_waits_for_the_reset_and_loses_nothing(monkeypatch):
    waits: list[float] = []
    with start_sandbox(vendors=("github",), page_size_cap=2) as sb:
        app = sb.vendor("github")
        app.quota = 3
        gh = sandbox_connector(sb, monkeypatch, sleep=waits.append)  # records the waits
        items = [i for b in gh.fetch({}) for i in b.items]
    assert app.rate_limited >= 2 and len(waits) == app.rate_limited
    assert all(0 < w <= 3 for w in waits)  # until x-ratelimit-reset, not a blind backoff
    got = sorted(f"{i['_endpoint']}:{i['id']}" for i in items)
    assert len(got) == len(set(got))
    assert len([i for i in items if i["_endpoint"] == "issues"]) == sum(
        "pull_request" not in i for i in app.store["issues"]
    )


def test_requests_pin_the_api_version_and_page_by_link_header(monkeypatch):
    with start_sandbox(vendors=("github",), page_size_cap=2) as sb:
        items = [i for b in sandbox_connector(sb, monkeypatch).fetch({}) for i in b.items]
        app = sb.vendor("github")
        paths = sb.requests_to("github", "repos/chorus-example/beta-app/issues?")
    assert app.api_versions == {"2022-11-28"}
    queries = [parse_qs(urlsplit(p).query) for p in paths]
    assert queries[0]["state"] == ["all"] and queries[0]["direction"] == ["asc"]
    assert queries[0]["sort"] == ["updated"] and "page" not in queries[0]
    assert [q["page"] for q in queries[1:]] == [[str(n)] for n in range(2, len(queries) + 1)]
    assert not any("pull_request" in i for i in items)
    assert not any("/pull/" in i["html_url"] for i in items)


def test_pull_requests_come_when_asked(monkeypatch):
    with start_sandbox(vendors=("github",)) as sb:
        gh = sandbox_connector(sb, monkeypatch, include_pull_requests=True)
        items = [i for b in gh.fetch({}) for i in b.items]
        app = sb.vendor("github")
    assert len(items) == len(app.store["issues"]) + len(app.store["comments"])
