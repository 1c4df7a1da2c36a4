"""Auth strategies: headers, signed JWTs checked with the public key, token caching and refresh."""

from __future__ import annotations

import base64
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connectors.common.http.auth import (
    ApiTokenAuth,
    AppStoreConnectJWT,
    BasicAuth,
    BearerAuth,
    GoogleServiceAccountAuth,
    HeaderTokenAuth,
    OAuth2ClientCredentials,
)
from connectors.common.http.client import HttpClient
from connectors.common.http.errors import SourceAuthError
from tests.httpserver import Reply, Seen, scripted, servers


@pytest.fixture
def serve():
    with servers() as start:
        yield start


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sent_authorization(serve, auth) -> str:
    server = serve(scripted(Reply(body={})))
    HttpClient("s", server.url, auth=auth).request("GET", "/me")
    return server.seen[0].headers["Authorization"]


def test_basic_auth_header_and_secrets(serve):
    auth = BasicAuth("svc", "p@ss word")
    header = sent_authorization(serve, auth)
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == "svc:p@ss word"
    assert set(auth.secrets()) == {"p@ss word", header.removeprefix("Basic ")}


def test_api_token_auth_uses_zendesk_email_token_form(serve):
    header = sent_authorization(serve, ApiTokenAuth("ops@example.com", "zd-tok"))
    assert base64.b64decode(header.split()[1]).decode() == "ops@example.com/token:zd-tok"


def test_bearer_auth(serve):
    auth = BearerAuth("pat-123", credential_name="GITHUB_TOKEN")
    assert sent_authorization(serve, auth) == "Bearer pat-123"
    assert auth.secrets() == ["pat-123"] and auth.refresh() is False
    assert auth.describe() == "the credential 'GITHUB_TOKEN'"


def test_header_token_auth_sends_the_token_in_its_header_and_masks_it(serve):
    server = serve(scripted(Reply(body={})))
    auth = HeaderTokenAuth("X-API-TOKEN", "qx-tok-123")
    HttpClient("s", server.url, auth=auth).request("GET", "/me")
    assert server.seen[0].headers["X-API-TOKEN"] == "qx-tok-123"
    assert "Authorization" not in server.seen[0].headers
    assert auth.secrets() == ["qx-tok-123"] and auth.describe() == "the API token"


class OAuthServer:
    """A token endpoint issuing tok-1, tok-2, ... and an API accepting only the newest token."""

    def __init__(self, expires_in: int = 3600, token_status: int = 200) -> None:
        self.issued = 0
        self.expires_in = expires_in
        self.token_status = token_status
        self.token_requests: list[Seen] = []

    def __call__(self, seen: Seen) -> Reply:
        if seen.path == "/oauth/token":
            self.token_requests.append(seen)
            if self.token_status != 200:
                return Reply(self.token_status, {"error": "invalid_client", "echo": seen.form()})
            self.issued += 1
            return Reply(body={"access_token": f"tok-{self.issued}", "expires_in": self.expires_in})
        if seen.headers.get("Authorization") == f"Bearer tok-{self.issued}":
            return Reply(body={"ok": True})
        return Reply(401, {"error": "token expired"})


def test_oauth2_token_is_fetched_once_and_cached(serve):
    api = OAuthServer()
    server = serve(api)
    auth = OAuth2ClientCredentials(
        server.url + "/oauth/token", "cid", "csecret", scope=["read", "write"]
    )
    client = HttpClient("s", server.url, auth=auth)
    for _ in range(3):
        assert client.request("GET", "/api").json() == {"ok": True}
    assert len(api.token_requests) == 1
    form = api.token_requests[0].form()
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "csecret",
        "scope": "read write",
    }
    assert "tok-1" in auth.secrets() and "csecret" in auth.secrets()


def test_oauth2_refreshes_once_after_a_401(serve):
    api = OAuthServer()
    server = serve(api)
    auth = OAuth2ClientCredentials(server.url + "/oauth/token", "cid", "csecret")
    client = HttpClient("s", server.url, auth=auth)
    client.request("GET", "/api")
    api.issued += 1  # the server rotates keys: tok-1 is no longer accepted
    assert client.request("GET", "/api").json() == {"ok": True}
    assert len(api.token_requests) == 2
    assert server.seen[-1].headers["Authorization"] == "Bearer tok-3"


def test_oauth2_persistent_401_refreshes_only_once(serve):
    server = serve(
        lambda seen: (
            Reply(body={"access_token": "t", "expires_in": 60})
            if seen.path == "/oauth/token"
            else Reply(401, {"error": "nope"})
        )
    )
    auth = OAuth2ClientCredentials(server.url + "/oauth/token", "cid", "csecret-xyz")
    with pytest.raises(SourceAuthError, match="OAuth2 client id and secret"):
        HttpClient("s", server.url, auth=auth).request("GET", "/api")
    assert [s.path for s in server.seen] == ["/oauth/token", "/api", "/oauth/token", "/api"]


