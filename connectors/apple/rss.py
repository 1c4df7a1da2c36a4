"""App Store customer reviews from the public RSS JSON feed, one newest-first stream per country.

GET {base}/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json: `feed.entry`
holds up to 50 reviews per page, each field wrapped as {"label": ...}. Apple never documented
this legacy iTunes feed; its shape here follows the payloads public clients parse.

Traps handled:
- Page depth: only pages 1-10 (about 500 reviews per country) exist; page 11 answers an error.
  We never ask beyond page 10 or the feed's rel="last" page. When a country's cursor is older
  than everything the 10 pages still show, reviews in between are out of reach: we log a
  warning naming the country (a gap may have opened; run more often).
- Error answers: a 400/404 or a non-JSON/empty body is read as a page without reviews (Apple
  answers so for pages it will not serve), never as a crash; a broken page before the last one
  (a hole) is skipped and paging goes on (FEED_ERRORS, the endpoint's error policy).
- A lone review arrives as an object, not a list; no reviews means no `entry` key; page 1 of
  some storefronts starts with the app's own entry (im:name, no im:rating): it is dropped.
- rel="next"/"last" links point at the XML feed (…/xml?urlDesc=…): we page by number instead.
- Incremental: the cursor per country is the newest `updated` seen plus the ids at it; paging
  stops at the first page reaching it, and no review is delivered twice.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, ClassVar

import requests
from pydantic import Field, StringConstraints

from connectors.apple.paging import NewestFirst, NewestFirstConnector
from connectors.common.base import ParseError, normalised_rating, parse_timestamp
from connectors.common.http.auth import AuthStrategy, BearerAuth
from connectors.common.http.error_policy import Action, ErrorRule, not_json
from connectors.common.http.paginators import NextRequest, PageNumberPaginator
from connectors.common.rest import Endpoint, RestOptions

RSS_DOCS = "https://developer.apple.com/app-store/ratings-and-reviews/"
MAX_PAGES = 10  # Apple's page depth limit for customer-review feeds
FEED_ERRORS = (
    ErrorRule(  # what the feed answers for pages (or storefronts) it will not serve
        Action.IGNORE, status={400, 404}, message="read as a page without reviews"
    ),
    ErrorRule(  # an HTML error page or an empty body (a cut-off JSON one is retried)
        Action.IGNORE,
        status=range(200, 400),
        when=not_json,
        message="a body that is not JSON; read as a page without reviews",
    ),
)
_LAST_PAGE = re.compile(r"/page=(\d+)/")
_REVIEWER_ID = re.compile(r"/id(\d+)")

log = logging.getLogger("chorus.connectors.apple")

REVIEW_CURSOR = NewestFirst(time_field="updated.label", id_field="id.label")

Country = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


class AppStoreRssOptions(RestOptions):
    """The app's numeric App Store id and the storefronts (ISO 3166 alpha-2, lower case) to read."""

    app_id: str = Field(pattern=r"^\d+$")
    countries: list[Country] = Field(default=["us"], min_length=1)


def label(item: Any, key: str) -> str | None:
    """The text of an RSS field ({"label": ...}); None when absent."""
    value = item.get(key) if isinstance(item, dict) else None
    if isinstance(value, dict):
        value = value.get("label")
    return None if value is None or value == "" else str(value)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def feed_entries(body: Any) -> list[dict[str, Any]]:
    """The review entries of a feed page: a lone entry is an object, none is no key; no app entry."""
    feed = body.get("feed") if isinstance(body, dict) else None
    entries = feed.get("entry") if isinstance(feed, dict) else None
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        return []
    return [
        e for e in entries if isinstance(e, dict) and not ("im:name" in e and "im:rating" not in e)
    ]


def last_page(body: Any) -> int | None:
    """The page number of the feed's rel="last" link, if it has one."""
    feed = body.get("feed") if isinstance(body, dict) else None
    links = feed.get("link") if isinstance(feed, dict) else None
    for link in [links] if isinstance(links, dict) else links or []:
        attrs = link.get("attributes") if isinstance(link, dict) else None
        if isinstance(attrs, dict) and attrs.get("rel") == "last":
            found = _LAST_PAGE.search(str(attrs.get("href") or ""))
            return int(found.group(1)) if found else None
    return None


class FeedPagePaginator(PageNumberPaginator):
    """Pages 1..10 in the path, up to the rel="last" page; a broken page before it is skipped."""

    def __init__(self) -> None:
        super().__init__("page", max_page=MAX_PAGES, stop_on_short_page=False)
        self.last: int | None = None

    def first_request(self, params: dict[str, Any]) -> dict[str, Any]:
        self.last = None
        return super().first_request(params)

    def _next_request(
        self, response: requests.Response, records: list[Any], params: dict[str, Any]
    ) -> NextRequest:
        page = int(params[self.page_param])
        self.last = last_page(_json_or_none(response)) or self.last
        if page >= min(MAX_PAGES, self.last or MAX_PAGES):
            return None
        if not records and self.last is None:
            return None
        if records:
            self._check_not_repeated(response, f"page {page}")
        return {**params, self.page_param: page + 1}

    def token(self) -> dict[str, Any] | None:
        token = super().token()
        if token is not None and self.last is not None:
            token["last"] = self.last
        return token

    def resume(self, token: dict[str, Any]) -> NextRequest:
        nxt = super().resume(token)
        self.last = token.get("last")
        return nxt


