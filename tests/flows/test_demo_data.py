"""The bundled demo data: deterministic, parseable, realistic, with recoverable planted truths."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from flows.devtools.demo import catalog as cat
from flows.devtools.demo import generate_demo
from flows.devtools.demo.sandbox import render_config

EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
RECENT = [9, 10, 11, 12]
BEFORE = list(range(1, 9))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("demo")
    return generate_demo(out)


@pytest.fixture(scope="module")
def items(demo) -> list[dict[str, str]]:
    with open(demo.items_path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        created = datetime.strptime(row["created_at"], "%Y-%m-%dT%H:%M:%SZ").date()
        row["week"] = (created - demo.start).days // 7 + 1
    return rows


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _front_matter(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    end = text.index("\n---\n", 3)
    return yaml.safe_load(text[4:end]), text[end + 5 :]


def _vendor(demo, name: str) -> dict[str, list[dict]]:
    return json.loads((demo.vendors_dir / f"{name}.json").read_text(encoding="utf-8"))


def _answer(response: dict, ref: str):
    for answer in response["answers"]:
        if answer["field"]["ref"] == ref:
            return answer.get("text", answer.get("number"))
    return ""


def _unescape(slack_text: str) -> str:
    return slack_text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.fixture(scope="module")
def texts(demo) -> dict[tuple[str, str], str]:
    """(source kind, source id) -> the item's text as the connectors will see it."""
    out = {}
    for t in _vendor(demo, "zendesk")["tickets"]:
        out[("support", str(t["id"]))] = t["subject"] + "\n" + t["description"]
    apple = _vendor(demo, "apple")
    for r in apple["reviews"]:
        out[("review", r["id"])] = r["attributes"]["title"] + "\n" + r["attributes"]["body"]
    for kind, prefix in (("screenshots", "screenshot"), ("crashes", "crash")):
        for r in apple[kind]:
            out[("beta", f"{prefix}:{r['id']}")] = r["attributes"]["comment"]
    for r in _vendor(demo, "typeform")["responses"]:
        out[("survey", r["token"])] = _answer(r, "reason")
    for m in _vendor(demo, "slack")["messages"]:
        out[("internal", f"{m['_channel']}:{m['ts']}")] = _unescape(m["text"])
    for path in sorted((demo.inbox_dir / "notes").glob("*.md")):
        out[("notes", path.name)] = path.read_text(encoding="utf-8")
    return out


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_deterministic_per_seed(demo, tmp_path: Path) -> None:
    again = generate_demo(tmp_path / "again")
    assert _digests(demo.out_dir) == _digests(again.out_dir)
    other = generate_demo(tmp_path / "other", seed=8, n_items=2000)
    a, b = _digests(demo.out_dir), _digests(other.out_dir)
    assert a["customers.csv"] != b["customers.csv"]
    assert sum(a[k] != b.get(k) for k in a) > len(a) // 2


def test_volume_sources_and_weeks(demo, items) -> None:
    assert demo.n_items >= 6000 and len(items) == demo.n_items
    assert set(demo.counts) == {"support", "review", "survey", "beta", "internal", "notes"}
    shares = {k: v / demo.n_items for k, v in demo.counts.items()}
    expected = {kind: share for kind, share in cat.SOURCES.values()}
    for kind, share in expected.items():
        assert abs(shares[kind] - share) < 0.04, (kind, shares[kind])
    weeks = defaultdict(set)
    for row in items:
        weeks[row["source_kind"]].add(row["week"])
    assert all(weeks[k] == set(range(1, 13)) for k in demo.counts)
    assert demo.start == date(2026, 8, 31) and demo.end == date(2026, 11, 22)


def test_every_source_is_served_with_its_records(demo, items, texts) -> None:
    config = yaml.safe_load(render_config("http://127.0.0.1:9"))
    by_kind = Counter(row["source_kind"] for row in items)
    for source in config["sources"]:
        if source["type"] == "file_drop":
            files = sorted(demo.out_dir.glob(source["path"]))
            assert files, source["name"]
            for path in files:
                meta, body = _front_matter(path.read_text(encoding="utf-8"))
                assert {"title", "date", "account", "kind", "attendees"} <= set(meta)
                assert re.fullmatch(r"acc_\d{4}", meta["account"])
                assert body.lstrip().startswith("# ")
        else:
            vendor = source["base_url"].rsplit("/", 1)[1]
            assert (demo.vendors_dir / f"{vendor}.json").is_file(), source["name"]
    assert Counter(k for k, _ in texts) == by_kind
    truth_ids = {(row["source_kind"], row["source_id"]) for row in items}
    assert truth_ids == set(texts)
    paths = {row["path"].split("/")[0] for row in items}
    assert paths == {"vendors", "inbox"}