def test_oauth2_token_renewed_when_it_expires(serve):
    api = OAuthServer(expires_in=600)
    server = serve(api)
    now = [1000.0]
    auth = OAuth2ClientCredentials(
        server.url + "/oauth/token", "cid", "cs", client_auth="basic", clock=lambda: now[0]
    )
    client = HttpClient("s", server.url, auth=auth)
    client.request("GET", "/api")
    now[0] += 500  # still valid (600 s minus 60 s of skew)
    client.request("GET", "/api")
    assert len(api.token_requests) == 1
    now[0] += 60
    client.request("GET", "/api")
    assert len(api.token_requests) == 2
    basic = api.token_requests[0].headers["Authorization"].split()[1]
    assert base64.b64decode(basic).decode() == "cid:cs"
    assert "client_secret" not in api.token_requests[0].form()


def test_oauth2_token_rejection_is_an_auth_error_without_the_secret(serve):
    server = serve(OAuthServer(token_status=400))
    auth = OAuth2ClientCredentials(
        server.url + "/oauth/token", "cid", "csecret-999", credential_name="SURVEY_CLIENT"
    )
    with pytest.raises(SourceAuthError) as caught:
        HttpClient("surveys", server.url, auth=auth).request("GET", "/api")
    text = str(caught.value)
    assert "'surveys'" in text and "SURVEY_CLIENT" in text and "invalid_client" in text
    assert "csecret-999" not in text


def test_oauth2_token_endpoint_5xx_is_retried(serve):
    replies = iter([Reply(503, {}), Reply(body={"access_token": "tk-ok", "expires_in": 60})])
    server = serve(
        lambda seen: next(replies) if seen.path == "/oauth/token" else Reply(body={"ok": 1})
    )
    waits: list[float] = []
    auth = OAuth2ClientCredentials(server.url + "/oauth/token", "cid", "cs")
    HttpClient("s", server.url, auth=auth, sleep=waits.append).request("GET", "/api")
    assert len(waits) == 1 and server.seen[-1].headers["Authorization"] == "Bearer tk-ok"


def test_google_service_account_signs_an_rs256_assertion(serve, rsa_key):
    assertions: list[str] = []

    def handle(seen: Seen) -> Reply:
        if seen.path == "/token":
            form = seen.form()
            assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
            assertions.append(form["assertion"])
            return Reply(body={"access_token": "ya29.tok", "expires_in": 3599})
        return Reply(body={"reviews": []})

    server = serve(handle)
    info = {
        "type": "service_account",
        "client_email": "chorus@proj.iam.gserviceaccount.com",
        "private_key": pem(rsa_key),
        "private_key_id": "kid-1",
        "token_uri": server.url + "/token",
    }
    scope = "https://www.googleapis.com/auth/androidpublisher"
    auth = GoogleServiceAccountAuth(info, [scope])
    HttpClient("play", server.url, auth=auth).request("GET", "/reviews")
    assert server.seen[-1].headers["Authorization"] == "Bearer ya29.tok"
    (assertion,) = assertions
    claims = jwt.decode(
        assertion, rsa_key.public_key(), algorithms=["RS256"], audience=info["token_uri"]
    )
    assert claims["iss"] == info["client_email"] and claims["scope"] == scope
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(assertion)["kid"] == "kid-1"
    assert info["private_key"] in auth.secrets() and "ya29.tok" in auth.secrets()


def test_google_service_account_requires_key_fields():
    with pytest.raises(ValueError, match="private_key"):
        GoogleServiceAccountAuth({"client_email": "x@y"}, ["s"])


def test_app_store_connect_jwt_follows_apples_rules(serve, ec_key):
    auth = AppStoreConnectJWT("KEY123", "issuer-uuid", pem(ec_key))
    header = sent_authorization(serve, auth)
    token = header.removeprefix("Bearer ")
    claims = jwt.decode(
        token, ec_key.public_key(), algorithms=["ES256"], audience="appstoreconnect-v1"
    )
    assert claims["iss"] == "issuer-uuid"
    assert claims["exp"] - claims["iat"] == 20 * 60
    assert abs(claims["iat"] - time.time()) < 60
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "KEY123", "typ": "JWT"}
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other.public_key(), algorithms=["ES256"], audience="appstoreconnect-v1")


def test_app_store_connect_jwt_is_reused_then_renewed_before_expiry(ec_key):
    now = [1_700_000_000.0]
    auth = AppStoreConnectJWT("K", "iss", pem(ec_key), lifetime_s=600, clock=lambda: now[0])
    first = auth.token()
    now[0] += 500
    assert auth.token() == first  # still more than a minute left
    now[0] += 45
    second = auth.token()
    assert second != first
    claims = jwt.decode(second, options={"verify_signature": False})
    assert claims["iat"] == int(now[0]) and claims["exp"] == int(now[0]) + 600
    assert auth.refresh() is True and auth.token() != second
    assert first in auth.secrets() and second in auth.secrets()


def test_app_store_connect_individual_key_and_lifetime_limit(ec_key):
    auth = AppStoreConnectJWT("K", None, pem(ec_key), scope=["GET /v1/apps"])
    claims = jwt.decode(auth.token(), options={"verify_signature": False})
    assert claims["sub"] == "user" and "iss" not in claims
    assert claims["scope"] == ["GET /v1/apps"]
    with pytest.raises(ValueError, match="lifetime_s"):
        AppStoreConnectJWT("K", "iss", pem(ec_key), lifetime_s=21 * 60)
