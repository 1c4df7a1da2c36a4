"""Pagination strategies: small classes that say how to ask for the next page and when to stop.

Each paginator is driven by `HttpClient.paginate`: `first_request(params)` gives the first
page's query, `next_request(response, records, params)` gives the next page's query (a dict),
an absolute URL (a str) or None when done, and `token()` gives the JSON-serialisable state to
resume from. A paginator whose `method` is not GET (a search that takes POST) sends that dict
as the JSON body instead of the query. A cursor, URL or start time that repeats within a run
raises PaginationLoopError.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import quote, urljoin

import requests

from connectors.common.http.errors import PaginationLoopError

Selector = str | Callable[[Any], Any]
NextRequest = dict[str, Any] | str | None


def dig(obj: Any, path: str) -> Any:
    """The value at a dotted path ("pages.next.starting_after"; digits index lists), or None."""
    for part in path.split(".") if path else []:
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif (
            isinstance(obj, list)
            and part.lstrip("-").isdigit()
            and -len(obj) <= int(part) < len(obj)
        ):
            obj = obj[int(part)]
        else:
            return None
    return obj


def select(body: Any, selector: Selector | None) -> Any:
    """Apply a dotted path or a callable to a response body; None selects nothing."""
    if selector is None:
        return None
    return selector(body) if callable(selector) else dig(body, selector)


def expand_path(path: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Fill "{name}" placeholders in a path from params; the rest stay query parameters."""
    if "{" not in path:
        return path, params
    names = {field for _, field, _, _ in string.Formatter().parse(path) if field}
    missing = names - params.keys()
    if missing:
        raise ValueError(f"path {path!r} needs the parameters {sorted(missing)}")
    filled = path.format(**{name: quote(str(params[name]), safe="") for name in names})
    return filled, {k: v for k, v in params.items() if k not in names}


def truthy(value: Any) -> bool:
    """JSON-ish truth: "false", "0" and "" are false, as some APIs send booleans as strings."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no")
    return bool(value)


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class Paginator:
    """Base paginator: holds the next request, the loop-detection memory and the resume token."""

    method: ClassVar[str] = "GET"  # any other: the request dict is sent as the JSON body

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._next: NextRequest = None
        self._last_fingerprint: str | None = None

    def reset(self) -> None:
        """Forget everything from a previous run."""
        self._seen = set()
        self._next = None
        self._last_fingerprint = None

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        """The query parameters of the first page."""
        self.reset()
        self._next = dict(params)
        return dict(params)

    def next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        """Parameters (dict) or URL (str) of the next page, or None when there is none."""
        self._next = self._next_request(response, records, params)
        return self._next

    def _next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        raise NotImplementedError

    def token(self) -> dict[str, Any] | None:
        """JSON-serialisable state that `resume` turns back into the next request; None when done."""
        if self._next is None:
            return None
        key = "url" if isinstance(self._next, str) else "params"
        return {"paginator": type(self).__name__, key: self._next}

    def resume(self, token: dict[str, Any]) -> NextRequest:
        """The request a saved token points at; it counts as seen for loop detection."""
        if token.get("paginator") != type(self).__name__:
            raise ValueError(
                f"token from {token.get('paginator')!r} given to {type(self).__name__}"
            )
        self.reset()
        self._next = token["url"] if "url" in token else dict(token["params"])
        self._remember_resumed(self._next)
        return self._next

    def _remember_resumed(self, request: NextRequest) -> None:
        """Record the resumed position for loop detection (subclasses know which key matters)."""

    def _remember(self, what: str, value: Any) -> None:
        key = str(value)
        if key in self._seen:
            raise PaginationLoopError(f"loop detected: {what} {key!r} was already requested")
        self._seen.add(key)

    def _check_not_repeated(self, response: requests.Response, where: str) -> None:
        """Stop when a page repeats the previous one byte for byte: the server ignores our param."""
        fingerprint = hashlib.sha256(response.content).hexdigest()
        if fingerprint == self._last_fingerprint:
            raise PaginationLoopError(
                f"loop detected: {where} returned the same body as the page before"
            )
        self._last_fingerprint = fingerprint


class SinglePage(Paginator):
    """An unpaginated resource: one request returns everything."""

    def _next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        return None


class CursorPaginator(Paginator):
    """Cursor in the body sent back as a parameter (Zendesk cursor export, Intercom, Slack, Play, Jira)."""

    def __init__(
        self,
        cursor_param: str,
        next_cursor: Selector,
        *,
        has_more: Selector | None = None,
        is_last: Selector | None = None,
        drop_params: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.cursor_param = cursor_param
        self.next_cursor = next_cursor
        self.has_more = has_more
        self.is_last = is_last
        self.drop_params = drop_params

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        first = super().first_request(params)
        if first.get(self.cursor_param):
            self._remember("cursor", first[self.cursor_param])
        return first

    def _remember_resumed(self, request: NextRequest) -> None:
        if isinstance(request, dict) and request.get(self.cursor_param):
            self._remember("cursor", request[self.cursor_param])

    def _next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        body = _body(response)
        if self.is_last is not None and truthy(select(body, self.is_last)):
            return None
        if self.has_more is not None and not truthy(select(body, self.has_more)):
            return None
        cursor = select(body, self.next_cursor)
        if cursor is None or cursor == "":
            return None
        self._remember("cursor", cursor)
        nxt = {k: v for k, v in params.items() if k not in self.drop_params}
        nxt[self.cursor_param] = cursor
        return nxt


class JsonBodyCursorPaginator(Paginator):
    """POST paging whose request is a JSON body: the next body carries the body's cursor at a
    dotted path (Intercom search: pages.next.starting_after -> pagination.starting_after)."""

    method: ClassVar[str] = "POST"

    def __init__(self, next_cursor: Selector, cursor_path: str) -> None:
        super().__init__()
        self.next_cursor = next_cursor
        self.cursor_path = cursor_path

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        first = super().first_request(params)
        self._remember_resumed(first)
        return first

    def _remember_resumed(self, request: NextRequest) -> None:
        if isinstance(request, dict) and dig(request, self.cursor_path):
            self._remember("cursor", dig(request, self.cursor_path))

    def _next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        cursor = select(_body(response), self.next_cursor)
        if cursor is None or cursor == "" or not records:
            return None
        self._remember("cursor", cursor)
        return with_value(params, self.cursor_path, cursor)


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of a nested dict with `value` at a dotted path (the dicts on the way copied too)."""
    head, _, rest = path.partition(".")
    inner = body.get(head) if isinstance(body.get(head), dict) else {}
    return {**body, head: with_value(inner, rest, value) if rest else value}


