"""Every paginator pages a real local server to the end, resumes exactly, and detects loops."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlencode

import pytest

from connectors.common.http.client import HttpClient
from connectors.common.http.errors import PaginationLoopError, SourceError
from connectors.common.http.paginators import (
    CursorPaginator,
    JsonBodyCursorPaginator,
    LinkHeaderPaginator,
    NextUrlPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
    SinglePage,
    StartTimePaginator,
    dig,
    with_value,
)
from tests.httpserver import Reply, Seen, servers

ITEMS = [{"id": i} for i in range(1, 9)]  # 8 records, pages of 3: 3 + 3 + 2
SIZE = 3


@pytest.fixture
def serve():
    with servers() as start:
        yield start


def chunk(start: int) -> list[dict]:
    return ITEMS[start : start + SIZE]


def intercom(seen: Seen) -> Reply:
    """Intercom: pages.next.starting_after, absent on the last page."""
    start = int(seen.q("starting_after") or 0)
    body: dict = {"data": chunk(start), "pages": {}}
    if start + SIZE < len(ITEMS):
        body["pages"]["next"] = {"starting_after": str(start + SIZE)}
    return Reply(body=body)


SEARCH = {"query": {"field": "updated_at", "operator": ">", "value": 0}}


def json_body_search(seen: Seen) -> Reply:
    """Intercom search: a POST whose JSON body carries the query and pagination.starting_after."""
    assert seen.method == "POST" and not seen.query
    body = json.loads(seen.body)
    assert body["query"] == SEARCH["query"] and body["pagination"]["per_page"] == SIZE
    start = int(body["pagination"].get("starting_after") or 0)
    reply: dict = {"data": chunk(start), "pages": {}}
    if start + SIZE < len(ITEMS):
        reply["pages"]["next"] = {"starting_after": str(start + SIZE)}
    return Reply(body=reply)


def search_paginator() -> JsonBodyCursorPaginator:
    return JsonBodyCursorPaginator("pages.next.starting_after", "pagination.starting_after")


def zendesk_cursor(seen: Seen) -> Reply:
    """Zendesk cursor export: start_time first, then cursor=after_cursor until end_of_stream."""
    if seen.q("cursor") is None:
        assert seen.q("start_time") == "0"
    else:
        assert seen.q("start_time") is None  # dropped once the cursor is used
    start = int(seen.q("cursor") or 0)
    end = start + SIZE >= len(ITEMS)
    return Reply(
        body={"tickets": chunk(start), "after_cursor": str(start + SIZE), "end_of_stream": end}
    )


def slack(seen: Seen) -> Reply:
    """Slack: response_metadata.next_cursor, empty string at the end."""
    start = int(seen.q("cursor") or 0)
    nxt = str(start + SIZE) if start + SIZE < len(ITEMS) else ""
    return Reply(body={"messages": chunk(start), "response_metadata": {"next_cursor": nxt}})


def jira(seen: Seen) -> Reply:
    """Jira /search/jql: nextPageToken with isLast."""
    start = int(seen.q("nextPageToken") or 0)
    last = start + SIZE >= len(ITEMS)
    body = {"issues": chunk(start), "isLast": last}
    if not last:
        body["nextPageToken"] = f"{start + SIZE}"
    return Reply(body=body)


def play(seen: Seen) -> Reply:
    """Google Play reviews: tokenPagination.nextPageToken, param `token`."""
    start = int(seen.q("token") or 0)
    body: dict = {"reviews": chunk(start)}
    if start + SIZE < len(ITEMS):
        body["tokenPagination"] = {"nextPageToken": str(start + SIZE)}
    return Reply(body=body)


def make_next_url(base: Callable[[], str], relative: bool) -> Callable[[Seen], Reply]:
    """Zendesk-style `next_page` (absolute) or SurveyMonkey-style `links.next` (relative)."""

    def handle(seen: Seen) -> Reply:
        start = int(seen.q("offset") or 0)
        nxt = None
        if start + SIZE < len(ITEMS):
            path = f"{seen.path}?{urlencode({'offset': start + SIZE, 'per_page': SIZE})}"
            nxt = path if relative else base() + path
        return Reply(body={"results": chunk(start), "links": {"next": nxt}, "next_page": nxt})

    return handle


def make_link_header(base: Callable[[], str]) -> Callable[[Seen], Reply]:
    """GitHub/Freshdesk: rel="next" in the Link header."""

    def handle(seen: Seen) -> Reply:
        page = int(seen.q("page") or 1)
        headers = {}
        if page * SIZE < len(ITEMS):
            nxt = f'<{base()}{seen.path}?page={page + 1}>; rel="next"'
            headers["Link"] = f'{nxt}, <{base()}{seen.path}?page=1>; rel="first"'
        return Reply(body=chunk((page - 1) * SIZE), headers=headers)

    return handle


def page_number(seen: Seen) -> Reply:
    page = int(seen.q("page") or 1)
    assert seen.q("per_page") == str(SIZE)
    return Reply(body={"items": chunk((page - 1) * SIZE), "total_pages": 3})


def apple_rss(seen: Seen) -> Reply:
    """Apple's RSS feed: page number inside the path, fixed page size, empty after the end."""
    parts = dict(p.split("=", 1) for p in seen.path.split("/") if "=" in p)
    assert seen.path.startswith("/us/rss/customerreviews/") and parts["id"] == "123"
    assert seen.query == {}  # path parameters are not repeated in the query string
    page = int(parts["page"])
    return Reply(body={"feed": {"entry": chunk((page - 1) * SIZE)}})


