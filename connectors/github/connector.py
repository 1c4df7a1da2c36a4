"""GitHub: a repository's issues and their comments, as beta feedback.

Traps handled:
- The issues list also returns pull requests (items with a `pull_request` key), and the
  repository-wide comment list also returns comments on pull requests (their html_url points
  at /pull/N): both are dropped unless `include_pull_requests`.
- `since` is inclusive (updated at or after): the Watermark cursor keeps the ids at its
  timestamp, so the boundary item is not delivered twice.
- Rate limits answer 403 or 429 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`:
  the shared client waits until the reset and retries.
- Issue templates leave HTML comments (<!-- ... -->) in bodies: they are stripped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from connectors.common.base import ParseError, parse_timestamp, parsed_tags
from connectors.common.http.auth import AuthStrategy, BearerAuth
from connectors.common.http.paginators import LinkHeaderPaginator
from connectors.common.incremental import Watermark
from connectors.common.rest import Endpoint, RestConnector, RestOptions, required

API_DOCS = "https://docs.github.com/en/rest/issues"
API_VERSION = "2022-11-28"
INTERNAL_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ISSUE_NUMBER = re.compile(r"/issues/(\d+)$")


def iso_since(epoch: float) -> str:
    """GitHub's `since` form: 2026-01-05T09:00:00Z."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _watermark() -> Watermark:
    return Watermark("updated_at", "since", to_param=iso_since)


def is_pull_request(item: dict[str, Any]) -> bool:
    """An issue-list item that is a pull request, or a comment on one."""
    if "pull_request" in item:
        return True
    return "/pull/" in str(item.get("html_url") or "")


def _records(include_pull_requests: bool) -> Callable[[Any], Any]:
    """The body is the list; pull requests (and their comments) are left out unless wanted."""

    def select(body: Any) -> Any:
        if include_pull_requests or not isinstance(body, list):
            return body
        return [i for i in body if not (isinstance(i, dict) and is_pull_request(i))]

    return select


ISSUES = Endpoint(
    name="issues",
    path="repos/{owner}/{repo}/issues",
    records=None,
    paginator=LinkHeaderPaginator,
    params={"state": "all", "sort": "updated", "direction": "asc"},
    page_size_param="per_page",
    incremental=_watermark(),
    dedupe_key=lambda issue: (issue.get("id"), issue.get("updated_at")),
    docs_url=f"{API_DOCS}/issues#list-repository-issues",
)

ISSUE_COMMENTS = Endpoint(
    name="issue_comments",
    path="repos/{owner}/{repo}/issues/comments",
    records=None,
    paginator=LinkHeaderPaginator,
    params={"sort": "updated", "direction": "asc"},
    page_size_param="per_page",
    incremental=_watermark(),
    dedupe_key=lambda comment: (comment.get("id"), comment.get("updated_at")),
    docs_url=f"{API_DOCS}/comments#list-issue-comments-for-a-repository",
)


class GitHubOptions(RestOptions):
    """GitHub keys: the repository ("owner/name") and whether pull requests count."""

    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    include_pull_requests: bool = False


class GitHubConnector(RestConnector):
    type = "github"
    source_kind = "beta"
    docs_url = f"{API_DOCS}/issues#list-repository-issues"
    description = "GitHub issues and issue comments of one repository"
    Options = GitHubOptions
    DEFAULT_BASE_URL = "https://api.github.com"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = (ISSUES, ISSUE_COMMENTS)
    HEADERS: ClassVar[dict[str, str]] = {  # pinned to REST API version 2022-11-28
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
    }

    def configure_endpoint(self, ep: Endpoint) -> Endpoint:
        """The endpoint for this repository, with or without pull requests."""
        owner, repo = self.options.repository.split("/")
        path = self.filled(ep.path, quoted=True, owner=owner, repo=repo)
        return replace(ep, path=path, records=_records(self.options.include_pull_requests))

    def auth(self) -> tuple[AuthStrategy, str]:
        """A personal access token, fine-grained token or installation token, as Bearer."""
        name = self.credential_name("token")
        return BearerAuth(self.secret("token"), credential_name=name), name

    def parse_issues(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """An issue (or, when included, a pull request): title and Markdown body."""
        number = required(item, "number", "issue")
        repo = self.options.repository
        what = f"issue {repo}#{number}"
        created = parse_timestamp(item.get("created_at"), what=f"{what}: created_at")
        updated = parse_timestamp(item.get("updated_at") or created, what=f"{what}: updated_at")
        labels = item.get("labels") or []
        if not isinstance(labels, list):
            raise ParseError(f"{what}: labels is {type(labels).__name__}, not a list")
        names = [lb.get("name") if isinstance(lb, dict) else lb for lb in labels]
        tags = parsed_tags([n for n in names if n])
        if item.get("state"):
            tags.append(f"state:{item['state']}")
        if "pull_request" in item:
            tags.append("pull_request")
        return [
            self.row(
                source_id=f"{repo}#{number}",
                thread_id=str(number),
                customer_id=_login(item),
                created_at=created,
                updated_at=updated,
                title=_text(item.get("title"), f"{what}: title"),
                text=_markdown(item.get("body"), f"{what}: body"),
                tags=tags,
                url=item.get("html_url"),
                is_internal=_internal(item),
            )
        ]

    def parse_issue_comments(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A comment; its issue number comes from issue_url."""
        cid = required(item, "id", "issue comment")
        repo = self.options.repository
        found = _ISSUE_NUMBER.search(str(item.get("issue_url") or ""))
        if found is None:
            raise ParseError(f"comment {cid}: issue_url {item.get('issue_url')!r} names no issue")
        number = found.group(1)
        what = f"comment {cid} on {repo}#{number}"
        created = parse_timestamp(item.get("created_at"), what=f"{what}: created_at")
        updated = parse_timestamp(item.get("updated_at") or created, what=f"{what}: updated_at")
        return [
            self.row(
                source_id=f"{repo}#{number}:{cid}",
                thread_id=number,
                customer_id=_login(item),
                created_at=created,
                updated_at=updated,
                text=_markdown(item.get("body"), f"{what}: body"),
                url=item.get("html_url"),
                is_internal=_internal(item),
            )
        ]


def _login(item: dict[str, Any]) -> str | None:
    user = item.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return str(login) if login else None


def _internal(item: dict[str, Any]) -> bool:
    """Maintainers (owner, member, collaborator) and bots are not customers."""
    user = item.get("user") if isinstance(item.get("user"), dict) else {}
    return item.get("author_association") in INTERNAL_ASSOCIATIONS or user.get("type") == "Bot"


def _text(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParseError(f"{what} is {type(value).__name__}, not text")
    return value


def _markdown(value: Any, what: str) -> str:
    """The Markdown body (null when empty) without template comments."""
    text = _text(value, what) or ""
    return _HTML_COMMENT.sub("", text).strip()
