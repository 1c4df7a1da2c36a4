"""Connector types by name, imported lazily so `chorus --help` stays instant."""

from __future__ import annotations

import importlib
from typing import Any

# type name -> "module:Class"
CONNECTORS: dict[str, str] = {
    "file_drop": "connectors.file_drop:FileDropConnector",
    "zendesk": "connectors.zendesk:ZendeskConnector",
    "intercom": "connectors.intercom:IntercomConnector",
    "freshdesk": "connectors.freshdesk:FreshdeskConnector",
    "app_store_rss": "connectors.apple:AppStoreRssConnector",
    "app_store_connect": "connectors.apple:AppStoreConnectReviewsConnector",
    "testflight": "connectors.apple:TestFlightConnector",
    "google_play": "connectors.google_play:GooglePlayConnector",
    "typeform": "connectors.typeform:TypeformConnector",
    "surveymonkey": "connectors.surveymonkey:SurveyMonkeyConnector",
    "qualtrics": "connectors.qualtrics:QualtricsConnector",
    "jira": "connectors.jira:JiraConnector",
    "github": "connectors.github:GitHubConnector",
    "slack": "connectors.slack:SlackConnector",
}


def connector_class(type_name: str) -> type:
    try:
        target = CONNECTORS[type_name]
    except KeyError:
        raise KeyError(f"unknown source type {type_name!r}; known: {sorted(CONNECTORS)}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


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
