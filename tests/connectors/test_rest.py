"""The REST connector base: option-filled paths and headers, the client class, endpoint choice,
and children handed on once per run, checked against a real local server."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from connectors.common.http.client import HttpClient
from connectors.common.http.errors import SourceError
from connectors.common.http.paginators import CursorPaginator, SinglePage
from connectors.common.rest import ChildEndpoint, Endpoint, RestConnector, RestOptions
from flows.runtime.config import SourceConfig
from tests.httpserver import Reply, Seen, servers


class ShopOptions(RestOptions):
    shop: str | None = None
    version: str = "7"


class CountingClient(HttpClient):
    """A client_class: counts the requests it sends."""

    sent = 0

    def send(self, method: str, path_or_url: str, **kw: Any) -> Any:
        CountingClient.sent += 1
        return super().send(method, path_or_url, **kw)


PARTS = ChildEndpoint(
    name="parts",
    path="orders/{order_id}",
    records="parts",
    paginator=SinglePage,
    parent_params=lambda order: {"order_id": order["id"]},
    dedupe_key=lambda part: part["id"],
)

ORDERS = Endpoint(
    name="orders",
    path="shops/{shop}/orders",
    records="orders",
    paginator=lambda: CursorPaginator("after", "next"),
    child=PARTS,
)


class ShopConnector(RestConnector):
    type = "shop"
    source_kind = "support"
    docs_url = ""
    Options = ShopOptions
    DEFAULT_BASE_URL = "https://{shop}.shop.example"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = (ORDERS,)
    HEADERS: ClassVar[dict[str, str]] = {"Shop-Version": "v{version}"}
    ENDPOINTS_HINT = "orders is all there is"
    client_class = CountingClient

    def parse_orders(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        return []


def shop(**extra: Any) -> ShopConnector:
    return ShopConnector(SourceConfig(name="shop", type="shop", **extra))


def test_base_url_headers_and_paths_are_filled_from_the_options():
    connector = shop(shop="a b/c", version="9")
    assert connector.base_url() == "https://a b/c.shop.example"  # not quoted: a host
    assert connector.headers() == {"Shop-Version": "v9"}
    (orders,) = connector.endpoints()
    assert orders.path == "shops/a%20b%2Fc/orders"  # one quoted path segment
    assert orders.child.path == "orders/{order_id}"  # filled per parent, later
    assert connector.filled("{shop}/{page}") == "a b/c/{page}"  # not an option: kept
    with pytest.raises(SourceError, match="no base_url"):
        shop().base_url()


def test_unknown_endpoints_name_the_known_ones_and_the_hint():
    with pytest.raises(SourceError, match=r"\['refunds'\].*\['orders'\] \(orders is all"):
        shop(endpoints=["refunds"]).endpoints()


def test_the_client_class_sends_the_headers_and_a_child_is_handed_on_once_per_run():
    def api(seen: Seen) -> Reply:
        assert seen.headers["Shop-Version"] == "v7"
        if seen.path == "/shops/s1/orders":
            if seen.q("after") is None:
                return Reply(body={"orders": [{"id": 1}, {"id": 2}], "next": "p2"})
            return Reply(body={"orders": [{"id": 1}]})  # order 1 again: updated meanwhile
        return Reply(body={"parts": [{"id": "shared"}, {"id": seen.path}]})

    CountingClient.sent = 0
    with servers() as start:
        server = start(api)
        connector = shop(shop="s1", base_url=server.url)
        items = [i for b in connector.fetch({}) for i in b.items]
    parts = [i["id"] for i in items if i["_endpoint"] == "parts"]
    assert parts == ["shared", "/orders/1", "/orders/2"]  # order 1's parts are not repeated
    assert CountingClient.sent == len(server.seen) == 5
