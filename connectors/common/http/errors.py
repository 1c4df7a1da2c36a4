"""Errors raised by the shared HTTP client; every message names the source and is secret-masked.

Which response raises which error is declared in connectors/common/http/error_policy.py.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

Mask = Callable[[str], str]


class SourceError(Exception):
    """Base error for a source system, carrying the source name so flows can report which one failed."""

    def __init__(self, message: str, *, source: str = "") -> None:
        super().__init__(message)
        self.source = source


class SourceAuthError(SourceError):
    """401/403 (or a failed token exchange): the credential is missing, expired or lacks permission."""

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        status: int | None = None,
        credential: str | None = None,
    ) -> None:
        super().__init__(message, source=source)
        self.status = status
        self.credential = credential


class SourceHTTPError(SourceError):
    """A non-retryable HTTP error, or retries exhausted; status is None when no response came back."""

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        status: int | None = None,
        method: str = "",
        url: str = "",
        body_excerpt: str = "",
    ) -> None:
        super().__init__(message, source=source)
        self.status = status
        self.method = method
        self.url = url
        self.body_excerpt = body_excerpt


class SourceGone(SourceHTTPError):
    """410 Gone: the vendor removed the endpoint, so retrying can never help."""


class PaginationLoopError(SourceError):
    """The server handed back a page token or URL already seen in this run: paging would never end."""


class TokenRequestError(SourceError):
    """An auth strategy could not obtain a token; the client re-raises it as SourceAuthError."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def excerpt(text: str, mask: Mask, limit: int = 300) -> str:
    """A short, single-line, masked excerpt of a response body for error messages."""
    flat = " ".join(text.split())
    return mask(flat[:limit] + ("..." if len(flat) > limit else ""))


def auth_error(
    source: str,
    status: int | None,
    reason: str,
    method: str,
    url: str,
    body: str,
    *,
    hint: str,
    credential: str | None,
    mask: Mask,
) -> SourceAuthError:
    """A SourceAuthError naming the source, the status, the URL and the credential to check."""
    why = {
        401: "it is missing, wrong or expired",
        403: "it lacks the permission or scope this endpoint needs",
    }.get(status or 0, "the token endpoint refused it")
    message = f"source {source!r}: {status} {reason} from {method} {url}; check {hint} ({why})"
    if body.strip():
        message += f": {excerpt(body, mask)}"
    return SourceAuthError(mask(message), source=source, status=status, credential=credential)


def gone_error(source: str, method: str, url: str, body: str, *, mask: Mask) -> SourceGone:
    """A SourceGone saying which endpoint the vendor removed."""
    path = urlsplit(url).path
    message = (
        f"source {source!r}: 410 Gone from {method} {url}: the endpoint {path} was removed "
        "by the vendor; move the connector to its replacement"
    )
    if body.strip():
        message += f": {excerpt(body, mask)}"
    return SourceGone(
        mask(message),
        source=source,
        status=410,
        method=method,
        url=url,
        body_excerpt=excerpt(body, mask),
    )


def http_error(
    source: str,
    what: str,
    status: int | None,
    method: str,
    url: str,
    body: str,
    *,
    mask: Mask,
) -> SourceHTTPError:
    """A SourceHTTPError with the status, method, masked URL and a body excerpt."""
    body_excerpt = excerpt(body, mask)
    message = f"source {source!r}: {what}" + (f"; body: {body_excerpt}" if body_excerpt else "")
    return SourceHTTPError(
        mask(message),
        source=source,
        status=status,
        method=method,
        url=url,
        body_excerpt=body_excerpt,
    )
