"""Google Play Developer API sandbox: a service-account token endpoint and reviews.list of one app.

Speaks the documented shapes: reviews newest first (by the latest comment's lastModified), only
those created or modified in the last 7 days, `maxResults` (max 100) / `token` paging answered in
`tokenPagination.nextPageToken`, `translationLanguage`, Google's error bodies
({"error": {"code", "message", "status"}}). Times are recent (from 12 hours before now) so
the 7-day window holds the fixtures; one review is 8 days old and out of it.

The fake service-account key's token_uri is relative ("token"): the connector resolves it
against its base_url. The token endpoint checks the JWT-bearer assertion as Google does (RS256
signature by the service account's key, iss, aud, scope, a lifetime of at most an hour) and
answers Google's 400 bodies (invalid_grant, ...) otherwise; the API routes accept only the
access tokens it issued.
"""

from __future__ import annotations

import json
import random
import re
import time
from functools import cached_property, lru_cache
from typing import Any, ClassVar

import jwt

from connectors.common.sandbox import fixtures as fx
from connectors.common.sandbox.server import BadRequest, Request, Response, VendorApp, route

PACKAGE = "com.example.chorus"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_ASSERTION_LIFETIME_S = 3600
LIST_MAX = 100
WINDOW_S = 7 * 24 * 3600
STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
}
DEVICES = ("a52q", "oriole", "beyond1", "starqlteue", "x1q")
REVIEW_TEXTS = (
    "Great app\tSyncs fast and the widgets are lovely.",
    "Crashes every time I open the share sheet since the last update.",
    "Please add a dark theme, the white screen hurts at night.",
    "Login with my work account keeps failing.",
    "Does what it says, but the notifications are far too frequent.",
    "Exports\tCSV export never finishes on big projects.",
)
REPLY_TEXTS = (
    "Thanks for the feedback! A fix is on its way in the next release.",
    "Sorry about that, could you write to support@example.com with your device model?",
)


@lru_cache(maxsize=1)
def service_account_key() -> str:
    """An invented service account's private key (PEM), generated once per process."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def service_account_json() -> str:
    """A service-account key file as Google hands it out, pointing at the sandbox's token route."""
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "chorus-sandbox",
            "private_key_id": "0123456789abcdef0123456789abcdef01234567",
            "private_key": service_account_key(),
            "client_email": "chorus-reviews@chorus-sandbox.iam.gserviceaccount.example",
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "token",
        }
    )


