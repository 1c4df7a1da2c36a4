"""Apple payload shapes for the sandbox: RSS feed pages and entries, JSON:API resources, the key.

Pure builders, no state: connectors/apple/sandbox.py decides what exists and when.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from connectors.common.sandbox import fixtures as fx

PACIFIC = timezone(timedelta(hours=-7))
FEEDBACK_TYPES = {
    "screenshots": "betaFeedbackScreenshotSubmissions",
    "crashes": "betaFeedbackCrashSubmissions",
}
DEVICES = (("iPhone15_2", "IPHONE"), ("iPhone16_1", "IPHONE"), ("iPad14_1", "IPAD"))
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
NOT_AUTHORIZED = {
    "id": "sbx-401",
    "status": "401",
    "code": "NOT_AUTHORIZED",
    "title": "Authentication credentials are missing or invalid.",
    "detail": "Provide a properly configured and signed bearer token, and make sure that it "
    "has not expired. Learn more about Generating Tokens for API Requests "
    "https://developer.apple.com/go/?id=api-generating-tokens",
}


def sandbox_key_pem() -> str:
    """A fixed, invented P-256 key (derived from a constant) that only the sandbox trusts."""
    seed = int.from_bytes(hashlib.sha256(b"chorus apple sandbox key").digest(), "big")
    key = ec.derive_private_key(seed % (_P256_ORDER - 1) + 1, ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def pacific(epoch: int) -> str:
    """A time as the feed and Connect write it: ISO 8601 with Apple's -07:00 offset."""
    return datetime.fromtimestamp(epoch, tz=PACIFIC).isoformat()


def store_link(country: str, app_id: str) -> str:
    return f"https://apps.apple.com/{country}/app/id{app_id}?see-all=reviews"


def rss_entry(
    country: str, app_id: str, n: int, now: int, rating: int, version: str, rng: random.Random
) -> dict[str, Any]:
    """A customer-review entry, every field wrapped in {"label": ...} as the feed sends it."""
    uid = 700000 + rng.randrange(100000)
    return {
        "author": {
            "uri": {"label": f"https://itunes.apple.com/{country}/reviews/id{uid}"},
            "name": {"label": f"{rng.choice(fx.FIRST).lower()}{uid % 97}"},
            "label": "",
        },
        "updated": {"label": pacific(now)},
        "im:rating": {"label": str(rating)},
        "im:version": {"label": version},
        "id": {"label": str(11000000000 + n * 7919)},
        "title": {"label": fx.SUBJECTS[n % len(fx.SUBJECTS)]},
        "content": {"label": fx.BODIES[n % len(fx.BODIES)], "attributes": {"type": "text"}},
        "link": {"attributes": {"rel": "related", "href": store_link(country, app_id)}},
        "im:voteSum": {"label": "0"},
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "im:voteCount": {"label": "0"},
    }


def app_entry(country: str, app_id: str) -> dict[str, Any]:
    """The app's own entry that opens page 1 of some storefronts' feeds (no im:rating)."""
    link = {"rel": "alternate", "type": "text/html", "href": store_link(country, app_id)}
    return {
        "im:name": {"label": "Chorus Sandbox"},
        "rights": {"label": "© Example Apps Ltd."},
        "im:price": {"label": "Get", "attributes": {"amount": "0.00", "currency": "USD"}},
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "title": {"label": "Chorus Sandbox - Example Apps Ltd."},
        "link": {"attributes": link},
        "id": {"label": store_link(country, app_id), "attributes": {"im:id": app_id}},
        "im:artist": {"label": "Example Apps Ltd."},
        "im:releaseDate": {"label": "2024-02-01T00:00:00-07:00"},
    }


