"""Apple sandbox: the customer-reviews RSS feed and the App Store Connect API, under one prefix.

Every Apple connector's base_url is the same, http://host:port/apple:
  RSS      {country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json
  Connect  v1/apps/{app_id}/customerReviews
           v1/apps/{app_id}/betaFeedbackScreenshotSubmissions, .../betaFeedbackCrashSubmissions
The feed is public; a bearer token, when sent, must be `proxy_token` (an authenticating proxy in
front of it). Connect requests need an ES256 JWT signed with the sandbox's key (kid = key_id,
iss = issuer_id, aud appstoreconnect-v1, at most 20 minutes), else Apple's 401 document.
The feed keeps its quirks: 10 pages at most (page 11 answers 400 in plain text), a lone entry as
an object, no `entry` key without reviews, the app's own entry first on page 1 of some
storefronts, rel="next"/"last" links to the XML feed, and holes (an empty 200 body) on demand.
Payload shapes live in connectors/apple/sandbox_shapes.py.
"""

from __future__ import annotations

import random
import re
from typing import Any, ClassVar
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization

from connectors.apple import sandbox_shapes as shape
from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

APP_ID = "1234567890"
RSS_PAGE = 50
RSS_MAX_PAGES = 10
CONNECT_MAX = 200
COLLECTIONS = ("rss", "reviews", "screenshots", "crashes", "builds", "testers")
TIMED = ("rss", "reviews", "screenshots", "crashes")
FEED_PATH = r"(?P<cc>[a-z]{2})/rss/customerreviews/page=(?P<page>\d+)/id=(?P<app>\d+)/sortby=mostrecent/json"


