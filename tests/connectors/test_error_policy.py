"""The declared error policy, applied by the shared client against real local servers: each
action (retry, ignore, end of data, fail naming the fix), how rules match, and that an
endpoint's rules come before the default policy."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import pytest

from connectors.common.http.auth import BearerAuth
from connectors.common.http.client import HttpClient
from connectors.common.http.error_policy import (
    DEFAULT_POLICY,
    Action,
    ErrorRule,
    not_json,
    rule_for,
)
from connectors.common.http.errors import SourceAuthError, SourceError, SourceHTTPError
from connectors.common.http.paginators import (
    CursorPaginator,
    NextRequest,
    PageNumberPaginator,
    Paginator,
    SinglePage,
)
from connectors.common.rest import PARENT_GONE, ChildEndpoint, Endpoint, RestConnector
from flows.runtime.config import SourceConfig
from tests.httpserver import Reply, Seen, scripted, servers


@pytest.fixture
def serve():
    with servers() as start:
        yield start


def client_for(url: str, waits: list[float] | None = None, **kw: Any) -> HttpClient:
    """A client that records its waits instead of sleeping."""
    return HttpClient("shop", url, sleep=(waits if waits is not None else []).append, **kw)


def pages_of(numbered: dict[int, Reply]) -> Any:
    """A server answering /items?page=n with numbered[n], and an empty last page after them."""

    def answer(seen: Seen) -> Reply:
        return numbered.get(int(seen.q("page") or 1), Reply(body={"items": []}))

    return answer


def page(*ids: int) -> Reply:
    return Reply(body={"items": [{"id": i} for i in ids]})


class Numbered(Paginator):
    """Pages 1..last by number whatever they hold (as Apple's feed pages on past a hole)."""

    def __init__(self, last: int) -> None:
        super().__init__()
        self.last = last

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        return super().first_request({**params, "page": 1})

    def _next_request(
        self, response: Any, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        page = int(params["page"])
        return None if page >= self.last else {**params, "page": page + 1}


# -- RETRY --------------------------------------------------------------------------------------


def test_a_declared_retry_asks_again_and_honours_retry_after(serve):
    pending = {"status": "pending"}  # a 200 that says "not yet": retried like a 503
    server = serve(
        scripted(
            Reply(body=pending, headers={"Retry-After": "3"}),
            Reply(409, {"error": "conflict"}),
            Reply(body={"status": "done"}),
        )
    )
    rules = (
        ErrorRule(Action.RETRY, status={200}, body=pending, message="export not ready"),
        ErrorRule(Action.RETRY, status={409}),
    )
    waits: list[float] = []
    client = client_for(server.url, waits, backoff_base=0.5, backoff_max=0.5)
    assert client.request("GET", "/export", errors=rules).json() == {"status": "done"}
    assert waits[0] == 3.0 and 0 <= waits[1] <= 0.5 and len(server.seen) == 3
    with pytest.raises(SourceHTTPError, match="409 Conflict"):  # undeclared: fails at once
        client_for(serve(scripted(Reply(409, {}))).url).request("GET", "/export")


def test_a_declared_retry_gives_up_after_max_retries(serve):
    server = serve(scripted(Reply(body={"status": "pending"})))
    rule = ErrorRule(Action.RETRY, body={"status": "pending"})
    with pytest.raises(SourceHTTPError, match="failed after 3 attempts") as caught:
        client_for(server.url, max_retries=2).request("GET", "/export", errors=(rule,))
    assert caught.value.status == 200 and len(server.seen) == 3


# -- IGNORE -------------------------------------------------------------------------------------


def test_ignore_reads_a_page_without_records_and_paging_goes_on(serve, caplog):
    server = serve(pages_of({1: page(1, 2), 2: Reply(404, {"error": "hole"}), 3: page(5)}))
    hole = ErrorRule(Action.IGNORE, status={404}, message="a hole in the list; skipped")
    caplog.set_level(logging.WARNING, logger="chorus.http")
    paginator = Numbered(4)
    pages = list(
        client_for(server.url).paginate("/items", paginator, records="items", errors=[hole])
    )
    assert [[r["id"] for r in p.records] for p in pages] == [[1, 2], [], [5], []]
    assert [s.q("page") for s in server.seen] == ["1", "2", "3", "4"]
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "answered 404; a hole in the list; skipped" in warning and "page=2" in warning
    with pytest.raises(SourceHTTPError, match="404"):  # without the rule: the default fails
        list(client_for(server.url).paginate("/items", PageNumberPaginator(), records="items"))


def test_ignore_on_a_plain_request_returns_the_answer_as_it_is(serve):
    server = serve(scripted(Reply(404, {"error": "expired"})))
    gone = ErrorRule(Action.IGNORE, status={404})
    response, rule = client_for(server.url).send("GET", "/file", errors=(gone,))
    assert response.status_code == 404 and rule is gone
    assert client_for(server.url).request("GET", "/file", errors=(gone,)).status_code == 404


def test_ignore_a_body_that_is_not_json_instead_of_retrying_it(serve):
    html = Reply(body=b"<html>maintenance</html>")  # 200, not JSON: retried by default
    server = serve(pages_of({1: html, 2: page(3)}))
    rule = ErrorRule(Action.IGNORE, status=range(200, 400), when=not_json, message="not JSON")
    paginator = Numbered(2)
    pages = list(
        client_for(server.url).paginate("/items", paginator, records="items", errors=[rule])
    )
    assert [[r["id"] for r in p.records] for p in pages] == [[], [3]]
    assert len(server.seen) == 2  # not retried
    cut = serve(scripted(Reply(body='{"items": [1'), Reply(body={"items": [1]})))
    waits: list[float] = []
    assert client_for(cut.url, waits).get_json("/x") == {"items": [1]}  # cut-off JSON: retried
    assert len(waits) == 1


# -- END_OF_DATA --------------------------------------------------------------------------------


def test_end_of_data_is_the_last_page(serve, caplog):
    server = serve(pages_of({1: page(1, 2), 2: Reply(404, {"error": "no more"}), 3: page(9)}))
    end = ErrorRule(Action.END_OF_DATA, status={404}, message="the list ended")
    caplog.set_level(logging.INFO, logger="chorus.http")
    paginator = PageNumberPaginator("page", stop_on_short_page=False)
    pages = list(
        client_for(server.url).paginate("/items", paginator, records="items", errors=[end])
    )
    assert [[r["id"] for r in p.records] for p in pages] == [[1, 2], []]
    assert pages[-1].token is None and pages[0].token is not None
    assert len(server.seen) == 2  # page 3 is never asked for
    assert any(
        r.levelno == logging.INFO and "the list ended" in r.getMessage() for r in caplog.records
    )


def test_end_of_data_matched_on_an_error_body_of_a_200(serve):
    server = serve(
        scripted(
            Reply(body={"data": [1], "next": "c2"}),
            Reply(body={"ok": False, "error": "thread_not_found"}),
        )
    )
    end = ErrorRule(
        Action.END_OF_DATA, status={200}, body={"ok": False, "error": "thread_not_found"}
    )
    pages = list(
        client_for(server.url).paginate(
            "/replies", CursorPaginator("cursor", "next"), records="data", errors=[end]
        )
    )
    assert [p.records for p in pages] == [[1], []] and pages[-1].token is None


# -- FAIL ---------------------------------------------------------------------------------------


def test_fail_raises_the_declared_error_with_a_message_naming_the_fix(serve):
    body = {"ok": False, "error": "token_revoked", "needed": "chat:read"}
    server = serve(scripted(Reply(body=body)))
    revoked = ErrorRule(
        Action.FAIL,
        status={200},
        body={"ok": False, "error": {"token_revoked", "invalid_auth"}},
        message="{method} {path} answered {body[error]!r}; check {credential} "
        "(needs {body[needed]}, {body[absent]})",
        error=SourceAuthError,
        report_status=401,
    )
    client = client_for(server.url, auth=BearerAuth("t0k-SECRET"), credential="SHOP_TOKEN")
    with pytest.raises(SourceAuthError) as caught:
        client.request("GET", "/me", params={"token": "t0k-SECRET"}, errors=[revoked])
    err = caught.value
    assert str(err) == (
        "source 'shop': GET /me answered 'token_revoked'; check the credential 'SHOP_TOKEN' "
        "(needs chat:read, ?)"
    )
    assert err.status == 401 and err.credential == "SHOP_TOKEN" and len(server.seen) == 1


def test_fail_keeps_the_status_url_and_body_of_an_http_error(serve):
    server = serve(scripted(Reply(400, {"error": "unknown field 'colour'"})))
    bad_field = ErrorRule(
        Action.FAIL, status={400}, message="{status} {reason}: fix the `fields` option"
    )
    with pytest.raises(SourceHTTPError) as caught:
        client_for(server.url).request("GET", "/items", params={"f": "colour"}, errors=[bad_field])
    err = caught.value
    assert str(err) == "source 'shop': 400 Bad Request: fix the `fields` option"
    assert err.status == 400 and err.method == "GET" and err.url.endswith("/items?f=colour")
    assert "unknown field" in err.body_excerpt


def test_a_plain_source_error_for_what_is_configuration(serve):
    server = serve(scripted(Reply(200, {"ok": False, "error": "channel_not_found"})))
    rule = ErrorRule(
        Action.FAIL,
        body={"error": "channel_not_found"},
        message="check `channels`",
        error=SourceError,
    )
    with pytest.raises(SourceError, match="^source 'shop': check `channels`$") as caught:
        client_for(server.url).request("GET", "/history", errors=[rule])
    assert type(caught.value) is SourceError


# -- matching and order -------------------------------------------------------------------------


def test_endpoint_rules_come_before_the_default_policy(serve):
    server = serve(scripted(Reply(403, {"message": "Resource not accessible by integration"})))
    own = ErrorRule(
        Action.FAIL,
        status={403},
        message="the app is not installed on this repository; install it",
        error=SourceAuthError,
    )
    with pytest.raises(SourceAuthError, match="install it$"):
        client_for(server.url).request("GET", "/repos/a/b/issues", errors=[own])
    with pytest.raises(SourceAuthError, match="lacks the permission"):  # the default's text
        client_for(server.url).request("GET", "/repos/a/b/issues")


def test_how_rules_match(serve):
    answers = {
        "/zero": Reply(body={"ok": 0}),
        "/false": Reply(body={"ok": False, "meta": {"code": "E7"}}),
        "/list": Reply(body=[{"ok": False}]),
        "/html": Reply(500, b"<html>oops</html>"),
        "/empty": Reply(204),
    }
    server = serve(lambda seen: answers[seen.path])
    client = client_for(server.url)
    got = {
        path: client.request("GET", path, expect_json=False) for path in answers if path != "/html"
    }
    ok_false = ErrorRule(Action.IGNORE, body={"ok": False})
    coded = ErrorRule(Action.IGNORE, body={"meta.code": {"E7", "E8"}})
    assert not ok_false.matches(got["/zero"])  # False is not 0
    assert ok_false.matches(got["/false"]) and coded.matches(got["/false"])
    assert not ok_false.matches(got["/list"]) and not ok_false.matches(got["/empty"])
    assert not_json(got["/empty"]) and not not_json(got["/list"])
    assert rule_for(got["/false"]) is None  # a 200: the default policy lets it through
    assert rule_for(got["/false"], [coded]) is coded
    with pytest.raises(SourceHTTPError, match="500"):
        client_for(server.url, max_retries=0).request("GET", "/html")


def test_the_default_policy_says_what_it_does():
    statuses = {
        (rule.action, code)
        for rule in DEFAULT_POLICY
        for code in (429, 500, 502, 503, 504, 401, 403, 410, 404, 418)
        if code in rule.status
    }
    assert {(Action.RETRY, c) for c in (429, 500, 502, 503, 504)} <= statuses
    assert {(Action.FAIL, c) for c in (401, 403, 410, 404, 418)} <= statuses
    assert DEFAULT_POLICY[-1].action is Action.FAIL  # nothing >= 400 passes for data


# -- declared on endpoints ----------------------------------------------------------------------


class Shop(RestConnector):
    type = "shop"
    source_kind = "support"
    docs_url = ""
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = ()

    def parse_orders(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        return []


def shop_run(url: str, endpoint: Endpoint) -> list[dict[str, Any]]:
    class One(Shop):
        ENDPOINTS = (endpoint,)

    connector = One(
        SourceConfig(name="shop", type="shop", base_url=url), http={"sleep": lambda s: None}
    )
    return [i for b in connector.fetch({}) for i in b.items]


def orders(child: ChildEndpoint, **kw: Any) -> Endpoint:
    return Endpoint("orders", "orders", "orders", SinglePage, child=child, **kw)


def parts(**kw: Any) -> ChildEndpoint:
    return ChildEndpoint(
        "parts", "orders/{id}/parts", "parts", SinglePage, lambda o: {"id": o["id"]}, **kw
    )


def test_a_child_404_means_no_children_unless_the_endpoint_says_otherwise(serve):
    def api(seen: Seen) -> Reply:
        if seen.path == "/orders":
            return Reply(body={"orders": [{"id": 1}, {"id": 2}]})
        if seen.path == "/orders/1/parts":
            return Reply(404, {"error": "order deleted"})
        return Reply(body={"parts": [{"id": "p"}]})

    url = serve(api).url
    assert parts().errors == (PARENT_GONE,)
    items = shop_run(url, orders(parts()))
    assert [(i["_endpoint"], i["id"]) for i in items] == [
        ("orders", 1),
        ("orders", 2),
        ("parts", "p"),
    ]
    with pytest.raises(SourceHTTPError, match="404"):
        shop_run(url, orders(parts(errors=())))


def test_an_endpoint_declares_its_own_rules(serve):
    server = serve(scripted(Reply(403, {"error": "plan does not include orders"})))
    skipped = ErrorRule(Action.END_OF_DATA, status={403}, message="not in this plan: skipped")
    assert shop_run(server.url, orders(parts(), errors=(skipped,))) == []
    with pytest.raises(SourceAuthError):
        shop_run(server.url, orders(parts()))
