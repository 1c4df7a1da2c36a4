"""What every vendor's webhooks share: the HMAC signature check, what a delivery maps to, the refusal.

A vendor that pushes deliveries declares, in connectors/<vendor>/webhook.py, one `Webhook`: its
signature `Scheme` (header, prefix, digest, encoding, what is signed, following the vendor's
documentation) and the function mapping a verified payload to the items its connector lands
when it polls. connectors/common/registry.py lists those modules (WEBHOOKS); `webhook_for`
finds a source type's. The receiver (flows/serve/app.py) does the rest: routing, body limits,
secrets, replays, landing.

Where the vendor signs a timestamp (Zendesk, Slack) a delivery signed more than `tolerance_s`
from now (either way) is refused as stale. Comparisons use hmac.compare_digest; no answer ever
carries the secret or the signature we expected.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.common.base import ParseError, parse_timestamp
from connectors.common.registry import WEBHOOKS, resolve


class Refused(Exception):
    """A delivery that is answered with an error: status, a short code, and what to fix."""

    def __init__(self, status: int, error: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, object]:
        return {"error": self.error, "message": self.message, **self.extra}


def hex_digest(digest: bytes) -> str:
    """A MAC written as lower-case hex (GitHub, Intercom, Slack)."""
    return digest.hex()


def base64_digest(digest: bytes) -> str:
    """A MAC written as standard base64 (Zendesk, Typeform)."""
    return base64.b64encode(digest).decode("ascii")


def body_only(timestamp: bytes, body: bytes) -> bytes:
    """What most vendors sign: the raw body alone."""
    return body


@dataclass(frozen=True)
class Scheme:
    """One vendor's signature: header, prefix, digest, encoding, what is signed."""

    vendor: str
    header: str
    prefix: str
    algorithm: Callable[[], object]
    encode: Callable[[bytes], str]
    timestamp_header: str | None = None
    delivery_header: str | None = None  # where the vendor puts a delivery id, if in a header
    signed: Callable[[bytes, bytes], bytes] = body_only  # (timestamp, body) -> signed bytes

    def describe(self) -> str:
        what = "timestamp + body" if self.timestamp_header else "the raw body"
        enc = "base64" if self.encode is base64_digest else "hex"
        return f"{self.header}: {self.prefix}<{enc} HMAC of {what}>"

    def signature(self, secret: str, body: bytes, timestamp: str = "") -> str:
        """The header value a correctly signed delivery carries (tests and tools sign with it)."""
        message = self.signed(timestamp.encode("utf-8"), body)
        mac = hmac.new(secret.encode("utf-8"), message, self.algorithm)  # type: ignore[arg-type]
        return self.prefix + self.encode(mac.digest())

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secret: str,
        now: datetime,
        tolerance_s: float,
    ) -> str:
        """The verified signature header value; Refused (401) when missing, wrong or stale."""
        given = headers.get(self.header)
        if not given:
            raise Refused(
                401,
                "missing_signature",
                f"this endpoint takes signed {self.vendor} deliveries; header {self.header} "
                "is missing",
                header=self.header,
                expected=self.describe(),
            )
        timestamp = ""
        if self.timestamp_header:
            timestamp = headers.get(self.timestamp_header) or ""
            if not timestamp:
                raise Refused(
                    401,
                    "missing_timestamp",
                    f"header {self.timestamp_header} is missing; {self.vendor} signs it",
                    header=self.timestamp_header,
                )
        expected = self.signature(secret, body, timestamp)
        if not hmac.compare_digest(expected.encode("utf-8"), given.strip().encode("utf-8")):
            raise Refused(
                401,
                "bad_signature",
                f"header {self.header} does not match the body signed with this source's "
                "webhook secret",
                header=self.header,
                expected=self.describe(),
            )
        if self.timestamp_header:
            signed_at = self.signed_at(timestamp)
            age = (now - signed_at).total_seconds()
            if abs(age) > tolerance_s:
                raise Refused(
                    401,
                    "stale_delivery",
                    f"header {self.timestamp_header} is {age:.0f} s from now; deliveries are "
                    f"accepted within {tolerance_s:.0f} s of their signed timestamp",
                    header=self.timestamp_header,
                )
        return given.strip()

    def signed_at(self, value: str) -> datetime:
        try:
            text = value.strip()
            return parse_timestamp(
                int(text) if text.isdigit() else text, what=self.timestamp_header
            )
        except (ParseError, ValueError, OverflowError, OSError):
            raise Refused(
                401,
                "bad_timestamp",
                f"header {self.timestamp_header} is not a timestamp",
                header=self.timestamp_header,
            ) from None


@dataclass
class Mapped:
    """What one delivery becomes: the vendor's event name, its delivery id, items to land."""

    event: str
    delivery_id: str | None
    items: list[dict[str, Any]] = field(default_factory=list)
    ignored: str | None = None  # why nothing is landed

    @classmethod
    def skip(cls, event: str, delivery_id: str | None, reason: str) -> Mapped:
        return cls(event, delivery_id, [], reason)


# cached(key, read): read() once in a while (the receiver caches it), None when it fails
Cached = Callable[[str, Callable[[], Any]], Any]
# items(connector, payload, headers, cached) -> Mapped
ItemMapper = Callable[[Any, dict[str, Any], Mapping[str, str], Cached], Mapped]


def as_is(body: bytes, content_type: str) -> bytes:
    """The verified body is the JSON document (every vendor but GitHub's form encoding)."""
    return body


def no_handshake(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Vendors without a handshake delivery answer nothing special."""
    return None


@dataclass(frozen=True)
class Webhook:
    """One vendor's webhooks: how deliveries are signed and what a verified one maps to.

    `items` maps the payload to the items the connector would have polled; `json_body` gives
    the JSON text of a verified body (GitHub may send it form-encoded); `handshake` answers a
    delivery that only checks the endpoint (Slack's url_verification) instead of mapping it.
    """

    scheme: Scheme
    items: ItemMapper
    json_body: Callable[[bytes, str], bytes] = as_is
    handshake: Callable[[dict[str, Any]], dict[str, Any] | None] = no_handshake


def webhook_for(type_name: str) -> Webhook:
    """The Webhook of a source type listed in WEBHOOKS (KeyError for a type that takes none)."""
    return resolve(WEBHOOKS[type_name])
