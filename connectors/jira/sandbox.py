"""Jira Cloud sandbox: enhanced JQL search (/rest/api/3/search/jql), issue comments, the 410 trap.

Speaks the documented shapes: the search pages with `nextPageToken`/`isLast` (the token is
left out on the last page, as Jira Cloud does), returns only issue ids unless `fields` are
asked for, and reads `updated >= "yyyy/MM/dd HH:mm"` to the minute (UTC profile timezone).
Comments page with startAt/maxResults/total; bodies and descriptions are ADF documents.
The removed GET/POST /rest/api/{2,3}/search answers 410 Gone.
"""

from __future__ import annotations

import base64
import random
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

SEARCH_MAX = 100
COMMENTS_MAX = 100
SITE = "https://chorus-sandbox.atlassian.net"
REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/"
)
_CLAUSE = re.compile(
    r'\s*(?:project\s*=\s*"?(?P<project>[A-Za-z][A-Za-z0-9_]*)"?'
    r'|updated\s*>=\s*"(?P<since>\d{4}/\d{2}/\d{2} \d{2}:\d{2})"'
    r'|labels\s*=\s*"?(?P<label>[\w-]+)"?)\s*',
    re.IGNORECASE,
)


def adf(*paragraphs: Any) -> dict[str, Any]:
    """An ADF document of paragraphs (strings become text nodes; dicts are used as they are)."""
    content = []
    for p in paragraphs:
        if isinstance(p, dict):
            content.append(p)
        else:
            content.append({"type": "paragraph", "content": [{"type": "text", "text": p}]})
    return {"type": "doc", "version": 1, "content": content}


