"""Google Play reviews (Developer API reviews.list): star ratings with text, and developer replies.

Traps handled:
- reviews.list returns only reviews created or modified in the last 7 days, newest first, and
  has no time filter: every run lists that week and keeps what is newer than the cursor (the
  latest comment `lastModified` seen, plus the review ids at it). A run that starts with a
  cursor older than 7 days may have lost reviews for good: it logs a WARNING naming the source
  and the gap, and records the gap in state["gaps"] (so does a first run whose start_date lies
  beyond the week; start_date does nothing else, the API holding only that week). The cursor
  also records when a run looked if the newest review is older than a day, so a quiet app does
  not raise false alarms.
- An edited review comes back with a later `lastModified` under the same reviewId: its row keeps
  source_id = reviewId, so the new version replaces the old one downstream.
- A developer reply moves the review too; the reply is its own internal row ("{reviewId}:reply").
- `userComment.text` is "title<TAB>body" when the user gave a title.
- The API has no creation time: created_at is the user comment's lastModified.
Left out: reviews without text (the API never returns them), deviceMetadata, thumbs counts.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote, urljoin, urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import Field

from connectors.common.base import FetchedBatch, ParseError, normalised_rating
from connectors.common.http.auth import AuthStrategy, GoogleServiceAccountAuth
from connectors.common.http.client import Page
from connectors.common.http.errors import SourceAuthError
from connectors.common.http.paginators import CursorPaginator
from connectors.common.incremental import Incremental
from connectors.common.rest import Endpoint, RestConnector, RestOptions, required
from connectors.common.text import text_or_none

API_DOCS = "https://developers.google.com/android-publisher"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
WINDOW_S = 7 * 24 * 3600  # reviews.list only returns reviews created or modified this recently
MAX_GAPS = 20  # gaps kept in state, newest last
QUIET_S = 24 * 3600  # newest review older than this: the cursor also records when we looked
log = logging.getLogger("chorus.connectors.google_play")

Stamp = tuple[int, int]  # (seconds, nanos) of a protobuf Timestamp


def timestamp_of(value: Any, what: str) -> Stamp:
    """(seconds, nanos) of a Timestamp object {"seconds": "1452162140", "nanos": 123}."""
    if not isinstance(value, dict) or value.get("seconds") in (None, ""):
        raise ParseError(f"{what} is missing")
    try:
        return int(value["seconds"]), int(value.get("nanos") or 0)
    except (TypeError, ValueError):
        raise ParseError(f"{what} {value!r} is not a Timestamp") from None


def datetime_of(stamp: Stamp) -> datetime:
    """A UTC datetime (microseconds) of a (seconds, nanos) pair."""
    return datetime.fromtimestamp(stamp[0] + stamp[1] // 1000 / 1e6, tz=UTC)


def last_activity(review: Any) -> Stamp | None:
    """The latest lastModified over a review's comments (user edit or developer reply), or None."""
    comments = review.get("comments") if isinstance(review, dict) else None
    stamps = []
    for comment in comments if isinstance(comments, list) else []:
        for part in comment.values() if isinstance(comment, dict) else []:
            try:
                stamps.append(timestamp_of(part.get("lastModified"), "lastModified"))
            except (ParseError, AttributeError):
                continue
    return max(stamps) if stamps else None


@dataclass(frozen=True)
class LatestActivity(Incremental):
    """Cursor: the latest comment lastModified seen and the review ids at it (no server filter).

    When that is over a day older than this run's start (`checked_at`), the cursor also keeps
    "checked": the run's start, so a quiet app (no new review for a week) is not mistaken for
    one whose reviews slipped out of the 7-day window.
    """

    checked_at: float | None = None

    def advance(self, cursor: Any, page: Page) -> Any:
        best = (cursor["seconds"], cursor["nanos"]) if cursor else None
        ids = set(cursor["ids"]) if cursor else set()
        for review in page.records:
            stamp = last_activity(review)
            if stamp is None:
                continue
            if best is None or stamp > best:
                best, ids = stamp, {review.get("reviewId")}
            elif stamp == best:
                ids.add(review.get("reviewId"))
        if best is None and self.checked_at is None:
            return cursor
        seconds, nanos = best or (0, 0)
        out = {"seconds": seconds, "nanos": nanos, "ids": sorted(ids, key=str)}
        if self.checked_at is not None and self.checked_at - seconds > QUIET_S:
            out["checked"] = int(self.checked_at)
        return out

    def is_new(self, cursor: Any, record: dict[str, Any]) -> bool:
        stamp = last_activity(record)
        if not cursor or stamp is None:  # unreadable: deliver it, parsing quarantines it
            return True
        mark = (cursor["seconds"], cursor["nanos"])
        return stamp > mark or (stamp == mark and record.get("reviewId") not in cursor["ids"])


