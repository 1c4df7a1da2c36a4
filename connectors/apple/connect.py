"""App Store Connect API: customer reviews and TestFlight beta feedback, newest first (JSON:API).

Auth is an ES256 JWT (AppStoreConnectJWT) from credentials.key_id, credentials.private_key (the
.p8 file's PEM) and, for team keys, credentials.issuer_id. Lists page through `links.next`
(`limit` up to 200) and cannot be filtered by date: we sort by -createdDate and stop paging at
the first page that reaches the committed cursor (NewestFirst).

Left out: developer responses to reviews (`include=response`), crash logs (`crashLog`), and
screenshot images (their URLs expire). Reviews carry no app version in this API (only the
per-version endpoint knows it); TestFlight rows take app_version from the build's `version`,
which is the build number (CFBundleVersion), not the marketing version.
"""

from __future__ import annotations

from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import Field

from connectors.apple.paging import NewestFirst, NewestFirstConnector
from connectors.common.base import ParseError, normalised_rating, parse_timestamp
from connectors.common.http.auth import AppStoreConnectJWT, AuthStrategy
from connectors.common.http.errors import SourceAuthError
from connectors.common.http.paginators import NextUrlPaginator
from connectors.common.rest import Endpoint, RestOptions, required
from connectors.common.text import text_or_none

ASC_DOCS = "https://developer.apple.com/documentation/appstoreconnectapi"
MAX_LIMIT = 200
CREDENTIAL_KEYS = ("key_id", "issuer_id", "private_key")
CREATED = NewestFirst(time_field="attributes.createdDate", id_field="id")


def _next_link() -> NextUrlPaginator:
    return NextUrlPaginator("links.next")


class AppStoreConnectOptions(RestOptions):
    """The app's Apple id (numeric, as in App Store Connect's app URL)."""

    app_id: str = Field(pattern=r"^\d+$")


class TestFlightOptions(AppStoreConnectOptions):
    """Adds which tester email domains are colleagues (their feedback is marked internal)."""

    __test__ = False  # not a pytest class, despite its name

    internal_email_domains: list[str] = Field(default_factory=list)


def with_included(body: Any) -> Any:
    """`data` with each submission's included build and tester attached as _build and _tester."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return body.get("data") if isinstance(body, dict) else None  # the client says what is wrong
    included = {
        (r.get("type"), r.get("id")): r for r in body.get("included") or [] if isinstance(r, dict)
    }

    def linked(record: dict[str, Any], name: str) -> dict[str, Any] | None:
        data = ((record.get("relationships") or {}).get(name) or {}).get("data")
        return included.get((data.get("type"), data.get("id"))) if isinstance(data, dict) else None

    return [
        {**r, "_build": linked(r, "build"), "_tester": linked(r, "tester")}
        for r in body["data"]
        if isinstance(r, dict)
    ]


class AppStoreConnectConnector(NewestFirstConnector):
    """Shared by the App Store Connect connectors: JWT auth and the app id in every path."""

    DEFAULT_BASE_URL = "https://api.appstoreconnect.apple.com"
    Options = AppStoreConnectOptions

    def auth(self) -> tuple[AuthStrategy, str]:
        """An ES256 JWT signed with the API key; a 401 names every key credential configured."""
        team_key = "issuer_id" in self.source.credentials  # individual keys have no issuer
        keys = [k for k in CREDENTIAL_KEYS if k != "issuer_id" or team_key]
        name = ", ".join(self.credential_name(k) for k in keys)
        key_id = self.secret("key_id")
        issuer = self.secret("issuer_id") if team_key else None
        pem = self.private_key_pem()
        return AppStoreConnectJWT(key_id, issuer, pem, credential_name=name), name

    def private_key_pem(self) -> str:
        """credentials.private_key as PEM (escaped newlines restored); checked to be an EC key."""
        pem = self.secret("private_key").strip().replace("\\n", "\n")
        try:
            key = load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            key = None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            name = self.credential_name("private_key")
            raise SourceAuthError(
                f"source {self.name!r}: {name} is not an EC private key in PEM form; give the "
                "contents of the AuthKey_<key id>.p8 file downloaded from App Store Connect",
                source=self.name,
                credential=name,
            )
        return pem


class AppStoreConnectReviewsConnector(AppStoreConnectConnector):
    type = "app_store_connect"
    source_kind = "review"
    docs_url = f"{ASC_DOCS}/get-v1-apps-_id_-customerreviews"
    description = "App Store customer reviews from the App Store Connect API"
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = (
        Endpoint(
            name="customer_reviews",
            path="v1/apps/{app_id}/customerReviews",
            records="data",
            paginator=_next_link,
            params={"sort": "-createdDate", "limit": MAX_LIMIT},
            page_size_param="limit",
            incremental=CREATED,
            dedupe_key=lambda r: r.get("id"),
            docs_url=f"{ASC_DOCS}/get-v1-apps-_id_-customerreviews",
        ),
    )

    def parse_customer_reviews(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A review: 1-5 stars, title, body, the reviewer's nickname, the territory (ISO alpha-3)."""
        rid = required(item, "id", "customer review")
        what = f"customer review {rid}"
        attrs = _attributes(item, what)
        try:
            rating, raw = normalised_rating(attrs.get("rating"), (1, 5))
        except ParseError as exc:
            raise ParseError(f"{what}: {exc}") from None
        if raw is None:
            raise ParseError(f"{what}: attributes.rating is missing")
        territory = attrs.get("territory")
        return [
            self.row(
                source_id=str(rid),
                customer_id=text_or_none(attrs.get("reviewerNickname")),
                created_at=parse_timestamp(attrs.get("createdDate"), what=f"{what}: createdDate"),
                title=text_or_none(attrs.get("title")),
                text=attrs.get("body") or "",
                rating=rating,
                rating_raw=raw,
                rating_scale="1-5",
                tags=[f"territory:{territory}"] if territory else [],
                url=_self_link(item),
            )
        ]


