"""Auth strategies for the shared client: each applies itself to a request and lists its secrets for masking."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from typing import Any

import jwt
import requests
from requests.auth import AuthBase

from connectors.common.http.errors import TokenRequestError

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
APP_STORE_AUDIENCE = "appstoreconnect-v1"
APP_STORE_MAX_LIFETIME_S = 20 * 60
_KEEP_OLD_TOKENS = 4


class AuthStrategy(AuthBase):
    """Base strategy: usable as a requests `auth=`, lists the values to mask, may refresh after a 401."""

    default_description = "the credential"

    def __init__(self, credential_name: str | None = None) -> None:
        self.credential_name = credential_name

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return self.apply(request)

    def apply(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the credential to the request (headers); the base strategy adds nothing."""
        return request

    def secrets(self) -> list[str]:
        """The values that must never appear in a log line or error message."""
        return []

    def refresh(self) -> bool:
        """Drop any cached token after a 401; True when retrying with a fresh one could help."""
        return False

    def describe(self) -> str:
        """Which credential an operator should check, for error messages."""
        if self.credential_name:
            return f"the credential {self.credential_name!r}"
        return self.default_description


class BasicAuth(AuthStrategy):
    """HTTP Basic auth with a username and password (or API key)."""

    default_description = "the username and password"

    def __init__(self, username: str, password: str, *, credential_name: str | None = None) -> None:
        super().__init__(credential_name)
        self.username = username
        self._password = password
        raw = f"{username}:{password}".encode()
        self._encoded = base64.b64encode(raw).decode("ascii")

    def apply(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Basic {self._encoded}"
        return request

    def secrets(self) -> list[str]:
        return [self._password, self._encoded]


class ApiTokenAuth(BasicAuth):
    """Zendesk-style API token: Basic auth as `{email}/token:{api_token}`."""

    default_description = "the API token"

    def __init__(self, email: str, api_token: str, *, credential_name: str | None = None) -> None:
        super().__init__(f"{email}/token", api_token, credential_name=credential_name)


class HeaderTokenAuth(AuthStrategy):
    """A static token in a request header, after an optional prefix (Qualtrics' X-API-TOKEN)."""

    default_description = "the API token"

    def __init__(
        self, header: str, token: str, *, prefix: str = "", credential_name: str | None = None
    ) -> None:
        super().__init__(credential_name)
        self.header = header
        self.prefix = prefix
        self._token = token

    def apply(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = f"{self.prefix}{self._token}"
        return request

    def secrets(self) -> list[str]:
        return [self._token]


class BearerAuth(HeaderTokenAuth):
    """A static bearer token (personal access token, API key sent as Bearer)."""

    default_description = "the bearer token"

    def __init__(self, token: str, *, credential_name: str | None = None) -> None:
        super().__init__("Authorization", token, prefix="Bearer ", credential_name=credential_name)


class _CachedTokenAuth(AuthStrategy):
    """Fetches an access token from a token endpoint and caches it until shortly before expiry."""

    def __init__(
        self,
        token_url: str,
        *,
        session: requests.Session | None,
        timeout: float | tuple[float, float],
        clock: Callable[[], float],
        expiry_skew_s: float,
        credential_name: str | None,
    ) -> None:
        super().__init__(credential_name)
        self.token_url = token_url
        self._session = session or requests.Session()
        self._timeout = timeout
        self._clock = clock
        self._skew = expiry_skew_s
        self._token: str | None = None
        self._expires_at = 0.0
        self._issued: list[str] = []
        self.token_requests = 0

    def _token_request(self) -> dict[str, Any]:
        """The keyword arguments for the token POST (data, auth)."""
        raise NotImplementedError

    def _secret_inputs(self) -> list[str]:
        """The long-lived secrets this strategy was built from."""
        raise NotImplementedError

    def access_token(self) -> str:
        """The cached access token, fetched anew when missing or about to expire."""
        if self._token is None or self._clock() >= self._expires_at - self._skew:
            self._fetch()
        assert self._token is not None
        return self._token

    def _fetch(self) -> None:
        self.token_requests += 1
        response = self._session.post(
            self.token_url, timeout=self._timeout, **self._token_request()
        )
        if response.status_code != 200:
            excerpt = response.text[:200]
            raise TokenRequestError(
                f"token request to {self.token_url} failed: {response.status_code} "
                f"{response.reason}: {excerpt}",
                status=response.status_code,
            )
        try:
            payload = response.json()
            token = str(payload["access_token"])
        except (ValueError, KeyError, TypeError):
            raise TokenRequestError(
                f"token endpoint {self.token_url} returned no access_token", status=200
            ) from None
        self._token = token
        self._expires_at = self._clock() + float(payload.get("expires_in") or 3600)
        self._issued = ([token] + self._issued)[:_KEEP_OLD_TOKENS]

    def apply(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        return request

    def refresh(self) -> bool:
        self._token = None
        return True

    def secrets(self) -> list[str]:
        return self._secret_inputs() + list(self._issued)


class OAuth2ClientCredentials(_CachedTokenAuth):
    """OAuth2 client-credentials grant: form POST to token_url, token cached until expiry."""

    default_description = "the OAuth2 client id and secret"

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | Iterable[str] | None = None,
        *,
        client_auth: str = "body",
        extra_params: dict[str, str] | None = None,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        clock: Callable[[], float] = time.time,
        expiry_skew_s: float = 60.0,
        credential_name: str | None = None,
    ) -> None:
        super().__init__(
            token_url,
            session=session,
            timeout=timeout,
            clock=clock,
            expiry_skew_s=expiry_skew_s,
            credential_name=credential_name,
        )
        if client_auth not in ("body", "basic"):
            raise ValueError("client_auth must be 'body' or 'basic'")
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope if scope is None or isinstance(scope, str) else " ".join(scope)
        self.client_auth = client_auth
        self.extra_params = dict(extra_params or {})

    def _token_request(self) -> dict[str, Any]:
        data = {"grant_type": "client_credentials", **self.extra_params}
        if self.scope:
            data["scope"] = self.scope
        if self.client_auth == "basic":
            return {"data": data, "auth": (self.client_id, self._client_secret)}
        data.update(client_id=self.client_id, client_secret=self._client_secret)
        return {"data": data}

    def _secret_inputs(self) -> list[str]:
        raw = f"{self.client_id}:{self._client_secret}".encode()
        return [self._client_secret, base64.b64encode(raw).decode("ascii")]


class GoogleServiceAccountAuth(_CachedTokenAuth):
    """Google service account: an RS256 JWT assertion exchanged at token_uri for an access token."""

    default_description = "the Google service account key"

    def __init__(
        self,
        service_account_info: dict[str, Any],
        scopes: Iterable[str],
        *,
        subject: str | None = None,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        clock: Callable[[], float] = time.time,
        expiry_skew_s: float = 60.0,
        credential_name: str | None = None,
    ) -> None:
        missing = [k for k in ("client_email", "private_key") if not service_account_info.get(k)]
        if missing:
            raise ValueError(f"service account info lacks {', '.join(missing)}")
        super().__init__(
            service_account_info.get("token_uri") or GOOGLE_TOKEN_URI,
            session=session,
            timeout=timeout,
            clock=clock,
            expiry_skew_s=expiry_skew_s,
            credential_name=credential_name,
        )
        self.client_email = str(service_account_info["client_email"])
        self._private_key = str(service_account_info["private_key"])
        self._key_id = service_account_info.get("private_key_id")
        self.scopes = list(scopes)
        self.subject = subject
        self._assertions: list[str] = []

    def assertion(self) -> str:
        """A freshly signed RS256 JWT asserting this service account, valid for one hour."""
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self.client_email,
            "scope": " ".join(self.scopes),
            "aud": self.token_url,
            "iat": now,
            "exp": now + 3600,
        }
        if self.subject:
            claims["sub"] = self.subject
        headers = {"kid": self._key_id} if self._key_id else None
        token = jwt.encode(claims, self._private_key, algorithm="RS256", headers=headers)
        self._assertions = ([token] + self._assertions)[:_KEEP_OLD_TOKENS]
        return token

    def _token_request(self) -> dict[str, Any]:
        return {"data": {"grant_type": JWT_BEARER_GRANT, "assertion": self.assertion()}}

    def _secret_inputs(self) -> list[str]:
        return [self._private_key, *self._assertions]


class AppStoreConnectJWT(AuthStrategy):
    """App Store Connect API token: an ES256 JWT (kid, iss, iat, exp <= 20 min, aud), renewed before expiry."""

    default_description = "the App Store Connect API key"

    def __init__(
        self,
        key_id: str,
        issuer_id: str | None,
        private_key_pem: str,
        *,
        lifetime_s: int = APP_STORE_MAX_LIFETIME_S,
        scope: Iterable[str] | None = None,
        clock: Callable[[], float] = time.time,
        renew_before_s: float = 60.0,
        credential_name: str | None = None,
    ) -> None:
        super().__init__(credential_name)
        if not 0 < lifetime_s <= APP_STORE_MAX_LIFETIME_S:
            raise ValueError(
                f"lifetime_s must be in (0, {APP_STORE_MAX_LIFETIME_S}] (Apple's limit)"
            )
        self.key_id = key_id
        self.issuer_id = issuer_id
        self._private_key = private_key_pem
        self.lifetime_s = lifetime_s
        self.scope = list(scope) if scope else None
        self._clock = clock
        self._renew_before = min(renew_before_s, lifetime_s / 2)
        self._token: str | None = None
        self._expires_at = 0.0
        self._issued: list[str] = []

    def token(self) -> str:
        """The current JWT, signed anew when missing or close to expiry."""
        now = self._clock()
        if self._token is None or now >= self._expires_at - self._renew_before:
            issued_at = int(now)
            claims: dict[str, Any] = {
                "iat": issued_at,
                "exp": issued_at + self.lifetime_s,
                "aud": APP_STORE_AUDIENCE,
            }
            # Team keys carry the issuer id; individual keys use sub "user" instead.
            if self.issuer_id:
                claims["iss"] = self.issuer_id
            else:
                claims["sub"] = "user"
            if self.scope:
                claims["scope"] = self.scope
            headers = {"kid": self.key_id, "typ": "JWT"}
            self._token = jwt.encode(claims, self._private_key, algorithm="ES256", headers=headers)
            self._expires_at = issued_at + self.lifetime_s
            self._issued = ([self._token] + self._issued)[:_KEEP_OLD_TOKENS]
        return self._token

    def apply(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def refresh(self) -> bool:
        self._token = None
        return True

    def secrets(self) -> list[str]:
        return [self._private_key, *self._issued]
