"""Vendor-shaped webhook payloads for the receiver tests (documented shapes, invented data)."""

from __future__ import annotations

from typing import Any

from connectors.typeform.sandbox import FORM_ID

# -- vendor-shaped payloads (documented shapes, invented data) ----------------------------------


def zendesk_ticket_created() -> dict[str, Any]:
    return {
        "type": "zen:event-type:ticket.created",
        "account_id": 12514403,
        "id": "2b24ef10-19d4-4740-93cf-8f98ec4776c0",
        "time": "2026-11-20T09:15:02Z",
        "zendesk_event_version": "2022-11-06",
        "subject": "zen:ticket:35436",
        "detail": {
            "actor_id": "20978392",
            "assignee_id": None,
            "brand_id": "123",
            "created_at": "2026-11-20T09:15:00Z",
            "custom_status": "1",
            "description": "Exporting the quarterly report to PDF hangs at 90 percent every time.",
            "external_id": None,
            "form_id": "6876543",
            "group_id": "98738",
            "id": "35436",
            "is_public": True,
            "organization_id": "509974",
            "priority": "HIGH",
            "requester_id": "20978392",
            "status": "NEW",
            "subject": "PDF export hangs",
            "submitter_id": "20978392",
            "tags": ["export", "pdf"],
            "type": "INCIDENT",
            "updated_at": "2026-11-20T09:15:00Z",
            "via": {"channel": "web_form"},
        },
        "event": {"meta": {"sequence": {"id": "CE4A698A", "position": 1, "total": 1}}},
    }


def zendesk_comment_added() -> dict[str, Any]:
    doc = zendesk_ticket_created()
    doc.update(
        type="zen:event-type:ticket.comment_added",
        id="5c1b2a94-0e1f-4c55-9f6a-7fb9d3f0d1aa",
        time="2026-11-20T10:02:11Z",
    )
    doc["detail"]["updated_at"] = "2026-11-20T10:02:11Z"
    doc["event"] = {
        "comment": {
            "id": "40123",
            "body": "Same with the yearly report, it never finishes.",
            "author": {"id": "20978392", "is_staff": False, "name": "Kim Park"},
            "is_public": True,
        }
    }
    return doc


def intercom_notification(topic: str = "conversation.user.replied") -> dict[str, Any]:
    return {
        "type": "notification_event",
        "app_id": "abc123",
        "data": {
            "type": "notification_event_data",
            "item": {
                "type": "conversation",
                "id": "5000001",
                "created_at": 1763900000,
                "updated_at": 1763900600,
                "title": None,
                "state": "open",
                "company_id": None,
                "source": {
                    "type": "conversation",
                    "id": "9001",
                    "delivered_as": "customer_initiated",
                    "subject": "",
                    "body": "<p>The CSV export times out for large workspaces.</p>",
                    "author": {"type": "user", "id": "6500abc", "name": "Ana"},
                },
                "contacts": {
                    "type": "contact.list",
                    "contacts": [{"type": "contact", "id": "6500abc", "external_id": "u-1"}],
                },
                "tags": {
                    "type": "tag.list",
                    "tags": [{"type": "tag", "id": "7", "name": "export"}],
                },
                "conversation_rating": None,
                "conversation_parts": {
                    "type": "conversation_part.list",
                    "conversation_parts": [
                        {
                            "type": "conversation_part",
                            "id": "77001",
                            "part_type": "comment",
                            "body": "<p>Still failing today with twenty thousand rows.</p>",
                            "created_at": 1763900600,
                            "updated_at": 1763900600,
                            "author": {"type": "user", "id": "6500abc"},
                        }
                    ],
                    "total_count": 1,
                },
            },
        },
        "links": {},
        "id": "notif_5c4a1e2b-0f3d-4a57-8a3a-3c1e5a7f9b21",
        "topic": topic,
        "delivery_status": "pending",
        "delivery_attempts": 1,
        "delivered_at": 0,
        "first_sent_at": 1763900601,
        "created_at": 1763900601,
        "self": None,
    }