class TestFlightConnector(AppStoreConnectConnector):
    __test__ = False  # not a pytest class, despite its name
    type = "testflight"
    source_kind = "beta"
    docs_url = f"{ASC_DOCS}/beta-feedback-screenshot-submissions"
    description = (
        "TestFlight beta feedback (screenshot and crash submissions) from App Store Connect"
    )
    Options = TestFlightOptions
    ENDPOINTS: ClassVar[tuple[Endpoint, ...]] = tuple(
        Endpoint(
            name=name,
            path=f"v1/apps/{{app_id}}/{resource}",
            records=with_included,
            paginator=_next_link,
            params={"sort": "-createdDate", "limit": MAX_LIMIT, "include": "build,tester"},
            page_size_param="limit",
            incremental=CREATED,
            dedupe_key=lambda r: r.get("id"),
            docs_url=f"{ASC_DOCS}/get-v1-apps-_id_-{resource.lower()}",
        )
        for name, resource in (
            ("beta_feedback_screenshots", "betaFeedbackScreenshotSubmissions"),
            ("beta_feedback_crashes", "betaFeedbackCrashSubmissions"),
        )
    )

    def parse_beta_feedback_screenshots(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A tester's screenshot feedback: their comment, the build, device and OS."""
        return self._feedback(item, "screenshot")

    def parse_beta_feedback_crashes(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """A tester's crash feedback: their comment (often empty), the build, device and OS."""
        return self._feedback(item, "crash")

    def _feedback(self, item: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        sid = required(item, "id", f"beta {kind} feedback")
        what = f"beta {kind} feedback {sid}"
        attrs = _attributes(item, what)
        tester = (item.get("_tester") or {}).get("attributes") or {}
        build = item.get("_build") or {}
        version = text_or_none((build.get("attributes") or {}).get("version"))
        email = text_or_none(attrs.get("email")) or text_or_none(tester.get("email"))
        tags = [f"testflight:{kind}"] + [
            f"{tag}:{attrs[key]}"
            for tag, key in (
                ("device", "deviceModel"),
                ("os", "osVersion"),
                ("platform", "appPlatform"),
            )
            if attrs.get(key)
        ]
        return [
            self.row(
                source_id=f"{kind}:{sid}",
                thread_id=text_or_none(build.get("id")),
                customer_id=email or text_or_none((item.get("_tester") or {}).get("id")),
                created_at=parse_timestamp(attrs.get("createdDate"), what=f"{what}: createdDate"),
                text=attrs.get("comment") or "",
                tags=tags + ([f"build:{version}"] if version else []),
                url=_self_link(item),
                app_version=version,
                is_internal=self.is_colleague(email),
            )
        ]

    def is_colleague(self, email: str | None) -> bool:
        """True when the tester's email domain is one of internal_email_domains."""
        domain = (email or "").rpartition("@")[2].lower()
        wanted = {d.lower().lstrip("@") for d in self.options.internal_email_domains}
        return bool(domain) and domain in wanted


def _attributes(item: dict[str, Any], what: str) -> dict[str, Any]:
    attrs = item.get("attributes")
    if not isinstance(attrs, dict):
        raise ParseError(f"{what}: attributes is missing")
    return attrs


def _self_link(item: dict[str, Any]) -> str | None:
    links = item.get("links")
    return text_or_none(links.get("self")) if isinstance(links, dict) else None