class AppStoreRssConnector(NewestFirstConnector):
    type = "app_store_rss"
    source_kind = "review"
    docs_url = RSS_DOCS
    description = "App Store customer reviews from the public RSS feed, per country"
    Options = AppStoreRssOptions
    DEFAULT_BASE_URL = "https://itunes.apple.com"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = ()  # one per configured country
    ENDPOINTS_HINT = "choose storefronts with `countries`"

    def declared_endpoints(self) -> list[Endpoint]:
        """One newest-first review stream per country; its state key is customer_reviews:<cc>."""
        return [
            Endpoint(
                name=f"customer_reviews:{country}",
                path=f"{country}/rss/customerreviews/page={{page}}/id={{app_id}}/sortby=mostrecent/json",
                records=feed_entries,
                paginator=FeedPagePaginator,
                incremental=REVIEW_CURSOR,
                dedupe_key=lambda e: (label(e, "id"), label(e, "updated")),
                errors=FEED_ERRORS,
                docs_url=RSS_DOCS,
            )
            for country in dict.fromkeys(self.options.countries)
        ]

    def auth(self) -> tuple[AuthStrategy | None, str | None]:
        """None: the feed is public; credentials.proxy_token is sent when an authenticating proxy fronts it."""
        if "proxy_token" not in self.source.credentials:
            return None, None
        name = self.credential_name("proxy_token")
        return BearerAuth(self.secret("proxy_token"), credential_name=name), name

    def exhausted(
        self, endpoint: Endpoint, committed: Any, params: dict[str, Any], response: Any
    ) -> None:
        """At the page-depth limit without reaching the cursor, older reviews are out of reach."""
        if int(params.get("page") or 0) < MAX_PAGES:
            return
        country = endpoint.name.partition(":")[2]
        if committed:
            seen = parse_timestamp(committed["value"]).isoformat()
            log.warning(
                "source %r: country %s: the feed stops at page %d and every review it still "
                "shows is newer than the last one read before (%s): reviews in between are out "
                "of reach (a gap may have opened); schedule this source more often",
                *(self.name, country, MAX_PAGES, seen),
            )
        else:
            log.info(
                "source %r: country %s: the feed shows only its newest %d pages of reviews",
                *(self.name, country, MAX_PAGES),
            )

    def parse(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        endpoint = str(item.get("_endpoint"))
        prefix, _, country = endpoint.partition(":")
        if prefix != "customer_reviews" or not country:
            raise ParseError(
                f"item has _endpoint {endpoint!r}; expected customer_reviews:<country>"
            )
        return self.parse_customer_review(item, country)

    def parse_customer_review(self, item: dict[str, Any], country: str) -> list[dict[str, Any]]:
        """A review: 1-5 stars, title, text, the app version reviewed, the reviewer."""
        rid = label(item, "id")
        if rid is None:
            raise ParseError(f"review in {country}: id.label is missing")
        what = f"review {rid} ({country})"
        stars = label(item, "im:rating")
        if stars is None:
            raise ParseError(f"{what}: im:rating is missing (not a review entry)")
        try:
            rating, raw = normalised_rating(stars, (1, 5))
        except ParseError as exc:
            raise ParseError(f"{what}: {exc}") from None
        updated = parse_timestamp(label(item, "updated"), what=f"{what}: updated")
        author = item.get("author") if isinstance(item.get("author"), dict) else {}
        profile = _REVIEWER_ID.search(label(author, "uri") or "")
        content = label(item, "content")
        return [
            self.row(
                source_id=rid,
                customer_id=profile.group(1) if profile else label(author, "name"),
                created_at=updated,  # the feed only carries `updated` (edits move it)
                updated_at=updated,
                title=label(item, "title"),
                text=content or "",
                rating=rating,
                rating_raw=raw,
                rating_scale="1-5",
                tags=[f"country:{country}"],
                url=_link(item.get("link")),
                app_version=label(item, "im:version"),
            )
        ]


def _link(link: Any) -> str | None:
    """The entry's review link (its rel="related" href, else the first href)."""
    links = [link] if isinstance(link, dict) else link if isinstance(link, list) else []
    hrefs = [
        (attrs.get("rel"), attrs.get("href"))
        for attrs in (x.get("attributes") for x in links if isinstance(x, dict))
        if isinstance(attrs, dict) and attrs.get("href")
    ]
    return next((h for rel, h in hrefs if rel == "related"), hrefs[0][1] if hrefs else None)