class NextUrlPaginator(Paginator):
    """A next-page URL in the body (Zendesk `next_page`, SurveyMonkey and App Store `links.next`)."""

    def __init__(
        self, next_url: Selector = "next_page", *, is_last: Selector | None = None
    ) -> None:
        super().__init__()
        self.next_url = next_url
        self.is_last = is_last

    def _find_next(self, response: requests.Response) -> str | None:
        if self.is_last is not None and truthy(select(_body(response), self.is_last)):
            return None
        found = select(_body(response), self.next_url)
        return str(found) if found else None

    def _remember_resumed(self, request: NextRequest) -> None:
        if isinstance(request, str):
            self._remember("next URL", request)

    def _next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        self._seen.add(str(response.url))
        found = self._find_next(response)
        if not found:
            return None
        url = urljoin(response.url, found)
        self._remember("next URL", url)
        return url


class LinkHeaderPaginator(NextUrlPaginator):
    """The RFC 8288 Link header's rel="next" URL (GitHub, Freshdesk)."""

    def __init__(self, rel: str = "next") -> None:
        super().__init__(next_url="")
        self.rel = rel

    def _find_next(self, response: requests.Response) -> str | None:
        return response.links.get(self.rel, {}).get("url") or None


class PageNumberPaginator(Paginator):
    """Page numbers in a parameter or a path template "{page}" (Freshdesk, Apple's RSS feed)."""

    def __init__(
        self,
        page_param: str = "page",
        *,
        size_param: str | None = None,
        size: int | None = None,
        start: int = 1,
        total_pages: Selector | None = None,
        max_page: int | None = None,
        stop_on_short_page: bool = True,
    ) -> None:
        super().__init__()
        self.page_param = page_param
        self.size_param = size_param
        self.size = size
        self.start = start
        self.total_pages = total_pages
        self.max_page = max_page
        self.stop_on_short_page = stop_on_short_page

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        first = {**params, self.page_param: self.start}
        if self.size_param and self.size:
            first[self.size_param] = self.size
        return super().first_request(first)

    def _next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        page = int(params[self.page_param])
        if not records:
            return None
        if self.stop_on_short_page and self.size and len(records) < self.size:
            return None
        total = select(_body(response), self.total_pages)
        if total is not None and page >= int(total):
            return None
        if self.max_page is not None and page >= self.max_page:
            return None
        self._check_not_repeated(response, f"page {page}")
        return {**params, self.page_param: page + 1}


class OffsetPaginator(Paginator):
    """Offset and limit parameters; the offset advances by the records actually received."""

    def __init__(
        self,
        offset_param: str = "offset",
        limit_param: str = "limit",
        limit: int = 100,
        *,
        start: int = 0,
        total: Selector | None = None,
        stop_on_short_page: bool = True,
    ) -> None:
        super().__init__()
        self.offset_param = offset_param
        self.limit_param = limit_param
        self.limit = limit
        self.start = start
        self.total = total
        self.stop_on_short_page = stop_on_short_page

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        first = {**params, self.offset_param: self.start, self.limit_param: self.limit}
        return super().first_request(first)

    def _next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        offset = int(params[self.offset_param]) + len(records)
        if not records:
            return None
        if self.stop_on_short_page and len(records) < self.limit:
            return None
        total = select(_body(response), self.total)
        if total is not None and offset >= int(total):
            return None
        self._check_not_repeated(response, f"offset {params[self.offset_param]}")
        return {**params, self.offset_param: offset}


class StartTimePaginator(Paginator):
    """Time-based export: the next start time comes from the body (Zendesk `end_time`)."""

    def __init__(
        self,
        start_param: str = "start_time",
        next_start: Selector = "end_time",
        end_of_stream: Selector | None = "end_of_stream",
    ) -> None:
        super().__init__()
        self.start_param = start_param
        self.next_start = next_start
        self.end_of_stream = end_of_stream

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        first = super().first_request(params)
        if self.start_param in first:
            self._remember("start time", first[self.start_param])
        return first

    def _remember_resumed(self, request: NextRequest) -> None:
        if isinstance(request, dict) and self.start_param in request:
            self._remember("start time", request[self.start_param])

    def _next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        body = _body(response)
        if self.end_of_stream is None and not records:
            return None
        if self.end_of_stream is not None and truthy(select(body, self.end_of_stream)):
            return None
        start = select(body, self.next_start)
        if start is None or start == "":
            return None
        self._remember("start time", start)
        return {**params, self.start_param: start}