def test_customers_and_scd_rows(demo) -> None:
    header, rows = _read_csv(demo.customers_path)
    assert header == ["account_id", "account_name", "plan", "arr", "region", "lifecycle",
                      "persona", "target_market", "valid_from", "domains"]  # fmt: skip
    accounts = defaultdict(list)
    for row in rows:
        accounts[row["account_id"]].append(row)
        assert row["plan"] in cat.PLANS and row["region"] in cat.REGIONS
        assert (row["arr"] == "0") == (row["plan"] == "free")
        assert row["target_market"] in ("true", "false")
    assert 380 <= len(accounts) <= 420
    changed = {a: r for a, r in accounts.items() if len(r) > 1}
    assert 0.03 <= len(changed) / len(accounts) <= 0.07
    for history in changed.values():
        assert history[0]["valid_from"] < history[1]["valid_from"] >= demo.start.isoformat()
        assert history[0]["plan"] != history[1]["plan"] or history[1]["lifecycle"] == "at_risk"
    target = [r for r in rows if r["target_market"] == "true"]
    core = [
        r
        for r in target
        if r["plan"] in ("business", "enterprise") and r["region"] in ("NA", "EMEA")
    ]
    assert len(core) / len(target) > 0.75


def _weekly(items, theme: str, segment: str | None = None, exclude: str | None = None) -> list[int]:
    counts = [0] * 12
    for row in items:
        segs = row["segments"].split(";")
        if (
            row["theme"] != theme
            or (segment and segment not in segs)
            or (exclude and exclude in segs)
        ):
            continue
        counts[row["week"] - 1] += 1
    return counts


def _ratio(weekly: list[int]) -> float:
    before = sum(weekly[w - 1] for w in BEFORE) / len(BEFORE)
    after = sum(weekly[w - 1] for w in RECENT) / len(RECENT)
    return after / before


def test_planted_rising_theme_in_its_segment_only(items) -> None:
    assert _ratio(_weekly(items, "sso_login", "enterprise")) >= 2.5
    assert 0.6 <= _ratio(_weekly(items, "sso_login", exclude="enterprise")) <= 1.5
    assert _ratio(_weekly(items, "sso_login", "mid_market")) < 1.6
    assert _ratio(_weekly(items, "billing_vat", "emea")) >= 2.0
    assert _ratio(_weekly(items, "mobile_crash", "free")) >= 2.5
    assert 0.5 <= _ratio(_weekly(items, "mobile_crash", exclude="free")) <= 1.6


def test_stable_themes_stay_flat(items) -> None:
    for theme in ("slow_dashboards", "export_broken", "pricing", "praise"):
        assert 0.75 <= _ratio(_weekly(items, theme)) <= 1.3, theme


def test_emerging_fading_and_internal_push(items) -> None:
    ai = _weekly(items, "ai_assistant")
    assert sum(ai[:8]) == 0 and ai[8] > 0 and ai[11] > ai[8]
    reset = _weekly(items, "password_reset")
    assert sum(reset[:6]) / 6 >= 10 * max(0.1, sum(reset[6:]) / 6)
    sf = [r for r in items if r["theme"] == "salesforce_sync"]
    assert sum(r["source_kind"] == "internal" for r in sf) / len(sf) > 0.7


def test_mobile_crash_reviews_follow_release_530(demo, items) -> None:
    # App Store Connect reviews carry no app version: the truth keeps it
    versions = {r["source_id"]: r["app_version"] for r in items if r["source_kind"] == "review"}
    recent = [versions[r["source_id"]] for r in items
              if r["theme"] == "mobile_crash" and r["source_kind"] == "review" and r["week"] >= 9]  # fmt: skip
    assert sum(v.startswith("5.3.") for v in recent) / len(recent) > 0.8
    assert all(re.fullmatch(r"5\.[123]\.\d", v) for v in versions.values())


def test_planted_truth_file(demo) -> None:
    truth = json.loads(demo.planted_path.read_text(encoding="utf-8"))
    kinds = {t["kind"] for t in truth["trends"]}
    assert {"rising", "emerging", "fading", "internal_push"} <= kinds
    for trend in truth["trends"]:
        assert trend["theme"] in cat.THEMES and trend["keywords"] and trend["weeks"]
        assert set(trend["segments"]) <= set(cat.SEGMENTS)
    assert len(truth["distractors"][0]["accounts"]) == cat.SURVEY_FATIGUE_ACCOUNTS


def _luhn(number: str) -> bool:
    digits = [int(d) for d in re.sub(r"\D", "", number)][::-1]
    total = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)
    )
    return total % 10 == 0


