"""The demo items as vendor data: what the local sandbox serves to the real connectors.

`vendor_data(items)` turns rendered, id-carrying demo items into the records each vendor's
API returns, shaped as connectors/common/sandbox/<vendor>.py stores them, and says which source_id
the connector will give each item (truth/items.csv joins the lake on it):

| source kind | vendor, collection                                    | connector source_id          |
|-------------|-------------------------------------------------------|------------------------------|
| support     | zendesk tickets (incremental ticket export)           | ticket id                    |
| review      | apple reviews (App Store Connect customerReviews)     | review id                    |
| survey      | typeform responses of one NPS form                    | response token               |
| beta        | apple screenshots / crashes (TestFlight feedback)     | "screenshot:<id>"/"crash:<id>" |
| internal    | slack messages in an internal channel                 | "<channel>:<ts>"             |
| notes       | none: Markdown files read by the file_drop connector  | file name                    |

Vendor ids are derived from the demo's own ids by hashing, so the same seed gives the same
data. What a vendor cannot carry is dropped here and kept in the truth files only: Zendesk
CSAT is good/bad (4-5 stars good, 1-3 bad), App Store Connect reviews have no app version,
TestFlight knows the build number but not the marketing version, and neither TestFlight
feedback nor Slack messages name the customer's account.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flows.devtools.demo.schedule import Item

VENDOR_OF = {"support": "zendesk", "review": "apple", "survey": "typeform", "beta": "apple",
             "internal": "slack"}  # fmt: skip
VENDORS = ("zendesk", "apple", "typeform", "slack")

ZENDESK_SUBDOMAIN = "chorus-demo"
APP_ID = "1234567890"  # the Apple sandbox's app
BUNDLE_ID = "com.example.chorus"
FORM_ID = "ChorusNps26"
SLACK_CHANNEL = "C0PRODUCT01"  # the Slack sandbox's internal channel (#product-feedback)
SLACK_TEAM = "T0OURTEAM1"  # our own workspace
PACIFIC = timezone(timedelta(hours=-7))  # App Store Connect writes times with Apple's offset
NPS_QUESTION = "How likely are you to recommend Chorus to a friend or colleague?"
REASON_QUESTION = "What is the main reason for your score?"
SURVEYS = {"Quarterly NPS": "quarterly_nps", "Onboarding CSAT": "onboarding"}
DEVICE_MODELS = {"iPhone 17 Pro": "iPhone18,1", "iPhone 16 Pro": "iPhone17,1",
                 "iPhone 15": "iPhone15,4", "iPhone 14": "iPhone14,7",
                 "iPhone 13 mini": "iPhone14,4", "iPhone SE (3rd gen)": "iPhone14,6",
                 "iPad Pro 13-inch (M4)": "iPad16,5", "iPad Air (5th gen)": "iPad13,16"}  # fmt: skip


@dataclass(frozen=True)
class VendorData:
    """Per vendor its collections of records; per item (same order) the connector's source_id."""

    data: dict[str, dict[str, list[dict[str, Any]]]]
    source_ids: list[str]  # "" for notes (the file name is given when the file is written)
    vendors: list[str]  # per item, "" for notes


def vendor_data(items: list[Item]) -> VendorData:
    """The sandbox data for the demo items (rendered, with demo ids assigned)."""
    conv = _Converter()
    source_ids, vendors = [], []
    for item in items:
        if item.kind == "notes":
            source_ids.append("")
            vendors.append("")
            continue
        source_ids.append(getattr(conv, item.kind)(item))
        vendors.append(VENDOR_OF[item.kind])
    return VendorData(conv.finish(), source_ids, vendors)


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def _uuid(*parts: object) -> str:
    h = _digest(*parts)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pacific(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=PACIFIC).isoformat()


def zendesk_user_id(email: str) -> int:
    """A stable Zendesk user id for a requester's e-mail address."""
    return 360_000_000_000 + int(_digest("zendesk-user", email.lower())[:12], 16) % 10**11


