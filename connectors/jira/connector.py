"""Jira Cloud: issues from the enhanced JQL search, and their comments, as beta feedback.

Traps handled:
- The old GET /rest/api/3/search was removed and answers 410 Gone: when `search_path` points
  at it, the run fails with a SourceGone saying to use /rest/api/3/search/jql (OLD_SEARCH_GONE).
- The enhanced search pages with `nextPageToken` + `isLast` (no startAt/total), returns only
  issue ids unless `fields` are asked for, and omits `nextPageToken` on the last page.
- JQL date literals have minute granularity and `updated >=` is inclusive: each run re-reads
  the boundary minute, and the cursor keeps the id and `updated` of every issue landed in
  that minute, so an issue comes again only when it changed (JqlWindow).
- The enhanced search is eventually consistent (an update can take minutes to be searchable):
  the window starts `lookback_minutes` (default 5) before the newest update, deduped the same way.
- JQL dates are read in the API user's profile timezone: `timezone` must name it (default UTC).
- Descriptions and comment bodies are Atlassian Document Format (connectors.jira.adf).
- Comments restricted to a role or group (`visibility`) or not public on a service desk
  (`jsdPublic: false`) are internal notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from pydantic import Field, field_validator

from connectors.common.base import ParseError, parse_timestamp, parsed_tags
from connectors.common.http.auth import AuthStrategy, BasicAuth
from connectors.common.http.client import Page
from connectors.common.http.error_policy import Action, ErrorRule
from connectors.common.http.errors import SourceGone
from connectors.common.http.paginators import CursorPaginator, OffsetPaginator
from connectors.common.incremental import Incremental, epoch_of
from connectors.common.rest import ChildEndpoint, Endpoint, RestConnector, RestOptions
from connectors.common.rest import required as required_key
from connectors.jira.adf import adf_to_text

API_DOCS = "https://developer.atlassian.com/cloud/jira/platform/rest/v3"
SEARCH_PATH = "rest/api/3/search/jql"
ISSUE_FIELDS = (
    "summary",
    "description",
    "created",
    "updated",
    "reporter",
    "labels",
    "issuetype",
    "status",
)
COMMENT_PAGE = 100


def _is_old_search(response: requests.Response) -> bool:
    return urlsplit(response.url).path.rstrip("/").endswith("/search")


OLD_SEARCH_GONE = ErrorRule(
    Action.FAIL,
    status={410},
    when=_is_old_search,
    error=SourceGone,
    message="Jira answered 410 Gone for {url}: the old issue search was removed; set "
    f"search_path to {SEARCH_PATH!r} (the enhanced JQL search, paged with nextPageToken) "
    "or leave it out",
)


def jql_since(base: str | None, since: float, timezone: str = "UTC") -> str:
    """JQL for issues updated at or after `since` (floored to the minute, in the user's zone)."""
    when = datetime.fromtimestamp(since, ZoneInfo(timezone)).strftime("%Y/%m/%d %H:%M")
    where = f'updated >= "{when}"'
    return f"{f'({base}) AND ' if base else ''}{where} ORDER BY updated ASC"


def _updated(issue: dict[str, Any]) -> float | None:
    fields = issue.get("fields")
    value = fields.get("updated") if isinstance(fields, dict) else None
    try:
        return epoch_of(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class JqlWindow(Incremental):
    """`updated >=` a whole minute, `lookback_s` before the newest update landed.

    The cursor keeps {id: updated} of every issue landed inside that window, so re-reading it
    (inclusive minute boundary; search results that lag writes) delivers only real changes.
    """

    base: str | None = None
    timezone: str = "UTC"
    lookback_s: float = 0.0

    def window_start(self, value: float) -> float:
        """The minute the next search starts at, for the newest `updated` landed."""
        return math.floor((value - self.lookback_s) / 60) * 60

    def first_params(self, cursor: Any, start: int) -> dict[str, Any]:
        since = cursor["from"] if cursor else start
        return {"jql": jql_since(self.base, since, self.timezone)}

    def advance(self, cursor: Any, page: Page) -> Any:
        value = cursor["value"] if cursor else None
        seen = dict(cursor["seen"]) if cursor else {}
        for issue in page.records:
            t = _updated(issue)
            if t is None:
                continue
            key = str(issue.get("id"))
            seen[key] = max(t, seen.get(key, t))
            value = t if value is None else max(value, t)
        if value is None:
            return cursor
        start = self.window_start(value)
        return {
            "value": value,
            "from": start,
            "seen": {k: t for k, t in seen.items() if t >= start},
        }

    def is_new(self, cursor: Any, record: dict[str, Any]) -> bool:
        t = _updated(record)
        if not cursor or t is None:
            return True
        if t < cursor["from"]:
            return False
        seen = cursor["seen"].get(str(record.get("id")))
        return seen is None or t > seen

    def since(self, cursor: Any) -> float | None:
        return cursor["value"] if cursor else None


ISSUE_COMMENTS = ChildEndpoint(
    name="issue_comments",
    path="rest/api/3/issue/{issue_key}/comment",
    records="comments",
    paginator=lambda: OffsetPaginator(
        "startAt", "maxResults", COMMENT_PAGE, total="total", stop_on_short_page=False
    ),
    parent_params=lambda issue: {"issue_key": issue["key"]},
    context=lambda issue: {"issue_id": issue["id"], "issue_key": issue["key"]},
    applies=lambda issue: bool(issue.get("key")) and bool(issue.get("id")),
    params={"orderBy": "created"},
    since_field="updated",
    docs_url=f"{API_DOCS}/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-get",
)

ISSUES = Endpoint(
    name="issues",
    path=SEARCH_PATH,
    records="issues",
    paginator=lambda: CursorPaginator("nextPageToken", "nextPageToken", is_last="isLast"),
    params={"fields": ",".join(ISSUE_FIELDS)},
    page_size_param="maxResults",
    incremental=JqlWindow(),
    dedupe_key=lambda issue: (issue.get("id"), _updated(issue)),
    child=ISSUE_COMMENTS,
    errors=(OLD_SEARCH_GONE,),
    docs_url=f"{API_DOCS}/api-group-issue-search/#api-rest-api-3-search-jql-get",
)


class JiraOptions(RestOptions):
    """Jira keys: the site, the API user's email, which issues (project and/or JQL), fields."""

    site: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")  # <site>.atlassian.net
    email: str | None = None  # or credentials.email
    project: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    jql: str | None = None  # an extra filter, e.g. 'labels = beta-feedback' (no ORDER BY)
    timezone: str = "UTC"  # the API user's profile timezone: JQL dates are read in it
    search_path: str = SEARCH_PATH
    lookback_minutes: int = Field(default=5, ge=0, le=24 * 60)  # search lags writes by minutes
    app_version_field: str | None = None  # e.g. "customfield_10042" or "versions"
    account_field: str | None = None  # e.g. the service desk's "Organizations" custom field

    @field_validator("jql")
    @classmethod
    def _no_order_by(cls, value: str | None) -> str | None:
        if value and "order by" in value.lower():
            raise ValueError("leave ORDER BY out: Chorus orders by updated to read incrementally")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name such as UTC") from None
        return value


class JiraConnector(RestConnector):
    type = "jira"
    source_kind = "beta"
    docs_url = f"{API_DOCS}/api-group-issue-search/#api-rest-api-3-search-jql-get"
    description = "Jira Cloud issues (enhanced JQL search) and their comments"
    Options = JiraOptions
    DEFAULT_BASE_URL = "https://{site}.atlassian.net"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = (ISSUES,)

    def configure_endpoint(self, ep: Endpoint) -> Endpoint:
        """The issue search with this source's path, JQL filter, timezone and fields."""
        if ep.name != ISSUES.name:
            return super().configure_endpoint(ep)
        opts = self.options
        base = " AND ".join(
            part
            for part in (f"project = {opts.project}" if opts.project else None, opts.jql)
            if part
        )
        extra = tuple(f for f in (opts.app_version_field, opts.account_field) if f)
        return replace(
            ep,
            path=opts.search_path.strip("/"),
            params={"fields": ",".join(dict.fromkeys(ISSUE_FIELDS + extra))},
            incremental=JqlWindow(base or None, opts.timezone, opts.lookback_minutes * 60),
        )

    def auth(self) -> tuple[AuthStrategy, str]:
        """Basic auth with the Atlassian account email and an API token."""
        email = self.options.email or self.secret("email")
        name = self.credential_name("api_token")
        return BasicAuth(email, self.secret("api_token"), credential_name=name), name

    def browse_url(self, key: Any, api_url: Any = None) -> str | None:
        """The issue's page: https://<site>.atlassian.net/browse/<KEY>."""
        if self.options.site:
            return f"https://{self.options.site}.atlassian.net/browse/{key}"
        parts = urlsplit(api_url) if isinstance(api_url, str) else None
        return f"{parts.scheme}://{parts.netloc}/browse/{key}" if parts and parts.netloc else None

    def parse_issues(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """An issue: summary and ADF description; reporter, labels, type and status as tags."""
        iid = required_key(item, "id", "issue")
        key = item.get("key") or iid
        what = f"issue {key}"
        fields = item.get("fields")
        if not isinstance(fields, dict):
            raise ParseError(f"{what}: fields are missing (ask the search for them)")
        created = parse_timestamp(fields.get("created"), what=f"{what}: created")
        updated = parse_timestamp(fields.get("updated") or created, what=f"{what}: updated")
        reporter = fields.get("reporter") if isinstance(fields.get("reporter"), dict) else {}
        tags = parsed_tags(fields.get("labels"))
        for prefix, name in (("type", "issuetype"), ("status", "status")):
            value = _field_value(fields.get(name))
            if value:
                tags.append(f"{prefix}:{value}")
        opts = self.options
        return [
            self.row(
                source_id=str(iid),
                thread_id=str(iid),
                account_id=_field_value(fields.get(opts.account_field or "")),
                customer_id=_person(reporter),
                created_at=created,
                updated_at=updated,
                title=_field_value(fields.get("summary")),
                text=adf_to_text(fields.get("description")),
                tags=tags,
                url=self.browse_url(key, item.get("self")),
                app_version=_field_value(fields.get(opts.app_version_field or "")),
                is_internal=reporter.get("accountType") == "app",
            )
        ]

    def parse_issue_comments(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A comment (ADF body); restricted or non-public ones are internal notes."""
        parent = item.get("_parent") or {}
        issue_id, key = parent.get("issue_id"), parent.get("issue_key")
        if issue_id is None:
            raise ParseError("comment: _parent.issue_id is missing (not fetched via its issue)")
        cid = required_key(item, "id", f"comment on issue {key}")
        what = f"comment {cid} on issue {key}"
        created = parse_timestamp(item.get("created"), what=f"{what}: created")
        updated = parse_timestamp(item.get("updated") or created, what=f"{what}: updated")
        author = item.get("author") if isinstance(item.get("author"), dict) else {}
        restricted = isinstance(item.get("visibility"), dict) and bool(item["visibility"])
        internal = restricted or item.get("jsdPublic") is False
        page = self.browse_url(key, item.get("self"))
        return [
            self.row(
                source_id=f"{issue_id}:{cid}",
                thread_id=str(issue_id),
                customer_id=_person(author),
                created_at=created,
                updated_at=updated,
                text=adf_to_text(item.get("body")),
                tags=["internal_note"] if internal else [],
                url=f"{page}?focusedCommentId={cid}" if page else None,
                is_internal=internal or author.get("accountType") == "app",
            )
        ]


def _person(user: dict[str, Any]) -> str | None:
    """The email when the user's privacy settings show it, else the Atlassian accountId."""
    found = user.get("emailAddress") or user.get("accountId")
    return str(found) if found else None


def _field_value(value: Any) -> str | None:
    """A readable value of a Jira field: text, number, option/user/version objects, or lists."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict):
        for key in ("value", "name", "displayName", "key", "id"):
            if value.get(key) not in (None, ""):
                return str(value[key])
        return None
    if isinstance(value, list):
        parts = [p for p in (_field_value(v) for v in value) if p]
        return ", ".join(parts) or None
    return None