def _iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    moved = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def test_pii_is_present_and_recorded(items, texts) -> None:
    assert all(_luhn(c) for c in cat.PII_CARDS) and all(_iban_ok(i) for i in cat.PII_IBANS)
    pii = {
        (r["source_kind"], r["source_id"]): set(filter(None, r["pii"].split(";"))) for r in items
    }
    share = sum(bool(k) for k in pii.values()) / len(pii)
    assert 0.02 <= share <= 0.06, share
    found = Counter(k for kinds in pii.values() for k in kinds)
    assert all(found[k] > 0 for k in ("email", "phone", "card", "iban")), found
    for key, text in texts.items():
        flat = re.sub(r"[\s-]", "", text)
        has_card = any(re.sub(r"\D", "", c) in flat for c in cat.PII_CARDS)
        has_iban = any(i.replace(" ", "") in flat for i in cat.PII_IBANS)
        has_phone = any(p in text for p in cat.PII_PHONES)
        assert has_card == ("card" in pii[key]), key
        assert has_iban == ("iban" in pii[key]), key
        assert has_phone == ("phone" in pii[key]), key
        if "email" in pii[key]:
            assert EMAIL.search(text), key
    notes_emails = sum(bool(EMAIL.search(t)) for (k, _), t in texts.items() if k != "support")
    assert notes_emails == sum("email" in pii[k] for k in texts if k[0] != "support")


def test_support_updates_are_served_at_their_latest_version(demo, items) -> None:
    tickets = {str(t["id"]): t for t in _vendor(demo, "zendesk")["tickets"]}
    assert len(tickets) == demo.counts["support"]
    updated = [r for r in items if r["source_kind"] == "support" and r["versions"] == "2"]
    assert len(updated) == demo.updates >= 50
    for row in updated:
        ticket = tickets[row["source_id"]]
        assert ticket["created_at"] == row["created_at"]
        created = datetime.strptime(ticket["created_at"], "%Y-%m-%dT%H:%M:%SZ")
        changed = datetime.strptime(ticket["updated_at"], "%Y-%m-%dT%H:%M:%SZ")
        assert (changed.date() - demo.start).days // 7 > (created.date() - demo.start).days // 7
        assert ticket["generated_timestamp"] == int(changed.replace(tzinfo=UTC).timestamp())


def test_truth_is_kept_outside_the_inbox(demo) -> None:
    assert demo.planted_path.parent == demo.out_dir / "truth"
    assert demo.inbox_dir not in demo.items_path.parents
    served = [
        p.name for d in (demo.inbox_dir, demo.vendors_dir) for p in d.rglob("*") if p.is_file()
    ]
    assert not any(name in ("planted.json", "items.csv") for name in served)
    config = yaml.safe_load(render_config("http://127.0.0.1:9"))
    assert all(s["path"].startswith("inbox/") for s in config["sources"] if "path" in s)
    assert all(s["base_url"].startswith("http://127.0.0.1:9/") for s in config["sources"]
               if s["type"] != "file_drop")  # fmt: skip
    assert [s["name"] for s in config["sources"]] == list(cat.SOURCES)
    assert config["customers"]["path"] == "customers.csv" and config["lake"] == "lake"


def test_only_invented_email_domains(demo) -> None:
    domains = Counter()
    for path in demo.out_dir.rglob("*"):
        if path.is_file():
            domains.update(
                m.group(1).lower() for m in EMAIL.finditer(path.read_text(encoding="utf-8"))
            )
    assert domains
    bad = [
        d for d in domains if not (d.endswith(".example") or d in ("example.com", "example.org"))
    ]
    assert not bad, bad
    assert domains[cat.COMPANY_DOMAIN] > 0


def test_survey_fatigue_and_empty_comments(demo) -> None:
    by_account: dict[str, list[datetime]] = defaultdict(list)
    comments = []
    for response in _vendor(demo, "typeform")["responses"]:
        by_account[response["hidden"]["account_id"]].append(
            datetime.strptime(response["submitted_at"], "%Y-%m-%dT%H:%M:%SZ")
        )
        comments.append(_answer(response, "reason"))
        assert 0 <= _answer(response, "nps") <= 10
        assert response["hidden"]["survey"] in ("quarterly_nps", "onboarding")
    fatigued = 0
    for times in by_account.values():
        times.sort()
        if any(sum(t <= s < t + timedelta(days=28) for s in times) >= 6 for t in times):
            fatigued += 1
    assert fatigued >= 10
    assert 0.03 <= sum(not c for c in comments) / len(comments) <= 0.08


def test_texts_vary_in_length_and_language(items, texts) -> None:
    lengths = sorted(len(t) for t in texts.values())
    assert lengths[len(lengths) // 20] < 30 and lengths[-len(lengths) // 20] > 600
    assert len(set(texts.values())) / len(texts) > 0.8
    langs = Counter(r["language"] for r in items if r["source_kind"] == "review")
    assert {"de", "fr", "es"} <= set(langs) and langs["en"] / sum(langs.values()) > 0.85
    noise = sum(r["theme"] == "noise" for r in items) / len(items)
    assert 0.03 <= noise <= 0.08
    assert len({r["theme"] for r in items} - {"noise"}) >= 18


def test_smaller_volume_and_argument_checks(tmp_path: Path) -> None:
    small = generate_demo(tmp_path / "small", n_items=1500, seed=3)
    assert small.n_items >= 1500 and all(small.counts.values())
    with pytest.raises(ValueError, match="weeks"):
        generate_demo(tmp_path / "bad", weeks=4)
