"""How each vendor signs its webhook deliveries, and the check: HMAC over the raw body bytes.

Each scheme follows the vendor's documentation:
- Zendesk: X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(signing secret, timestamp + body)),
  the timestamp (ISO 8601) in X-Zendesk-Webhook-Signature-Timestamp.
  https://developer.zendesk.com/documentation/webhooks/verifying/
- Intercom: X-Hub-Signature = "sha1=" + hex(HMAC-SHA1(the app's client_secret, body)).
  https://developers.intercom.com/docs/webhooks
- Typeform: Typeform-Signature = "sha256=" + base64(HMAC-SHA256(webhook secret, body)).
  https://www.typeform.com/developers/webhooks/secure-your-webhooks/
- GitHub: X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(webhook secret, body)).
  https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
- Slack: X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + ts + ":" + body)),
  ts (epoch seconds) in X-Slack-Request-Timestamp.
  https://api.slack.com/authentication/verifying-requests-from-slack

Where the vendor signs a timestamp (Zendesk, Slack) a delivery signed more than `tolerance_s`
from now (either way) is refused as stale. Comparisons use hmac.compare_digest; no answer ever
carries the secret or the signature we expected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from connectors.common.base import ParseError, parse_timestamp


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


def _hex(digest: bytes) -> str:
    return digest.hex()


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


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
    signed: Callable[[bytes, bytes], bytes] = lambda ts, body: body

    def describe(self) -> str:
        what = "timestamp + body" if self.timestamp_header else "the raw body"
        enc = "base64" if self.encode is _b64 else "hex"
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


SCHEMES: dict[str, Scheme] = {
    "zendesk": Scheme(
        vendor="Zendesk",
        header="X-Zendesk-Webhook-Signature",
        prefix="",
        algorithm=hashlib.sha256,
        encode=_b64,
        timestamp_header="X-Zendesk-Webhook-Signature-Timestamp",
        delivery_header="X-Zendesk-Webhook-Invocation-Id",
        signed=lambda ts, body: ts + body,
    ),
    "intercom": Scheme(
        vendor="Intercom",
        header="X-Hub-Signature",
        prefix="sha1=",
        algorithm=hashlib.sha1,
        encode=_hex,
    ),
    "typeform": Scheme(
        vendor="Typeform",
        header="Typeform-Signature",
        prefix="sha256=",
        algorithm=hashlib.sha256,
        encode=_b64,
    ),
    "github": Scheme(
        vendor="GitHub",
        header="X-Hub-Signature-256",
        prefix="sha256=",
        algorithm=hashlib.sha256,
        encode=_hex,
        delivery_header="X-GitHub-Delivery",
    ),
    "slack": Scheme(
        vendor="Slack",
        header="X-Slack-Signature",
        prefix="v0=",
        algorithm=hashlib.sha256,
        encode=_hex,
        timestamp_header="X-Slack-Request-Timestamp",
        signed=lambda ts, body: b"v0:" + ts + b":" + body,
    ),
}