class GooglePlaySandbox(VendorApp):
    """Reviews of one invented app, with developer replies and edits."""

    name = "google_play"
    default_credentials: ClassVar[dict[str, str]] = {}

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> None:
        start = int(time.time()) // 60 * 60 - 12 * 3600
        self.clock = fx.Clock(start=start, step=13 * 60)
        self.issued: set[str] = set()
        self.now = time.time  # the 7-day window is measured from this
        kw["credentials"] = {
            "service_account": service_account_json(),
            **(kw.get("credentials") or {}),
        }
        super().__init__(data, **kw)
        self.store.setdefault("reviews", [])

    # -- fixture data and the mutations tests make between runs ---------------------------

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        rng = random.Random(seed)
        self.store = {"reviews": []}
        for n in range(11):
            review = self.add_review(
                REVIEW_TEXTS[n % len(REVIEW_TEXTS)],
                rng.randint(1, 5),
                author=fx.person(rng, n)["name"],
                device=rng.choice(DEVICES),
            )
            if n % 4 == 1:
                self.reply(review["reviewId"], rng.choice(REPLY_TEXTS))
        old = self.add_review("Used to love it.", 2, author="Kai Frost")
        self._stamp(old["comments"][0]["userComment"], int(self.now()) - WINDOW_S - 3600)
        return self.store

    @staticmethod
    def _stamp(comment: dict[str, Any], epoch: int) -> None:
        comment["lastModified"] = {"seconds": str(epoch), "nanos": 500_000_000}

    def add_review(
        self, text: str, stars: int, author: str = "A Google user", device: str = "oriole"
    ) -> dict[str, Any]:
        """A new review by a user, modified now (the sandbox clock)."""
        with self.lock:
            n = len(self.store["reviews"])
            comment = {
                "text": text,
                "starRating": stars,
                "reviewerLanguage": "en",
                "device": device,
                "androidOsVersion": 33 + n % 2,
                "appVersionCode": 5040 + n % 3,
                "appVersionName": f"5.4.{n % 3}",
                "thumbsUpCount": n % 4,
                "thumbsDownCount": 0,
            }
            self._stamp(comment, self.clock.tick())
            review = {
                "reviewId": f"gp:AOqpTO{n:04d}sandbox",
                "authorName": author,
                "comments": [{"userComment": comment}],
            }
            self.store["reviews"].append(review)
            return review

    def review(self, review_id: str) -> dict[str, Any]:
        return next(r for r in self.store["reviews"] if r["reviewId"] == review_id)

    def edit_review(self, review_id: str, text: str, stars: int) -> dict[str, Any]:
        """The user rewrites their review: same reviewId, later lastModified."""
        with self.lock:
            comment = self.review(review_id)["comments"][0]["userComment"]
            comment.update(text=text, starRating=stars)
            self._stamp(comment, self.clock.tick())
            return self.review(review_id)

    def reply(self, review_id: str, text: str) -> dict[str, Any]:
        """The developer replies (or edits the reply)."""
        with self.lock:
            review = self.review(review_id)
            review["comments"] = [c for c in review["comments"] if "developerComment" not in c]
            reply: dict[str, Any] = {"text": text}
            self._stamp(reply, self.clock.tick())
            review["comments"].append({"developerComment": reply})
            return review

    # -- HTTP -------------------------------------------------------------------------------

    def error(self, status: int, message: str) -> Response:
        if status == 503:
            return Response(503, "Service Unavailable")
        code = STATUS.get(status, "INTERNAL")
        return Response(status, {"error": {"code": status, "message": message, "status": code}})

    def authenticate(self, request: Request) -> Response | None:
        if request.path == "token":
            return None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and header[len("Bearer ") :] in self.issued:
            return None
        return self.error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential.",
        )

    @cached_property
    def service_account(self) -> dict[str, Any]:
        """The service-account key this sandbox trusts (its credentials, as given)."""
        return json.loads(self.credentials["service_account"])

    @cached_property
    def public_key(self) -> Any:
        """The public half of the service account's private key: it verifies assertions."""
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        pem = self.service_account["private_key"].encode()
        return load_pem_private_key(pem, password=None).public_key()

    def assertion_problem(self, assertion: str, audience: str) -> tuple[str, str] | None:
        """(OAuth error code, Google's description) for a bad JWT-bearer assertion, else None."""
        try:
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=["RS256"],
                audience=audience,
                options={"require": ["iss", "aud", "iat", "exp"]},
                leeway=60,
            )
        except jwt.InvalidSignatureError:
            return "invalid_grant", "Invalid JWT Signature."
        except jwt.InvalidAudienceError:
            return "invalid_grant", f"Invalid JWT: Failed audience check. Expected {audience}."
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            return "invalid_grant", _TIMEFRAME
        except jwt.InvalidTokenError as exc:
            return "invalid_grant", f"Invalid JWT: {exc}."
        if claims["iss"] != self.service_account["client_email"]:
            return "invalid_grant", "Invalid grant: account not found"
        if claims["exp"] - claims["iat"] > MAX_ASSERTION_LIFETIME_S:
            return "invalid_grant", _TIMEFRAME
        if SCOPE not in str(claims.get("scope") or "").split():
            return "invalid_scope", "Invalid OAuth scope or ID token audience provided."
        return None

    @route("POST", r"token")
    def token(self, request: Request, match: re.Match[str]) -> Response:
        """The OAuth2 JWT-bearer exchange: a verified assertion buys an access token."""
        form = request.form()
        if form.get("grant_type") != JWT_BEARER_GRANT:
            problem = ("unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type')}")
        else:
            problem = self.assertion_problem(form.get("assertion", ""), f"{request.base_url}/token")
        if problem is not None:
            return Response(400, {"error": problem[0], "error_description": problem[1]})
        with self.lock:
            token = f"ya29.sandbox-{len(self.issued) + 1:04d}-{random.getrandbits(48):012x}"
            self.issued.add(token)
        return Response(body={"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    @route("GET", r"androidpublisher/v3/applications/(?P<package>[^/]+)/reviews")
    def list_reviews(self, request: Request, match: re.Match[str]) -> Response:
        """Reviews of the last 7 days, newest first, paged by an opaque position token."""
        if match["package"] != PACKAGE:
            return self.error(404, f"Package not found: {match['package']}.")
        size = self.page_size(request, "maxResults", 10, LIST_MAX)
        since = self.now() - WINDOW_S
        rows = sorted(
            (r for r in self.store["reviews"] if review_activity(r) >= (int(since), 0)),
            key=lambda r: (review_activity(r), r["reviewId"]),
            reverse=True,
        )
        token = request.q("token")
        if token:
            try:
                seconds, nanos, rid = fx.decode_cursor(token)
            except (ValueError, TypeError) as exc:
                raise BadRequest(f"Invalid token: {exc}") from None
            rows = [
                r for r in rows if (review_activity(r), r["reviewId"]) < ((seconds, nanos), rid)
            ]
        page, more = rows[:size], len(rows) > size
        lang = request.q("translationLanguage")
        body: dict[str, Any] = {
            "reviews": [_translated(r, lang) for r in page],
            "pageInfo": {"totalResults": len(rows), "resultPerPage": size, "startIndex": 0},
        }
        if more:
            last = page[-1]
            body["tokenPagination"] = {
                "nextPageToken": fx.encode_cursor([*review_activity(last), last["reviewId"]])
            }
        return Response(body=body)


_TIMEFRAME = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)


def review_activity(review: dict[str, Any]) -> tuple[int, int]:
    """(seconds, nanos) of a review's latest comment lastModified: what the list is ordered by."""
    stamps = [
        (int(part["lastModified"]["seconds"]), int(part["lastModified"]["nanos"]))
        for comment in review["comments"]
        for part in comment.values()
    ]
    return max(stamps)


def _translated(review: dict[str, Any], lang: str | None) -> dict[str, Any]:
    """The review as served: a deep copy, the user's text "translated" when another language is asked."""
    out = json.loads(json.dumps(review))
    comment = out["comments"][0]["userComment"]
    if lang and not lang.startswith(comment.get("reviewerLanguage") or ""):
        comment["originalText"] = comment["text"]
        comment["text"] = f"[{lang}] {comment['text']}"
    return out
