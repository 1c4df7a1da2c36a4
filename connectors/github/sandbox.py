"""GitHub sandbox: a repository's issues (pull requests included, as GitHub lists them) and comments.

Speaks the documented shapes: bare JSON lists paged by `page`/`per_page` (max 100) with an
RFC 8288 Link header, `since` filtering on updated_at inclusively, `sort`/`direction`, the
`x-ratelimit-*` headers on every reply, and (with `quota` set) a 403 "API rate limit
exceeded" with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` once the quota is spent.
"""

from __future__ import annotations

import random
import re
import time
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

PAGE_MAX = 100
VERSIONS = ("2022-11-28",)
OWNER, REPO = "chorus-example", "beta-app"
WEB, API = "https://github.com", "https://api.github.com"
MAINTAINERS = ("octo-maint", "release-bot")


class GitHubSandbox(VendorApp):
    """Issues, pull requests and comments of an invented public beta repository."""

    name = "github"
    default_credentials: ClassVar[dict[str, str]] = {
        "token": "ghp_sandboxToken0000000000000000abcd"
    }

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        self.clock = fx.Clock(step=20)
        self.quota: int | None = None  # requests allowed per rate-limit window (None: no limit)
        self.used = 0
        self.rate_limited = 0  # 403s answered because the quota was spent
        self.api_versions: set[str] = set()
        super().__init__(data, **kw)
        for key in ("issues", "comments"):
            self.store.setdefault(key, [])
        times = [fx.epoch(r["updated_at"]) for k in ("issues", "comments") for r in self.store[k]]
        self.clock.now = max([self.clock.now, *times])

    # -- fixture data and the mutations tests make between runs ---------------------------

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        rng = random.Random(seed)
        self.store = {"issues": [], "comments": []}
        testers = [f"{fx.FIRST[n].lower()}-tester{n}" for n in range(7)]
        for n in range(10):
            issue = self.add_issue(
                fx.SUBJECTS[n % len(fx.SUBJECTS)],
                f"<!-- Describe the bug -->\n{fx.BODIES[n % len(fx.BODIES)]}",
                login=rng.choice(testers),
                labels=rng.sample(("bug", "enhancement", "beta", "ios", "android"), k=2),
                pull_request=n % 4 == 2,
                same_time=n % 3 == 1,  # two items updated in the same second: `since` boundary
            )
            for _ in range(rng.randrange(4)):
                maint = rng.random() < 0.3
                login = rng.choice(MAINTAINERS) if maint else rng.choice(testers)
                assoc = "MEMBER" if maint else rng.choice(("NONE", "CONTRIBUTOR"))
                self.add_comment(issue["number"], rng.choice(fx.REPLIES), login, assoc)
        self.store["issues"][3]["state"] = "closed"
        return self.store

    @staticmethod
    def user(login: str) -> dict[str, Any]:
        """A GitHub user object (simple-user) for an invented login."""
        return {
            "login": login,
            "id": sum(map(ord, login)) * 1009,
            "node_id": f"U_{login}",
            "html_url": f"{WEB}/{login}",
            "type": "Bot" if login.endswith("-bot") else "User",
            "site_admin": False,
        }

    def issue(self, number: int) -> dict[str, Any]:
        """The stored issue (or pull request) with this number."""
        for issue in self.store["issues"]:
            if issue["number"] == number:
                return issue
        raise KeyError(f"no issue #{number}")

    def add_issue(
        self,
        title: str,
        body: str | None,
        login: str = "ada-tester0",
        labels: list[str] | tuple[str, ...] = (),
        association: str = "NONE",
        pull_request: bool = False,
        same_time: bool = False,
    ) -> dict[str, Any]:
        """A new issue or pull request (same_time: updated in the same second as the last item)."""
        with self.lock:
            now = self.clock.now if same_time else self.clock.tick()
            number = 1 + max([0, *(i["number"] for i in self.store["issues"])])
            kind = "pull" if pull_request else "issues"
            issue: dict[str, Any] = {
                "id": 2000000 + number,
                "node_id": f"I_{number}",
                "url": f"{API}/repos/{OWNER}/{REPO}/issues/{number}",
                "repository_url": f"{API}/repos/{OWNER}/{REPO}",
                "html_url": f"{WEB}/{OWNER}/{REPO}/{kind}/{number}",
                "number": number,
                "state": "open",
                "state_reason": None,
                "title": title,
                "body": body,
                "user": self.user(login),
                "labels": [
                    {"id": 300 + i, "name": n, "color": "ededed"} for i, n in enumerate(labels)
                ],
                "assignees": [],
                "locked": False,
                "comments": 0,
                "author_association": association,
                "reactions": {"url": f"{API}/reactions", "total_count": 0, "+1": 0},
                "created_at": fx.iso(now),
                "updated_at": fx.iso(now),
                "closed_at": None,
            }
            if pull_request:
                issue["pull_request"] = {
                    "url": f"{API}/repos/{OWNER}/{REPO}/pulls/{number}",
                    "html_url": f"{WEB}/{OWNER}/{REPO}/pull/{number}",
                    "merged_at": None,
                }
            self.store["issues"].append(issue)
            return issue

    def add_comment(
        self, number: int, body: str, login: str = "bo-tester1", association: str = "NONE"
    ) -> dict[str, Any]:
        """A comment on an issue or pull request; the issue's updated_at moves with it."""
        with self.lock:
            issue = self.issue(number)
            now = self.clock.tick()
            cid = 1 + max([900000, *(c["id"] for c in self.store["comments"])])
            kind = "pull" if "pull_request" in issue else "issues"
            comment = {
                "id": cid,
                "node_id": f"IC_{cid}",
                "url": f"{API}/repos/{OWNER}/{REPO}/issues/comments/{cid}",
                "html_url": f"{WEB}/{OWNER}/{REPO}/{kind}/{number}#issuecomment-{cid}",
                "issue_url": f"{API}/repos/{OWNER}/{REPO}/issues/{number}",
                "body": body,
                "user": self.user(login),
                "author_association": association,
                "reactions": {"total_count": 1, "+1": 1},
                "created_at": fx.iso(now),
                "updated_at": fx.iso(now),
            }
            issue["comments"] += 1
            issue["updated_at"] = fx.iso(now)
            self.store["comments"].append(comment)
            return comment

    def edit_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        """Edit a comment: only the comment's updated_at moves."""
        with self.lock:
            comment = next(c for c in self.store["comments"] if c["id"] == comment_id)
            comment.update(body=body, updated_at=fx.iso(self.clock.tick()))
            return comment

    def update_issue(self, number: int, **changes: Any) -> dict[str, Any]:
        """Change issue fields (state, labels, title, ...); updated_at moves."""
        with self.lock:
            issue = self.issue(number)
            issue.update(changes, updated_at=fx.iso(self.clock.tick()))
            return issue

    # -- HTTP -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        """Bearer token, then the rate-limit window (a 403 with remaining 0 once it is spent)."""
        if request.headers.get("Authorization") != f"Bearer {self.credentials['token']}":
            return Response(
                401,
                {
                    "message": "Bad credentials",
                    "documentation_url": "https://docs.github.com/rest",
                    "status": "401",
                },
            )
        version = request.headers.get("X-GitHub-Api-Version")
        if version is not None:
            self.api_versions.add(version)
        if self.quota is not None:
            with self.lock:
                if self.used >= self.quota:
                    self.used, self.rate_limited = 0, self.rate_limited + 1  # the window resets
                    reply = self.error(403, "API rate limit exceeded for user ID 4242.")
                    reply.headers.update(self._limits(remaining=0))
                    return reply
                self.used += 1
        return None

    def _limits(self, remaining: int | None = None) -> dict[str, str]:
        limit = self.quota or 5000
        left = remaining if remaining is not None else max(0, limit - self.used)
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(left),
            "x-ratelimit-used": str(limit - left),
            "x-ratelimit-reset": str(int(time.time()) + 2),
            "x-ratelimit-resource": "core",
        }

    def handle(self, request: Request) -> Response:
        version = request.headers.get("X-GitHub-Api-Version")
        if version is not None and version not in VERSIONS:
            return self.error(400, f"Unsupported 'X-GitHub-Api-Version' header: {version}")
        reply = super().handle(request)
        for name, value in self._limits().items():
            reply.headers.setdefault(name, value)
        return reply

    def error(self, status: int, message: str) -> Response:
        doc = "https://docs.github.com/rest"
        reply = Response(
            status, {"message": message, "documentation_url": doc, "status": str(status)}
        )
        if status == 429:
            reply.headers.update(self._limits(remaining=0))
        return reply

    def _page(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        """One page of `rows` with the Link header (next, last, prev, first)."""
        size = self.page_size(request, "per_page", 30, PAGE_MAX)
        try:
            page = int(request.q("page") or 1)
        except ValueError:
            raise BadRequest("page must be an integer") from None
        last = max(1, -(-len(rows) // size))
        links = []
        query = {k: v for k, v in request.query.items() if k != "page"}
        url = f"{request.base_url}/{request.path}"
        for rel, n in (("next", page + 1), ("last", last), ("prev", page - 1), ("first", 1)):
            if (rel in ("next", "last") and page < last) or (rel in ("prev", "first") and page > 1):
                links.append(f'<{url}?{urlencode({**query, "page": n})}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        return Response(
            body=[fx.public(r) for r in rows[(page - 1) * size : page * size]], headers=headers
        )

    def _since_sorted(self, request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        since = request.q("since")
        if since:
            try:
                start = fx.epoch(since)
            except ValueError:
                raise BadRequest(f"Invalid value for since: {since!r}") from None
            rows = [r for r in rows if fx.epoch(r["updated_at"]) >= start]
        field = {"updated": "updated_at", "created": "created_at"}.get(
            request.q("sort") or "created"
        )
        if field is None:
            raise BadRequest(f"Invalid value for sort: {request.q('sort')!r}")
        desc = request.q("direction", "desc") == "desc"
        return sorted(rows, key=lambda r: (fx.epoch(r[field]), r["id"]), reverse=desc)

    @route("GET", rf"repos/{OWNER}/{REPO}/issues")
    def issues(self, request: Request, match: re.Match[str]) -> Response:
        """Issues and pull requests; state defaults to open."""
        state = request.q("state", "open")
        rows = [i for i in self.store["issues"] if state == "all" or i["state"] == state]
        return self._page(request, self._since_sorted(request, rows))

    @route("GET", rf"repos/{OWNER}/{REPO}/issues/comments")
    def comments(self, request: Request, match: re.Match[str]) -> Response:
        """Every issue and pull request comment in the repository."""
        return self._page(request, self._since_sorted(request, list(self.store["comments"])))
