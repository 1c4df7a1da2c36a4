"""Connector types, and the vendors' webhook modules, by name; imported lazily so `chorus --help`
stays instant. Adding a source: its folder connectors/<vendor>/, one line in CONNECTORS (and one
in WEBHOOKS when the vendor pushes signed deliveries)."""

from __future__ import annotations

import importlib
from typing import Any

# type name -> "module:Class"
CONNECTORS: dict[str, str] = {
    "file_drop": "connectors.file_drop.connector:FileDropConnector",
    "zendesk": "connectors.zendesk.connector:ZendeskConnector",
    "intercom": "connectors.intercom.connector:IntercomConnector",
    "freshdesk": "connectors.freshdesk.connector:FreshdeskConnector",
    "app_store_rss": "connectors.apple.rss:AppStoreRssConnector",
    "app_store_connect": "connectors.apple.connect:AppStoreConnectReviewsConnector",
    "testflight": "connectors.apple.connect:TestFlightConnector",
    "google_play": "connectors.google_play.connector:GooglePlayConnector",
    "typeform": "connectors.typeform.connector:TypeformConnector",
    "surveymonkey": "connectors.surveymonkey.connector:SurveyMonkeyConnector",
    "qualtrics": "connectors.qualtrics.connector:QualtricsConnector",
    "jira": "connectors.jira.connector:JiraConnector",
    "github": "connectors.github.connector:GitHubConnector",
    "slack": "connectors.slack.connector:SlackConnector",
}

# type name -> "module:Webhook" (connectors.common.webhooks.Webhook), for `chorus serve`
WEBHOOKS: dict[str, str] = {
    "zendesk": "connectors.zendesk.webhook:WEBHOOK",
    "intercom": "connectors.intercom.webhook:WEBHOOK",
    "typeform": "connectors.typeform.webhook:WEBHOOK",
    "github": "connectors.github.webhook:WEBHOOK",
    "slack": "connectors.slack.webhook:WEBHOOK",
}


def resolve(target: str) -> Any:
    """The object a "module:name" entry of CONNECTORS or WEBHOOKS names (imported now)."""
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def connector_class(type_name: str) -> type:
    try:
        target = CONNECTORS[type_name]
    except KeyError:
        raise KeyError(f"unknown source type {type_name!r}; known: {sorted(CONNECTORS)}") from None
    return resolve(target)


def validate_source(source: Any) -> list[str]:
    """Problems with one source's config, as 'key: message' lines (empty when valid)."""
    if source.type not in CONNECTORS:
        import difflib

        close = difflib.get_close_matches(source.type, list(CONNECTORS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return [f"type: got {source.type!r}; expected one of {sorted(CONNECTORS)}{hint}"]
    return connector_class(source.type).option_errors(source)


def build_connector(source: Any, resolve_path: Any = None) -> Any:
    return connector_class(source.type)(source, resolve_path=resolve_path)