def jira_time(epoch: int) -> str:
    """Jira's timestamp form: 2026-01-05T09:00:25.000+0000."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class JiraSandbox(VendorApp):
    """Issues and comments of an invented beta programme (project BETA, plus an OPS project)."""

    name = "jira"
    default_credentials: ClassVar[dict[str, str]] = {
        "email": "beta.bot@example.com",
        "api_token": "jira-sandbox-api-token-7c21e9",
    }

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        self.clock = fx.Clock(step=25)  # several updates per minute: the JQL boundary trap
        super().__init__(data, **kw)
        for key in ("issues", "comments"):
            self.store.setdefault(key, [])
        times = [r["_updated"] for r in self.store["issues"]]
        self.clock.now = max([self.clock.now, *times])

    # -- fixture data and the mutations tests make between runs ---------------------------

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        rng = random.Random(seed)
        self.store = {"issues": [], "comments": []}
        people = [self.person(rng, n) for n in range(6)]
        for n in range(11):
            rich = {
                "type": "bulletList",
                "content": [
                    {"type": "listItem", "content": [adf(fx.REPLIES[n % 5])["content"][0]]}
                ],
            }
            issue = self.add_issue(
                fx.SUBJECTS[n % len(fx.SUBJECTS)],
                adf(fx.BODIES[n % len(fx.BODIES)], rich),
                reporter=rng.choice(people),
                labels=rng.sample(("beta", "ios", "android", "web", "crash"), k=2),
                project="OPS" if n % 4 == 3 else "BETA",
            )
            for _ in range(rng.randrange(4)):
                internal = rng.random() < 0.25
                text = rng.choice(fx.INTERNAL_NOTES if internal else fx.REPLIES)
                self.add_comment(issue["key"], text, author=rng.choice(people), internal=internal)
        self.store["comments"][0]["visibility"] = {"type": "group", "value": "beta-team"}
        return self.store

    @staticmethod
    def person(rng: random.Random, n: int, hide_email: bool | None = None) -> dict[str, Any]:
        """An invented Atlassian user; some hide their email (profile visibility)."""
        who = fx.person(rng, n)
        user = {
            "accountId": f"5f00{n:04d}{rng.randrange(16**8):08x}",
            "accountType": "atlassian",
            "displayName": who["name"],
            "active": True,
            "timeZone": "UTC",
            "self": f"{SITE}/rest/api/3/user?accountId=5f00{n:04d}",
        }
        if not (hide_email if hide_email is not None else n % 3 == 2):
            user["emailAddress"] = who["email"]
        return user

    def issue(self, key: str) -> dict[str, Any]:
        """The stored issue with this key or id."""
        for issue in self.store["issues"]:
            if key in (issue["key"], issue["id"]):
                return issue
        raise KeyError(f"no issue {key}")

    def _touch(self, issue: dict[str, Any]) -> int:
        now = self.clock.tick()
        issue["_updated"] = now
        issue["fields"]["updated"] = jira_time(now)
        return now

    def add_issue(
        self,
        summary: str,
        description: dict[str, Any] | None,
        reporter: dict[str, Any] | None = None,
        labels: list[str] | tuple[str, ...] = (),
        project: str = "BETA",
    ) -> dict[str, Any]:
        """A new issue in a project (ids and keys count up)."""
        with self.lock:
            now = self.clock.tick()
            iid = max([10000, *(int(i["id"]) for i in self.store["issues"])]) + 1
            number = 1 + sum(1 for i in self.store["issues"] if i["_project"] == project)
            issue = {
                "id": str(iid),
                "key": f"{project}-{number}",
                "self": f"{SITE}/rest/api/3/issue/{iid}",
                "expand": "renderedFields,names,schema,operations,editmeta,changelog",
                "fields": {
                    "summary": summary,
                    "description": description,
                    "created": jira_time(now),
                    "updated": jira_time(now),
                    "reporter": reporter or self.person(random.Random(iid), 0),
                    "labels": list(labels),
                    "issuetype": {"id": "10001", "name": "Bug", "subtask": False},
                    "status": {"id": "1", "name": "To Do", "statusCategory": {"key": "new"}},
                    "project": {"id": "10000", "key": project, "name": project.title()},
                },
                "_project": project,
                "_updated": now,
            }
            self.store["issues"].append(issue)
            return issue

    def add_comment(
        self, key: str, text: str, author: dict[str, Any] | None = None, internal: bool = False
    ) -> dict[str, Any]:
        """A comment (restricted to the Developers role when internal); the issue's updated moves."""
        with self.lock:
            issue = self.issue(key)
            now = self._touch(issue)
            cid = max([20000, *(int(c["id"]) for c in self.store["comments"])]) + 1
            who = author or issue["fields"]["reporter"]
            comment = {
                "self": f"{SITE}/rest/api/3/issue/{issue['id']}/comment/{cid}",
                "id": str(cid),
                "author": who,
                "body": adf(text),
                "updateAuthor": who,
                "created": jira_time(now),
                "updated": jira_time(now),
                "jsdPublic": True,
                "_issue_id": issue["id"],
            }
            if internal:
                comment["visibility"] = {
                    "type": "role",
                    "value": "Developers",
                    "identifier": "Developers",
                }
            self.store["comments"].append(comment)
            return comment

    def edit_comment(self, comment_id: str, text: str) -> dict[str, Any]:
        """Edit a comment: its updated and its issue's updated move."""
        with self.lock:
            comment = next(c for c in self.store["comments"] if c["id"] == comment_id)
            now = self._touch(self.issue(comment["_issue_id"]))
            comment.update(body=adf(text), updated=jira_time(now))
            return comment

    def update_issue(self, key: str, **fields: Any) -> dict[str, Any]:
        """Change issue fields (labels, status, ...); updated moves."""
        with self.lock:
            issue = self.issue(key)
            issue["fields"].update(fields)
            self._touch(issue)
            return issue

    # -- HTTP -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        creds = self.credentials
        raw = f"{creds['email']}:{creds['api_token']}".encode()
        if request.headers.get("Authorization", "") == f"Basic {base64.b64encode(raw).decode()}":
            return None
        return Response(401, "Client must be authenticated to access this resource.")

    def error(self, status: int, message: str) -> Response:
        if status == 503:
            return Response(503, "Service Unavailable")
        return Response(status, {"errorMessages": [message], "errors": {}})

    @route("GET", r"rest/api/(?:2|3|latest)/search")
    def removed_search_get(self, request: Request, match: re.Match[str]) -> Response:
        """The old search: removed, 410 Gone."""
        return Response(410, {"errorMessages": [REMOVED], "errors": {}})

    @route("POST", r"rest/api/(?:2|3|latest)/search")
    def removed_search_post(self, request: Request, match: re.Match[str]) -> Response:
        """The old search (POST): removed, 410 Gone."""
        return Response(410, {"errorMessages": [REMOVED], "errors": {}})

    def matching(self, jql: str) -> list[dict[str, Any]]:
        """Issues matching the small JQL subset the sandbox reads, ordered by updated then id."""
        where, *rest = re.split(r"\s+ORDER\s+BY\s+", jql, maxsplit=1, flags=re.I)
        order = rest[0] if rest else ""
        if order and order.strip().lower() not in ("updated asc", "updated"):
            raise BadRequest(f"Error in the JQL Query: the sandbox cannot order by {order!r}")
        bare = where.replace("(", " ").replace(")", " ")
        clauses = re.split(r"\s+AND\s+", bare, flags=re.I)
        if not any(c.strip() for c in clauses):
            raise BadRequest(
                "Unbounded JQL queries are not allowed here. Please add a search restriction."
            )
        rows = self.store["issues"]
        for clause in clauses:
            m = _CLAUSE.fullmatch(clause)
            if m is None:
                raise BadRequest(f"Error in the JQL Query: cannot read {clause.strip()!r}")
            if m["project"]:
                rows = [r for r in rows if r["_project"].lower() == m["project"].lower()]
            elif m["since"]:
                since = datetime.strptime(m["since"], "%Y/%m/%d %H:%M").replace(tzinfo=UTC)
                rows = [r for r in rows if r["_updated"] >= since.timestamp()]
            else:
                rows = [r for r in rows if m["label"] in r["fields"]["labels"]]
        return sorted(rows, key=lambda r: (r["_updated"], int(r["id"])))

    @route("GET", r"rest/api/3/search/jql")
    def search(self, request: Request, match: re.Match[str]) -> Response:
        """Enhanced search: a page after the token's position; only ids unless fields are asked."""
        size = self.page_size(request, "maxResults", 50, SEARCH_MAX)
        rows = self.matching(request.q("jql") or "")
        token = request.q("nextPageToken")
        if token:
            try:
                after = tuple(fx.decode_cursor(token))
            except ValueError:
                raise BadRequest("The provided next page token is invalid or expired.") from None
            rows = [r for r in rows if (r["_updated"], int(r["id"])) > after]
        page, last = rows[:size], len(rows) <= size
        wanted = [f.strip() for f in (request.q("fields") or "").split(",") if f.strip()]
        body: dict[str, Any] = {"issues": [self._shown(r, wanted) for r in page], "isLast": last}
        if not last:
            body["nextPageToken"] = fx.encode_cursor([page[-1]["_updated"], int(page[-1]["id"])])
        return Response(body=body)

    @staticmethod
    def _shown(issue: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        if not wanted or wanted == ["id"]:
            return {"id": issue["id"]}
        everything = any(w in ("*all", "*navigable") for w in wanted)
        fields = {k: v for k, v in issue["fields"].items() if everything or k in wanted}
        return {**fx.public(issue), "fields": fields}

    @route("GET", r"rest/api/3/issue/(?P<key>[A-Za-z0-9_-]+)/comment")
    def comments(self, request: Request, match: re.Match[str]) -> Response:
        """An issue's comments by creation, paged with startAt/maxResults/total."""
        try:
            issue = self.issue(match["key"])
        except KeyError:
            return self.error(404, "Issue does not exist or you do not have permission to see it.")
        size = self.page_size(request, "maxResults", COMMENTS_MAX, COMMENTS_MAX)
        try:
            start = int(request.q("startAt") or 0)
        except ValueError:
            raise BadRequest("startAt must be an integer") from None
        rows = [c for c in self.store["comments"] if c["_issue_id"] == issue["id"]]
        rows.sort(key=lambda c: int(c["id"]), reverse=request.q("orderBy") == "-created")
        page = rows[start : start + size]
        return Response(
            body={
                "startAt": start,
                "maxResults": size,
                "total": len(rows),
                "comments": [fx.public(c) for c in page],
            }
        )