REVIEWS = Endpoint(
    name="reviews",
    path="androidpublisher/v3/applications/{packageName}/reviews",
    records="reviews",
    paginator=lambda: CursorPaginator("token", "tokenPagination.nextPageToken"),
    page_size_param="maxResults",
    incremental=LatestActivity(),
    dedupe_key=lambda review: (review.get("reviewId"), last_activity(review)),
    docs_url=f"{API_DOCS}/api-ref/rest/v3/reviews/list",
)


class GooglePlayOptions(RestOptions):
    """Google Play keys: the app's package name, an optional translation language."""

    package_name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
    translation_language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}([_-][A-Za-z]+)?$")
    developer_replies: bool = True  # emit developer replies as internal rows


class GooglePlayConnector(RestConnector):
    type = "google_play"
    source_kind = "review"
    docs_url = f"{API_DOCS}/reply-to-reviews"
    description = "Google Play reviews of one app (last 7 days per run) and developer replies"
    Options = GooglePlayOptions
    DEFAULT_BASE_URL = "https://androidpublisher.googleapis.com"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = (REVIEWS,)

    def configure_endpoint(self, ep: Endpoint) -> Endpoint:
        """The reviews endpoint bound to this app (and translation language) and this run."""
        params = {"packageName": self.options.package_name}
        if self.options.translation_language:
            params["translationLanguage"] = self.options.translation_language
        incremental = LatestActivity(checked_at=self._run_started)
        return replace(ep, params={**ep.params, **params}, incremental=incremental)

    def auth(self) -> tuple[AuthStrategy, str]:
        """A service-account key (JSON) exchanged for an androidpublisher-scoped access token."""
        name = self.credential_name("service_account")
        try:
            info = json.loads(self.secret("service_account"))
            if not isinstance(info, dict):
                raise ValueError("it is not a JSON object")
            token_uri = info.get("token_uri")
            if token_uri and not urlsplit(token_uri).scheme:  # sandbox keys point at base_url
                info = {**info, "token_uri": urljoin(self.base_url() + "/", token_uri)}
            strategy = GoogleServiceAccountAuth(
                info, [SCOPE], credential_name=name, timeout=self.options.timeout_s
            )
            load_pem_private_key(str(info.get("private_key") or "").encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SourceAuthError(
                f"source {self.name!r}: {name} is not a Google service-account JSON key "
                f"({type(exc).__name__}: {exc}); give the key file's full JSON content",
                source=self.name,
                status=401,
                credential=name,
            ) from None
        return strategy, name

    # -- the 7-day window ---------------------------------------------------------------------

    def now(self) -> float:
        """Wall-clock epoch seconds (tests inject `wall_clock` through the http options)."""
        return float(self._http.get("wall_clock", time.time)())

    _run_started: float | None = None

    def fetch(self, state: dict[str, Any]) -> Iterator[FetchedBatch]:
        """Reviews newer than the cursor; first warns about (and records) any gap in coverage."""
        state = json.loads(json.dumps(state or {}))
        es = state.get("endpoints", {}).get(REVIEWS.name, {})
        run = es.get("run")
        if run is None:  # a fresh run, not the resumption of an interrupted one
            self._run_started = self.now()
            gap = self.coverage_gap(es.get("cursor"))
            if gap is not None:
                state["gaps"] = [*state.get("gaps", []), gap][-MAX_GAPS:]
        else:  # resumed: the interrupted run's start, if it recorded one
            self._run_started = (run.get("cursor") or {}).get("checked") or self.now()
        yield from super().fetch(state)

    def coverage_gap(self, cursor: Any) -> dict[str, Any] | None:
        """The stretch reviews.list can no longer return, logged as a WARNING; None when covered."""
        now = self.now()
        window_start = now - WINDOW_S
        if cursor:
            since = float(max(cursor["seconds"], cursor.get("checked", 0)))
            why = "the previous run read reviews up to"
        elif self.options.start_date is not None and self.start_epoch() < window_start:
            since, why = float(self.start_epoch()), "start_date asks for reviews from"
        else:
            return None
        if since >= window_start:
            return None
        gap = {
            "endpoint": REVIEWS.name,
            "from": _iso(since),
            "to": _iso(window_start),
            "detected_at": _iso(now),
        }
        log.warning(
            "source %r: %s %s, %.1f days ago, but Google Play's reviews.list only returns "
            "reviews created or modified in the last 7 days: reviews changed between %s and %s "
            "may be missing (run this source at least weekly)",
            self.name,
            why,
            gap["from"],
            (now - since) / 86400,
            gap["from"],
            gap["to"],
            extra={"source": self.name, "gap": gap},
        )
        return gap

    # -- parsing ------------------------------------------------------------------------------

    def review_url(self, review_id: str) -> str:
        """The review's public link on the Play Store."""
        package = quote(self.options.package_name)
        return (
            f"https://play.google.com/store/apps/details?id={package}&reviewId={quote(review_id)}"
        )

    def parse_reviews(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A review: its user comment (rating 1-5) and, when present, the developer's reply."""
        rid = str(required(item, "reviewId", "review"))
        what = f"review {rid}"
        comments = item.get("comments")
        if not isinstance(comments, list):
            raise ParseError(f"{what}: comments is missing")
        parts = [c for c in comments if isinstance(c, dict)]
        user = next((c["userComment"] for c in parts if c.get("userComment")), None)
        if not isinstance(user, dict):
            raise ParseError(f"{what}: no userComment")
        modified = datetime_of(timestamp_of(user.get("lastModified"), f"{what}: lastModified"))
        title, text = _title_and_body(user.get("text"), what)
        rating, raw = normalised_rating(user.get("starRating"), (1, 5))
        tags = [
            f"{key}:{user[field]}"
            for key, field in (
                ("language", "reviewerLanguage"),
                ("device", "device"),
                ("android_sdk", "androidOsVersion"),
            )
            if user.get(field) not in (None, "")
        ]
        if user.get("originalText"):
            tags.append("translated")
        version = user.get("appVersionName") or user.get("appVersionCode")
        url = self.review_url(rid)
        rows = [
            self.row(
                source_id=rid,
                thread_id=rid,
                customer_id=text_or_none(item.get("authorName")),
                created_at=modified,
                updated_at=modified,
                title=title,
                text=text,
                rating=rating,
                rating_raw=raw,
                rating_scale="1-5" if raw is not None else None,
                tags=tags,
                url=url,
                app_version=text_or_none(version),
            )
        ]
        reply = next((c["developerComment"] for c in parts if c.get("developerComment")), None)
        if isinstance(reply, dict) and self.options.developer_replies:
            stamp = timestamp_of(reply.get("lastModified"), f"{what}: developer reply lastModified")
            reply_text = reply.get("text")
            if not isinstance(reply_text, str):
                raise ParseError(f"{what}: developer reply has no text")
            rows.append(
                self.row(
                    source_id=f"{rid}:reply",
                    thread_id=rid,
                    created_at=datetime_of(stamp),
                    text=reply_text,
                    tags=["developer_reply"],
                    url=url,
                    is_internal=True,
                )
            )
        return rows


def _title_and_body(raw: Any, what: str) -> tuple[str | None, str]:
    """Split "title<TAB>body" (how the API joins a titled review); plain text has no title."""
    if raw is None:
        return None, ""
    if not isinstance(raw, str):
        raise ParseError(f"{what}: text is {type(raw).__name__}, not text")
    title, tab, body = raw.partition("\t")
    return (title.strip() or None, body) if tab else (None, raw)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