class AppleSandbox(VendorApp):
    """Reviews of one invented app in several storefronts, and its TestFlight feedback."""

    name = "apple"
    app_id = APP_ID
    default_credentials: ClassVar[dict[str, str]] = {
        "key_id": "SBX2K9QW7Z",
        "issuer_id": "5c1d6a4e-0b7f-4a39-9c2e-5a1d0e7b3f10",
        "private_key": shape.sandbox_key_pem(),
        "proxy_token": "apple-sandbox-proxy-token-4e7d1a",
    }

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        self.clock = fx.Clock()
        self.app_entry_countries = {"us"}  # storefronts whose page 1 starts with the app entry
        self.holes: set[tuple[str, int]] = set()  # (country, page) answering an empty 200 body
        super().__init__(data, **kw)
        for key in COLLECTIONS:
            self.store.setdefault(key, [])
        times = [r["_epoch"] for k in TIMED for r in self.store[k]]
        self.clock.now = max([self.clock.now, *times])
        pem = self.credentials["private_key"].encode()
        self.public_key = serialization.load_pem_private_key(pem, None).public_key()

    # -- fixture data and the mutations tests make between runs ---------------------------

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        rng = random.Random(seed)
        self.store = {k: [] for k in COLLECTIONS}
        for country, count in (("us", 25), ("gb", 4), ("ca", 1)):  # "de": no reviews at all
            for _ in range(count):
                version = rng.choice(("3.1.0", "3.2.0"))
                self.add_rss_review(country, rng.randint(1, 5), version, rng)
        for _ in range(7):
            self.add_review(rng.randint(1, 5), rng.choice(("USA", "GBR", "DEU")), rng)
        for n, version in enumerate(("41", "42")):
            self.store["builds"].append(shape.build(f"b{n + 1}-4f2e-sbx", version, self.clock.now))
        for n in range(3):
            who = fx.person(rng, n)
            first, last = who["name"].split()
            email = who["email"] if n else "qa.lead@chorus.example"  # a colleague
            self.store["testers"].append(shape.tester(f"t{n + 1}-9a0c-sbx", first, last, email))
        for n in range(4):
            self.add_feedback("screenshots", rng.choice(fx.BODIES), rng, build=n % 2, tester=n % 3)
        for n in range(3):
            comment = "" if n == 1 else "It closed when I tapped share."
            self.add_feedback("crashes", comment, rng, tester=n)
        return self.store

    def _add(self, key: str, record: dict[str, Any], now: int, **private: Any) -> dict[str, Any]:
        record.update(_epoch=now, **private)
        self.store[key].append(record)
        return record

    def add_rss_review(
        self, country: str, rating: int, version: str = "3.2.0", rng: random.Random | None = None
    ) -> dict[str, Any]:
        """A new review in a storefront's feed (it becomes the newest)."""
        rng = rng or random.Random(len(self.store["rss"]))
        with self.lock:
            now, n = self.clock.tick(), len(self.store["rss"])
            entry = shape.rss_entry(country, self.app_id, n, now, rating, version, rng)
            return self._add("rss", entry, now, _country=country)

    def add_review(
        self,
        rating: int,
        territory: str = "USA",
        rng: random.Random | None = None,
        at: int | None = None,
    ) -> dict[str, Any]:
        """A new App Store Connect customer review (at a given epoch second, else the next tick)."""
        rng = rng or random.Random(len(self.store["reviews"]))
        with self.lock:
            now, n = at or self.clock.tick(), len(self.store["reviews"])
            return self._add("reviews", shape.customer_review(n, now, rating, territory, rng), now)

    def add_feedback(
        self,
        kind: str,
        comment: str,
        rng: random.Random | None = None,
        build: int = 1,
        tester: int = 0,
    ) -> dict[str, Any]:
        """A new TestFlight submission; kind is "screenshots" or "crashes"."""
        rng = rng or random.Random(len(self.store[kind]))
        with self.lock:
            now, n = self.clock.tick(), len(self.store[kind])
            who = self.store["testers"][tester]
            build_id = self.store["builds"][build]["id"]
            email = who["attributes"]["email"]
            item = shape.feedback(kind, n, now, comment, email, build_id, who["id"], rng)
            return self._add(kind, item, now)

    # -- HTTP -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        if not request.path.startswith("v1/"):
            proxy = f"Bearer {self.credentials['proxy_token']}"
            return None if header in ("", proxy) else Response(401, "401 Unauthorized (proxy)")
        if header.startswith("Bearer ") and self._token_ok(header.removeprefix("Bearer ")):
            return None
        return Response(401, {"errors": [shape.NOT_AUTHORIZED]})

    def _token_ok(self, token: str) -> bool:
        try:
            head = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=["ES256"],
                audience="appstoreconnect-v1",
                options={"require": ["exp", "iat", "aud"]},
            )
        except jwt.PyJWTError:
            return False
        return (
            head.get("kid") == self.credentials["key_id"]
            and claims.get("iss") == self.credentials["issuer_id"]
            and claims["exp"] - claims["iat"] <= 20 * 60
        )

    def error(self, status: int, message: str) -> Response:
        if status == 503:
            return Response(503, "Service Unavailable")
        codes = {400: "PARAMETER_ERROR.INVALID", 404: "NOT_FOUND", 429: "RATE_LIMIT_EXCEEDED"}
        code = codes.get(status, "UNEXPECTED_ERROR")
        error = {"id": f"sbx-{status}", "status": str(status), "code": code, "title": message}
        return Response(status, {"errors": [{**error, "detail": message}]})

    @route("GET", FEED_PATH)
    def rss_feed(self, request: Request, match: re.Match[str]) -> Response:
        """One page of a storefront's newest-first review feed."""
        cc, page, app = match["cc"], int(match["page"]), match["app"]
        if page < 1 or page > RSS_MAX_PAGES:
            return Response(400, "CustomerReviews RSS page depth is limited to 10")
        if (cc, page) in self.holes:
            return Response(200, "")
        size = self.page_size(request, "_no_such_param", RSS_PAGE, RSS_PAGE)
        rows = [r for r in self.store["rss"] if r["_country"] == cc and app == self.app_id]
        rows.sort(key=lambda r: (r["_epoch"], r["id"]["label"]), reverse=True)
        rows = rows[: size * RSS_MAX_PAGES]
        entries = [fx.public(r) for r in rows[(page - 1) * size : page * size]]
        if page == 1 and cc in self.app_entry_countries and rows:
            entries.insert(0, shape.app_entry(cc, self.app_id))
        last = max(1, -(-len(rows) // size))
        return Response(body=shape.feed_page(cc, app, page, last, entries, self.clock.now))

    def _jsonapi_page(
        self, request: Request, path: str, rows: list[dict[str, Any]], include: bool = False
    ) -> Response:
        """One page of a JSON:API list sorted by createdDate, with a cursor in links.next."""
        size = self.page_size(request, "limit", 50, CONNECT_MAX)
        sort = request.q("sort", "-createdDate")
        if sort not in ("createdDate", "-createdDate"):
            raise BadRequest(f"'{sort}' is not a valid sort field for this request")
        newest, total = sort.startswith("-"), len(rows)
        rows = sorted(rows, key=_position, reverse=newest)
        if cursor := request.q("cursor"):
            try:
                after = tuple(fx.decode_cursor(cursor))
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
            rows = [r for r in rows if (_position(r) < after if newest else _position(r) > after)]
        page, more = rows[:size], len(rows) > size
        url = f"{request.base_url}/{path}"
        links: dict[str, Any] = {"self": f"{url}?{urlencode(request.query)}"}
        if more:
            query = {k: v for k, v in request.query.items() if k != "cursor"}
            mark = fx.encode_cursor(list(_position(page[-1])))
            links["next"] = f"{url}?{urlencode({**query, 'cursor': mark})}"
        data = [
            {**fx.public(r), "links": {"self": f"{request.base_url}/v1/{r['type']}/{r['id']}"}}
            for r in page
        ]
        meta = {"paging": {"total": total, "limit": size}}
        body: dict[str, Any] = {"data": data, "links": links, "meta": meta}
        if include:
            wanted = {
                (v["data"]["type"], v["data"]["id"])
                for r in page
                for v in r["relationships"].values()
            }
            related = self.store["builds"] + self.store["testers"]
            body["included"] = [x for x in related if (x["type"], x["id"]) in wanted]
        return Response(body=body)

    def _no_app(self, app_id: str) -> Response:
        return self.error(404, f"There is no resource of type 'apps' with id '{app_id}'")

    @route("GET", r"v1/apps/(?P<app>[^/]+)/customerReviews")
    def customer_reviews(self, request: Request, match: re.Match[str]) -> Response:
        """The app's customer reviews."""
        if match["app"] != self.app_id:
            return self._no_app(match["app"])
        return self._jsonapi_page(request, match.group(0), self.store["reviews"])

    @route("GET", r"v1/apps/(?P<app>[^/]+)/(?P<kind>betaFeedback(?:Screenshot|Crash)Submissions)")
    def beta_feedback(self, request: Request, match: re.Match[str]) -> Response:
        """The app's TestFlight screenshot or crash submissions, with builds and testers included."""
        if match["app"] != self.app_id:
            return self._no_app(match["app"])
        include = set((request.q("include") or "").split(",")) - {""}
        if include - {"build", "tester"}:
            raise BadRequest(f"include {sorted(include)}: allowed values are build, tester")
        kind = next(k for k, t in shape.FEEDBACK_TYPES.items() if t == match["kind"])
        return self._jsonapi_page(request, match.group(0), self.store[kind], include=bool(include))


def _position(record: dict[str, Any]) -> tuple[int, str]:
    """A record's place in createdDate order (ties broken by id)."""
    return record["_epoch"], record["id"]