def slack_user_id(email: str) -> str:
    """A stable Slack member id (U + 10 upper-case characters) for a colleague's address."""
    h = int(_digest("slack-user", email.lower())[:16], 16)
    return "U" + "".join("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[h // 36**i % 36] for i in range(10))


def typeform_token(response_id: str) -> str:
    """A Typeform response token (32 lower-case alphanumerics) for a demo response id."""
    return _digest("typeform", response_id)[:32]


def slack_escape(text: str) -> str:
    """Text as Slack sends it: &, < and > escaped (the connector turns them back)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def csat_score(stars: int | None, status: str) -> str:
    """Zendesk's CSAT answer for a 1-5 score: good (4-5), bad (1-3); offered/unoffered if none."""
    if stars is None:
        return "offered" if status in ("solved", "closed") else "unoffered"
    return "good" if stars >= 4 else "bad"


def build_number(app_version: str) -> tuple[str, str]:
    """("5.4.0", "1195") from TestFlight's display form "5.4.0 (1195)"."""
    marketing, _, rest = app_version.partition(" (")
    return marketing, rest.rstrip(")") or marketing


class _Converter:
    """Collects the records per vendor while items are converted one by one (in time order)."""

    def __init__(self) -> None:
        self.store: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.builds: dict[str, dict[str, Any]] = {}
        self.uploaded: dict[str, int] = {}  # build id -> upload time (epoch)
        self.testers: dict[str, dict[str, Any]] = {}
        self.slack_per_second: dict[int, int] = defaultdict(int)
        self.typeform_n = 0

    def finish(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        apple = self.store["apple"]
        apple["builds"] = sorted(self.builds.values(), key=lambda b: b["id"])
        apple["testers"] = sorted(self.testers.values(), key=lambda t: t["id"])
        for key in ("reviews", "screenshots", "crashes", "rss"):
            apple.setdefault(key, [])
        self.store["typeform"]["forms"] = [form_definition()]
        self.store["zendesk"].setdefault("comments", [])
        self.store["zendesk"].setdefault("ratings", [])
        return {v: {k: list(rows) for k, rows in sorted(self.store[v].items())} for v in VENDORS}

    # -- Zendesk ----------------------------------------------------------------------------
    def support(self, item: Item) -> str:
        """The ticket at its latest version (an update replaces status, tags and CSAT)."""
        f = {**item.fields, **(item.fields.get("_update") or {})}
        tid = int(f["id"])
        updated = _epoch(f["updated_at"])
        requester = zendesk_user_id(f["requester_email"])
        score = csat_score(f.get("satisfaction_score"), f["status"])
        rating: dict[str, Any] = {"score": score}
        if score in ("good", "bad"):
            rid = 7_000_000 + tid
            rating = {"id": rid, "score": score, "comment": ""}
            url = f"https://{ZENDESK_SUBDOMAIN}.zendesk.com/api/v2/satisfaction_ratings/{rid}.json"
            self.store["zendesk"]["ratings"].append(
                {"id": rid, "url": url, "assignee_id": None, "group_id": None,
                 "requester_id": requester, "ticket_id": tid, "score": score, "comment": "",
                 "reason": None, "created_at": f["updated_at"], "updated_at": f["updated_at"]}
            )  # fmt: skip
        self.store["zendesk"]["tickets"].append(
            {
                "id": tid,
                "url": f"https://{ZENDESK_SUBDOMAIN}.zendesk.com/api/v2/tickets/{tid}.json",
                **dict.fromkeys(("external_id", "type", "priority", "assignee_id", "group_id")),
                "subject": f["subject"],
                "raw_subject": f["subject"],
                "description": f["description"],
                "status": f["status"],
                "requester_id": requester,
                "submitter_id": requester,
                # the account id as the organization: customers.csv keys accounts by it
                "organization_id": f["organization_id"],
                "tags": list(f["tags"]),
                "via": {"channel": f["via"]},
                "satisfaction_rating": rating,
                "created_at": f["created_at"],
                "updated_at": f["updated_at"],
                "generated_timestamp": updated,
            }
        )
        return str(tid)

    # -- App Store Connect customer reviews -------------------------------------------------
    def review(self, item: Item) -> str:
        f = item.fields
        rid = _uuid("asc-review", f["review_id"])
        at = _epoch(f["date"])
        self.store["apple"]["reviews"].append(
            {
                "type": "customerReviews",
                "id": rid,
                "attributes": {
                    "rating": int(f["rating"]),
                    "title": f["title"],
                    "body": f["body"],
                    "reviewerNickname": f["reviewer_nickname"],
                    "createdDate": _pacific(at),
                    "territory": f["territory"],
                },
                "_epoch": at,
            }
        )
        return rid

    # -- TestFlight beta feedback -----------------------------------------------------------
    def beta(self, item: Item) -> str:
        f = item.fields
        kind = "crashes" if item.theme == "mobile_crash" else "screenshots"
        sid = _uuid("testflight", f["feedback_id"])
        at = _epoch(f["timestamp"])
        build = self._build(f["app_version"], at)
        tester = self._tester(item, f["tester_email"])
        device = f["device_model"]
        attrs: dict[str, Any] = {
            "createdDate": _pacific(at),
            "comment": f["comment"],
            "email": f["tester_email"],
            "deviceModel": DEVICE_MODELS.get(device, device),
            "osVersion": f["os_version"].split(" ", 1)[-1],
            "locale": "en-US",
            "timeZone": "UTC",
            "architecture": "arm64e",
            "connectionType": "WIFI",
            "batteryPercentage": 20 + int(_digest("battery", sid)[:4], 16) % 80,
            "appPlatform": "IOS",
            "devicePlatform": "IOS",
            "deviceFamily": "IPAD" if device.startswith("iPad") else "IPHONE",
            "buildBundleId": BUNDLE_ID,
        }
        if kind == "screenshots":
            attrs["screenshots"] = [
                {
                    "url": f"https://tf-feedback.example/{sid}.png",
                    "width": 1179,
                    "height": 2556,
                    "expirationDate": _pacific(at + 86400),
                }
            ]
        self.store["apple"][kind].append(
            {
                "type": "betaFeedbackScreenshotSubmissions"
                if kind == "screenshots"
                else "betaFeedbackCrashSubmissions",
                "id": sid,
                "attributes": attrs,
                "relationships": {
                    "build": {"data": {"type": "builds", "id": build}},
                    "tester": {"data": {"type": "betaTesters", "id": tester}},
                },
                "_epoch": at,
            }
        )
        return f"{'crash' if kind == 'crashes' else 'screenshot'}:{sid}"

    def _build(self, app_version: str, at: int) -> str:
        marketing, number = build_number(app_version)
        bid = _uuid("build", app_version)
        uploaded = at - 3600
        if bid not in self.builds or uploaded < self.uploaded[bid]:
            self.uploaded[bid] = uploaded
            self.builds[bid] = {
                "type": "builds",
                "id": bid,
                "attributes": {
                    "version": number,  # CFBundleVersion: the build number
                    "uploadedDate": _pacific(uploaded),
                    "expired": False,
                    "minOsVersion": "17.0",
                    "processingState": "VALID",
                },
                "relationships": {
                    "preReleaseVersion": {
                        "data": {"type": "preReleaseVersions", "id": _uuid("pre", marketing)}
                    }
                },
            }
        return bid

    def _tester(self, item: Item, email: str) -> str:
        tid = _uuid("tester", email.lower())
        if tid not in self.testers:
            first = item.contact.first if item.contact else ""
            last = item.contact.last if item.contact else ""
            self.testers[tid] = {
                "type": "betaTesters",
                "id": tid,
                "attributes": {
                    "firstName": first,
                    "lastName": last,
                    "email": email,
                    "inviteType": "EMAIL",
                    "state": "ACCEPTED",
                },  # fmt: skip
            }
        return tid

    # -- Typeform -------------------------------------------------------------------------
    def survey(self, item: Item) -> str:
        f = item.fields
        token = typeform_token(f["response_id"])
        at = _epoch(f["submitted_at"])
        self.typeform_n += 1
        answers: list[dict[str, Any]] = [
            {"field": {"id": "NpsScore01", "type": "nps", "ref": "nps"},
             "type": "number", "number": int(f["nps"])}
        ]  # fmt: skip
        if f["comment"]:
            answers.append(
                {"field": {"id": "NpsReason01", "type": "long_text", "ref": "reason"},
                 "type": "text", "text": f["comment"]}
            )  # fmt: skip
        self.store["typeform"]["responses"].append(
            {
                "landing_id": token,
                "token": token,
                "response_id": token,
                "landed_at": _iso(at - 30 - int(token[:4], 16) % 600),
                "submitted_at": f["submitted_at"],
                "metadata": {
                    "user_agent": "Mozilla/5.0",
                    "platform": "other",
                    "referer": f"https://chorus-demo.typeform.example/to/{FORM_ID}",
                    "network_id": token[-10:],
                    "browser": "default",
                },  # fmt: skip
                "hidden": {
                    "account_id": f["account_id"],
                    "email": f["respondent_email"],
                    "survey": SURVEYS[f["survey"]],
                },
                "calculated": {"score": 0},
                "answers": answers,
                "_seq": self.typeform_n,
                "_form_id": FORM_ID,
            }
        )
        return token

    # -- Slack ----------------------------------------------------------------------------
    def internal(self, item: Item) -> str:
        f = item.fields
        at = _epoch(f["logged_at"])
        # Slack ts are unique per channel: a second message in the same second gets .000001
        ts = f"{at}.{self.slack_per_second[at]:06d}"
        self.slack_per_second[at] += 1
        self.store["slack"]["messages"].append(
            {
                "type": "message",
                "text": slack_escape(f["text"]),
                "ts": ts,
                "user": slack_user_id(f["author_email"]),
                "team": SLACK_TEAM,
                "user_team": SLACK_TEAM,
                "_channel": SLACK_CHANNEL,
            }
        )
        return f"{SLACK_CHANNEL}:{ts}"


def form_definition() -> dict[str, Any]:
    """The demo's Typeform: an NPS question, an open "why" question, three hidden fields."""
    return {
        "id": FORM_ID,
        "title": "Chorus customer survey",
        "type": "form",
        "hidden": ["account_id", "email", "survey"],
        "fields": [
            {"id": "NpsScore01", "ref": "nps", "title": NPS_QUESTION, "type": "nps",
             "properties": {}, "validations": {"required": True}},
            {"id": "NpsReason01", "ref": "reason", "title": REASON_QUESTION,
             "type": "long_text", "properties": {}, "validations": {"required": False}},
        ],
        "_links": {"display": f"https://chorus-demo.typeform.example/to/{FORM_ID}"},
    }  # fmt: skip
