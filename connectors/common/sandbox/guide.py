"""How to point every connector at a running sandbox: sources, credentials, environment.

One entry per connector type says which sandbox vendor serves it, which credentials it reads
and the ids the vendor's fixtures use (app id, form id, channels...). `chorus sandbox` prints
this; tests/connectors/test_sandbox_run.py runs the whole pipeline on the same config, so what is printed
is known to work.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

import yaml

from connectors.apple.sandbox import APP_ID
from connectors.common.sandbox.server import Sandbox
from connectors.github.sandbox import OWNER, REPO
from connectors.google_play.sandbox import PACKAGE
from connectors.qualtrics.sandbox import SURVEY_ID as QUALTRICS_SURVEY
from connectors.slack.sandbox import PRODUCT, SHARED
from connectors.surveymonkey.sandbox import SURVEY_ID as SURVEYMONKEY_SURVEY
from connectors.typeform.sandbox import FORM_ID

ENV_PREFIX = "CHORUS_SANDBOX"


@dataclass(frozen=True)
class SandboxSource:
    """One connector type as the sandbox serves it."""

    connector_type: str  # a name in connectors.common.registry.CONNECTORS
    vendor: str  # a name in connectors.common.sandbox.server.VENDORS
    credentials: tuple[str, ...] = ()  # the credential keys it reads
    options: dict[str, Any] = field(default_factory=dict)  # the ids it needs, nothing more


JWT_KEYS = ("key_id", "issuer_id", "private_key")

SOURCES: tuple[SandboxSource, ...] = (
    SandboxSource("zendesk", "zendesk", ("email", "api_token")),
    SandboxSource("intercom", "intercom", ("access_token",)),
    SandboxSource("freshdesk", "freshdesk", ("api_key",)),
    SandboxSource("app_store_rss", "apple", (), {"app_id": APP_ID}),  # a public feed
    SandboxSource("app_store_connect", "apple", JWT_KEYS, {"app_id": APP_ID}),
    SandboxSource("testflight", "apple", JWT_KEYS, {"app_id": APP_ID}),
    SandboxSource("google_play", "google_play", ("service_account",), {"package_name": PACKAGE}),
    SandboxSource("typeform", "typeform", ("access_token",), {"form_id": FORM_ID}),
    SandboxSource(
        "surveymonkey", "surveymonkey", ("access_token",), {"survey_id": SURVEYMONKEY_SURVEY}
    ),
    SandboxSource("qualtrics", "qualtrics", ("api_token",), {"survey_id": QUALTRICS_SURVEY}),
    SandboxSource("jira", "jira", ("email", "api_token")),
    SandboxSource("github", "github", ("token",), {"repository": f"{OWNER}/{REPO}"}),
    SandboxSource("slack", "slack", ("bot_token",), {"channels": [PRODUCT, SHARED]}),
)


def env_var(vendor: str, key: str) -> str:
    """The environment variable a sandbox credential is read from: CHORUS_SANDBOX_APPLE_KEY_ID."""
    return f"{ENV_PREFIX}_{vendor}_{key}".upper()


def sandbox_env(sandbox: Sandbox) -> dict[str, str]:
    """Every credential the sources read, by environment variable, for the vendors served."""
    return {
        env_var(s.vendor, key): sandbox.vendor(s.vendor).credentials[key]
        for s in SOURCES
        if s.vendor in sandbox.apps
        for key in s.credentials
    }


def sandbox_sources(sandbox: Sandbox) -> list[dict[str, Any]]:
    """One chorus.yaml source per connector type the sandbox serves (named after the type)."""
    return [
        {
            "name": s.connector_type,
            "type": s.connector_type,
            "base_url": sandbox.url(s.vendor),
            **({"credentials": {k: {"env": env_var(s.vendor, k)} for k in s.credentials}}
               if s.credentials else {}),
            **s.options,
        }
        for s in SOURCES
        if s.vendor in sandbox.apps
    ]  # fmt: skip


def sandbox_guide(sandbox: Sandbox) -> str:
    """What `chorus sandbox` prints: base URLs, credentials as shell exports, a config snippet."""
    lines = ["Vendors (base_url):"]
    lines += [f"  {name:<13} {sandbox.url(name)}" for name in sandbox.apps]
    lines += ["", "Credentials (invented; export them where chorus runs):"]
    lines += [f"  export {var}={shlex.quote(value)}" for var, value in sandbox_env(sandbox).items()]
    snippet = yaml.safe_dump({"sources": sandbox_sources(sandbox)}, sort_keys=False, width=100)
    lines += ["", "chorus.yaml (sources):", *(f"  {line}" for line in snippet.splitlines())]
    return "\n".join(lines)