def typeform_response() -> dict[str, Any]:
    """A submission of the sandbox's feedback form; the webhook definition has no scale steps."""
    fields = [
        ("Nps01", "How likely are you to recommend us?", "nps", "nps"),
        ("Csat01", "How satisfied are you overall?", "opinion_scale", "csat"),
        ("Better01", "What could we do better?", "long_text", "better"),
        ("Feat01", "Which features do you use?", "multiple_choice", "features"),
    ]
    return {
        "event_id": "01HZX3Q7Y4K1W8ZK0S5Q6M9B2C",
        "event_type": "form_response",
        "form_response": {
            "form_id": FORM_ID,
            "token": "a3a12ec67a1365927098a606107fac15",
            "landed_at": "2026-11-21T08:00:00Z",
            "submitted_at": "2026-11-21T08:03:12Z",
            "hidden": {"user_id": "u-881", "account_id": "acc_9"},
            "definition": {
                "id": FORM_ID,
                "title": "Product feedback",
                "fields": [
                    {"id": i, "title": t, "type": k, "ref": r, "allow_multiple_selections": False}
                    for i, t, k, r in fields
                ],
            },
            "answers": [
                {"type": "number", "number": 3, "field": {"id": "Nps01", "type": "nps"}},
                {"type": "number", "number": 4, "field": {"id": "Csat01", "type": "opinion_scale"}},
                {
                    "type": "text",
                    "text": "Offline mode for the mobile app, please.",
                    "field": {"id": "Better01", "type": "long_text"},
                },
                {
                    "type": "choices",
                    "choices": {"labels": ["Dashboards", "Exports"]},
                    "field": {"id": "Feat01", "type": "multiple_choice"},
                },
            ],
        },
    }


def github_issue(action: str = "opened") -> dict[str, Any]:
    return {
        "action": action,
        "issue": {
            "url": "https://api.github.com/repos/acme/widgets/issues/1347",
            "id": 1347,
            "node_id": "MDU6SXNzdWUxMzQ3",
            "number": 1347,
            "html_url": "https://github.com/acme/widgets/issues/1347",
            "title": "Offline mode loses my draft",
            "body": "<!-- template -->When the train enters a tunnel the app drops my unsent draft.",
            "state": "open",
            "user": {"login": "tester-octo", "id": 583231, "type": "User"},
            "labels": [{"name": "beta"}],
            "comments": 0,
            "created_at": "2026-11-23T09:12:00Z",
            "updated_at": "2026-11-23T09:12:00Z",
            "author_association": "NONE",
        },
        "repository": {"id": 1296269, "full_name": "acme/widgets"},
        "sender": {"login": "tester-octo", "id": 583231, "type": "User"},
    }


def github_comment() -> dict[str, Any]:
    doc = github_issue()
    doc["action"] = "created"
    doc["comment"] = {
        "url": "https://api.github.com/repos/acme/widgets/issues/comments/998",
        "html_url": "https://github.com/acme/widgets/issues/1347#issuecomment-998",
        "issue_url": "https://api.github.com/repos/acme/widgets/issues/1347",
        "id": 998,
        "user": {"login": "beta-bea", "id": 7, "type": "User"},
        "created_at": "2026-11-23T10:00:00Z",
        "updated_at": "2026-11-23T10:00:00Z",
        "author_association": "NONE",
        "body": "Same here on Android 15, drafts vanish after a reconnect.",
    }
    return doc


def slack_event(event_id: str = "Ev0FEEDBACK1", **event: Any) -> dict[str, Any]:
    message = {
        "type": "message",
        "channel": "C0FEEDBACK",
        "user": "U0ANA",
        "text": "The new filter is great but <https://example.com/x|exports> still lag :confused:",
        "ts": "1763900000.000100",
        "event_ts": "1763900000.000100",
        "channel_type": "channel",
        "team": "T0CUSTOMER",
        **event,
    }
    return {
        "token": "XXYYZZ",
        "team_id": "T0CUSTOMER",
        "api_app_id": "A0CHORUS",
        "event": message,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1763900000,
    }


PAYLOADS = {
    "zd": zendesk_ticket_created,
    "ic": intercom_notification,
    "tf": typeform_response,
    "gh": github_issue,
    "sl": slack_event,
}
