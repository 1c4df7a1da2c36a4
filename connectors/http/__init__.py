"""The shared HTTP client every connector uses: auth, retries, rate limits, pagination, masking."""

from __future__ import annotations

from connectors.http.auth import (
    ApiTokenAuth,
    AppStoreConnectJWT,
    AuthStrategy,
    BasicAuth,
    BearerAuth,
    GoogleServiceAccountAuth,
    HeaderTokenAuth,
    OAuth2ClientCredentials,
)
from connectors.http.client import HttpClient, Page
from connectors.http.errors import (
    PaginationLoopError,
    SourceAuthError,
    SourceError,
    SourceGone,
    SourceHTTPError,
    TokenRequestError,
)
from connectors.http.masking import Masker, SecretMaskingFilter
from connectors.http.paginators import (
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
)
from connectors.http.ratelimit import TokenBucket

__all__ = [
    "ApiTokenAuth",
    "AppStoreConnectJWT",
    "AuthStrategy",
    "BasicAuth",
    "BearerAuth",
    "CursorPaginator",
    "GoogleServiceAccountAuth",
    "HeaderTokenAuth",
    "HttpClient",
    "JsonBodyCursorPaginator",
    "LinkHeaderPaginator",
    "Masker",
    "NextUrlPaginator",
    "OAuth2ClientCredentials",
    "OffsetPaginator",
    "Page",
    "PageNumberPaginator",
    "Paginator",
    "PaginationLoopError",
    "SecretMaskingFilter",
    "SinglePage",
    "SourceAuthError",
    "SourceError",
    "SourceGone",
    "SourceHTTPError",
    "StartTimePaginator",
    "TokenBucket",
    "TokenRequestError",
    "dig",
]