def offset_api(seen: Seen) -> Reply:
    offset, limit = int(seen.q("offset")), int(seen.q("limit"))
    return Reply(body={"rows": ITEMS[offset : offset + limit], "total": len(ITEMS)})


def zendesk_time(seen: Seen) -> Reply:
    """Zendesk time-based export: next start_time = end_time, until end_of_stream."""
    start = int(seen.q("start_time"))
    end = start + SIZE >= len(ITEMS)
    return Reply(body={"users": chunk(start), "end_time": start + SIZE, "end_of_stream": end})


# name -> (handler factory taking the server-url getter, path, paginator factory, params, records)
CASES: dict[str, tuple] = {
    "intercom": (
        lambda u: intercom,
        "/conversations",
        lambda: CursorPaginator("starting_after", "pages.next.starting_after"),
        {"per_page": SIZE},
        "data",
    ),
    "zendesk_cursor": (
        lambda u: zendesk_cursor,
        "/api/v2/incremental/tickets/cursor.json",
        lambda: CursorPaginator(
            "cursor", "after_cursor", is_last="end_of_stream", drop_params=("start_time",)
        ),
        {"start_time": 0},
        "tickets",
    ),
    "slack": (
        lambda u: slack,
        "/conversations.history",
        lambda: CursorPaginator("cursor", "response_metadata.next_cursor"),
        {"channel": "C1", "limit": SIZE},
        "messages",
    ),
    "jira": (
        lambda u: jira,
        "/rest/api/3/search/jql",
        lambda: CursorPaginator("nextPageToken", "nextPageToken", is_last="isLast"),
        {"jql": "project = X"},
        "issues",
    ),
    "google_play": (
        lambda u: play,
        "/androidpublisher/v3/applications/app/reviews",
        lambda: CursorPaginator("token", "tokenPagination.nextPageToken"),
        {"maxResults": SIZE},
        "reviews",
    ),
    "next_url_absolute": (
        lambda u: make_next_url(u, relative=False),
        "/api/v2/users.json",
        lambda: NextUrlPaginator("next_page"),
        {"per_page": SIZE},
        "results",
    ),
    "next_url_relative": (
        lambda u: make_next_url(u, relative=True),
        "/v3/surveys/1/responses/bulk",
        lambda: NextUrlPaginator("links.next"),
        {"per_page": SIZE},
        "results",
    ),
    "link_header": (
        make_link_header,
        "/repos/o/r/issues",
        LinkHeaderPaginator,
        {"per_page": SIZE},
        None,
    ),
    "json_body_search": (
        lambda u: json_body_search,
        "/conversations/search",
        search_paginator,
        {**SEARCH, "pagination": {"per_page": SIZE}},
        "data",
    ),
    "page_number": (
        lambda u: page_number,
        "/api/v2/tickets",
        lambda: PageNumberPaginator(
            "page", size_param="per_page", size=SIZE, total_pages="total_pages"
        ),
        {},
        "items",
    ),
    "apple_rss": (
        lambda u: apple_rss,
        "/{country}/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json",
        lambda: PageNumberPaginator("page", max_page=10, stop_on_short_page=False),
        {"country": "us", "app_id": "123"},
        "feed.entry",
    ),
    "offset": (
        lambda u: offset_api,
        "/rows",
        lambda: OffsetPaginator("offset", "limit", SIZE, total="total", stop_on_short_page=False),
        {},
        "rows",
    ),
    "zendesk_time": (
        lambda u: zendesk_time,
        "/api/v2/incremental/users.json",
        lambda: StartTimePaginator("start_time", "end_time", "end_of_stream"),
        {"start_time": 0},
        "users",
    ),
}