def feed_page(
    country: str, app_id: str, page: int, last: int, entries: list[dict[str, Any]], now: int
) -> dict[str, Any]:
    """A feed page: a lone entry as an object, no `entry` key without entries, XML page links."""
    base = f"https://itunes.apple.com/{country}/rss/customerreviews"
    pages = {"first": 1, "last": last, "previous": max(1, page - 1), "next": min(last, page + 1)}
    links = [
        {
            "attributes": {
                "rel": "alternate",
                "type": "text/html",
                "href": store_link(country, app_id),
            }
        }
    ]
    links += [
        {
            "attributes": {
                "rel": rel,
                "href": f"{base}/page={n}/id={app_id}/sortby=mostrecent/xml?"
                f"urlDesc=/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json",
            }
        }
        for rel, n in pages.items()
    ]
    feed: dict[str, Any] = {
        "author": {
            "name": {"label": "iTunes Store"},
            "uri": {"label": "http://www.apple.com/itunes/"},
        },
        "updated": {"label": pacific(now)},
        "rights": {"label": "Copyright 2008 Apple Inc."},
        "title": {"label": "iTunes Store: Customer Reviews"},
        "icon": {"label": "http://itunes.apple.com/favicon.ico"},
        "link": links,
        "id": {"label": f"{base}/page={page}/id={app_id}/sortby=mostrecent/json"},
    }
    if entries:
        feed["entry"] = entries[0] if len(entries) == 1 else entries
    return {"feed": feed}


def customer_review(
    n: int, now: int, rating: int, territory: str, rng: random.Random
) -> dict[str, Any]:
    """A customerReviews resource as GET /v1/apps/{id}/customerReviews lists it."""
    return {
        "type": "customerReviews",
        "id": f"00000028-b08c-0014-{n:04x}-{rng.randrange(16**12):012x}",
        "attributes": {
            "rating": rating,
            "title": fx.SUBJECTS[n % len(fx.SUBJECTS)],
            "body": fx.BODIES[n % len(fx.BODIES)],
            "reviewerNickname": f"{rng.choice(fx.FIRST)} {rng.choice(fx.LAST)[0]}.",
            "createdDate": pacific(now),
            "territory": territory,
        },
    }


def feedback(
    kind: str,
    n: int,
    now: int,
    comment: str,
    email: str,
    build_id: str,
    tester_id: str,
    rng: random.Random,
) -> dict[str, Any]:
    """A betaFeedbackScreenshotSubmissions or betaFeedbackCrashSubmissions resource."""
    model, family = rng.choice(DEVICES)
    attrs: dict[str, Any] = {
        "createdDate": pacific(now),
        "comment": comment,
        "email": email,
        "deviceModel": model,
        "osVersion": rng.choice(("17.5.1", "18.0")),
        "locale": "en-US",
        "timeZone": "America/Los_Angeles",
        "architecture": "arm64e",
        "connectionType": "WIFI",
        "batteryPercentage": rng.randrange(5, 100),
        "appPlatform": "IOS",
        "devicePlatform": "IOS",
        "deviceFamily": family,
        "buildBundleId": "com.example.chorus",
    }
    if kind == "screenshots":
        shot = {"url": f"https://tf-feedback.example/{n}.png", "width": 1179, "height": 2556}
        attrs["screenshots"] = [{**shot, "expirationDate": pacific(now + 86400)}]
    return {
        "type": FEEDBACK_TYPES[kind],
        "id": f"{kind[:2].upper()}{n:03d}-{rng.randrange(16**8):08x}",
        "attributes": attrs,
        "relationships": {
            "build": {"data": {"type": "builds", "id": build_id}},
            "tester": {"data": {"type": "betaTesters", "id": tester_id}},
        },
    }


def build(build_id: str, version: str, epoch: int) -> dict[str, Any]:
    """A builds resource; `version` is the build number (CFBundleVersion)."""
    uploaded = datetime.fromtimestamp(epoch, tz=UTC).isoformat()
    attrs = {"version": version, "uploadedDate": uploaded, "expired": False, "minOsVersion": "16.0"}
    return {"type": "builds", "id": build_id, "attributes": {**attrs, "processingState": "VALID"}}


def tester(tester_id: str, first: str, last: str, email: str) -> dict[str, Any]:
    """A betaTesters resource."""
    attrs = {"firstName": first, "lastName": last, "email": email, "inviteType": "EMAIL"}
    return {"type": "betaTesters", "id": tester_id, "attributes": {**attrs, "state": "ACCEPTED"}}