def start_case(serve, name: str) -> tuple[HttpClient, Callable[..., list]]:
    handler_factory, path, make_paginator, params, records = CASES[name]
    holder: dict[str, str] = {}
    server = serve(handler_factory(lambda: holder["url"]))
    holder["url"] = server.url

    def pages(**kw) -> list:
        return list(client.paginate(path, make_paginator(), params=params, records=records, **kw))

    client = HttpClient(name, server.url, sleep=lambda s: None)
    return client, pages


@pytest.mark.parametrize("name", sorted(CASES))
def test_pages_to_the_end(serve, name):
    _, pages = start_case(serve, name)
    got = pages()
    assert [r["id"] for p in got for r in p.records] == [r["id"] for r in ITEMS]
    assert got[-1].token is None
    assert all(p.token is not None for p in got[:-1])


@pytest.mark.parametrize("name", sorted(CASES))
def test_resume_from_any_token_gives_exactly_the_rest(serve, name):
    _, pages = start_case(serve, name)
    first_run = pages()
    for i, page in enumerate(first_run[:-1]):
        token = json.loads(json.dumps(page.token))  # tokens survive a trip through state storage
        rest = pages(resume=token)
        expected = [r for p in first_run[i + 1 :] for r in p.records]
        assert [r for p in rest for r in p.records] == expected


def test_resume_token_must_come_from_the_same_paginator():
    token = {"paginator": "CursorPaginator", "params": {"cursor": "x"}}
    with pytest.raises(ValueError, match="CursorPaginator"):
        OffsetPaginator().resume(token)


def test_repeated_cursor_is_a_loop(serve):
    server = serve(lambda seen: Reply(body={"data": [{"id": 1}], "next": "same-cursor"}))
    client = HttpClient("intercom", server.url)
    pages = client.paginate("/x", CursorPaginator("after", "next"), records="data", max_pages=5)
    with pytest.raises(PaginationLoopError, match="loop detected") as caught:
        list(pages)
    assert "same-cursor" in str(caught.value) and caught.value.source == "intercom"
    assert len(server.seen) == 2


def test_resumed_cursor_coming_back_is_a_loop(serve):
    server = serve(lambda seen: Reply(body={"data": [], "next": "c1"}))
    paginator = CursorPaginator("after", "next")
    token = {"paginator": "CursorPaginator", "params": {"after": "c1"}}
    with pytest.raises(PaginationLoopError):
        list(
            HttpClient("s", server.url).paginate(
                "/x", paginator, records="data", resume=token, max_pages=5
            )
        )
    assert len(server.seen) == 1


def test_next_url_pointing_back_is_a_loop(serve):
    holder: dict[str, str] = {}
    server = serve(
        lambda seen: Reply(body={"items": [1], "next_page": holder["url"] + "/a?page=1"})
    )
    holder["url"] = server.url
    with pytest.raises(PaginationLoopError, match="loop detected"):
        list(
            HttpClient("zendesk", server.url).paginate(
                "/a",
                NextUrlPaginator("next_page"),
                params={"page": 1},
                records="items",
                max_pages=5,
            )
        )
    assert len(server.seen) == 1


def test_page_param_ignored_by_server_is_a_loop(serve):
    server = serve(lambda seen: Reply(body={"items": [1, 2, 3]}))
    paginator = PageNumberPaginator("page", size=3, size_param="per_page")
    with pytest.raises(PaginationLoopError, match="same body"):
        list(
            HttpClient("freshdesk", server.url).paginate(
                "/t", paginator, records="items", max_pages=5
            )
        )
    assert len(server.seen) == 2


def test_start_time_that_does_not_advance_is_a_loop(serve):
    # Zendesk returns end_time == start_time when more than a page shares one timestamp.
    server = serve(lambda seen: Reply(body={"users": [1], "end_time": 5, "end_of_stream": False}))
    with pytest.raises(PaginationLoopError):
        list(
            HttpClient("zendesk", server.url).paginate(
                "/u", StartTimePaginator(), params={"start_time": 5}, records="users", max_pages=5
            )
        )
    assert len(server.seen) == 1


def test_next_url_to_another_host_is_refused(serve):
    server = serve(lambda seen: Reply(body={"items": [1], "next_page": "http://evil.test/steal"}))
    with pytest.raises(SourceError, match="refusing"):
        list(
            HttpClient("zendesk", server.url).paginate(
                "/a", NextUrlPaginator("next_page"), records="items"
            )
        )


def test_records_path_missing_is_empty_but_a_non_list_is_an_error(serve):
    server = serve(lambda seen: Reply(body={"feed": {"entry": {"id": 1}}}))
    client = HttpClient("apple", server.url)
    pages = list(client.paginate("/f", PageNumberPaginator(max_page=1), records="feed.missing"))
    assert pages[0].records == [] and pages[0].token is None
    with pytest.raises(SourceError, match="expected a list"):
        list(client.paginate("/f", PageNumberPaginator(max_page=1), records="feed.entry"))
    as_list = lambda body: [body["feed"]["entry"]]  # noqa: E731 - a connector's own selector
    pages = list(client.paginate("/f", PageNumberPaginator(max_page=1), records=as_list))
    assert pages[0].records == [{"id": 1}]


def test_max_pages_stops_early_with_a_resumable_token(serve):
    _, pages = start_case(serve, "offset")
    got = pages(max_pages=1)
    assert len(got) == 1 and got[0].token == {
        "paginator": "OffsetPaginator",
        "params": {"offset": 3, "limit": 3},
    }


def test_dig_follows_dotted_paths():
    body = {"a": {"b": [{"c": 1}, {"c": 2}]}, "s": ""}
    assert dig(body, "a.b.1.c") == 2
    assert dig(body, "a.b.-1.c") == 2
    assert dig(body, "a.x.c") is None and dig(body, "a.b.9") is None
    assert dig(body, "") == body


def test_paginator_base_is_abstract():
    with pytest.raises(NotImplementedError):
        Paginator().next_request(None, [], {})  # type: ignore[arg-type]


def test_json_body_cursor_repeating_is_a_loop_and_goes_in_the_body(serve):
    server = serve(lambda seen: Reply(body={"data": [{"id": 1}], "next": "same"}))
    paginator = JsonBodyCursorPaginator("next", "page.after")
    pages = HttpClient("s", server.url).paginate(
        "/search", paginator, params={"q": 1}, records="data"
    )
    with pytest.raises(PaginationLoopError, match="same"):
        list(pages)
    assert [json.loads(s.body) for s in server.seen] == [
        {"q": 1},
        {"q": 1, "page": {"after": "same"}},
    ]


def test_with_value_copies_the_dicts_on_its_path():
    body = {"pagination": {"per_page": 2}, "query": {"a": 1}}
    changed = with_value(body, "pagination.starting_after", "c1")
    assert changed == {"pagination": {"per_page": 2, "starting_after": "c1"}, "query": {"a": 1}}
    assert body == {"pagination": {"per_page": 2}, "query": {"a": 1}}
    assert changed["query"] is body["query"]  # only the path is copied
    assert with_value({}, "a.b", 1) == {"a": {"b": 1}}


def test_single_page_asks_once(serve):
    server = serve(lambda seen: Reply(body={"items": [{"id": 1}], "next": "ignored"}))
    pages = list(HttpClient("s", server.url).paginate("/one", SinglePage(), records="items"))
    assert [p.records for p in pages] == [[{"id": 1}]] and pages[0].token is None
    assert len(server.seen) == 1
