"""The demo's vendor data: deterministic, one record per item, read back by the real connectors."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from connectors.common.registry import build_connector
from flows.devtools.demo import demo_items, generate_demo, run_demo_sandbox
from flows.devtools.demo.sandbox import CREDENTIAL_ENV, render_config
from flows.devtools.demo.vendor_data import REASON_QUESTION, VENDOR_OF, vendor_data
from flows.runtime.config import load_config

SEED, N_ITEMS = 5, 600
COLLECTION = {"support": ("zendesk", "tickets"), "review": ("apple", "reviews"),
              "survey": ("typeform", "responses"), "internal": ("slack", "messages")}  # fmt: skip


def _text_of(item) -> tuple[str, str]:
    """(title, text) the item had as generated (a ticket at its latest version)."""
    f = item.fields
    return {
        "support": lambda: (f["subject"], f["description"]),
        "review": lambda: (f["title"], f["body"]),
        "survey": lambda: (REASON_QUESTION if f["comment"] else "", f["comment"]),
        "beta": lambda: ("", f["comment"]),
        "internal": lambda: ("", f["text"]),
    }[item.kind]()


@pytest.fixture(scope="module")
def world():
    return demo_items(seed=SEED, n_items=N_ITEMS)


@pytest.fixture(scope="module")
def converted(world):
    return vendor_data(world.items)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return generate_demo(tmp_path_factory.mktemp("vendor-demo"), seed=SEED, n_items=N_ITEMS)


def test_conversion_is_deterministic(world, converted, tmp_path: Path) -> None:
    again = vendor_data(demo_items(seed=SEED, n_items=N_ITEMS).items)
    assert json.dumps(again.data, sort_keys=True) == json.dumps(converted.data, sort_keys=True)
    assert again.source_ids == converted.source_ids
    other = vendor_data(demo_items(seed=SEED + 1, n_items=N_ITEMS).items)
    assert json.dumps(other.data, sort_keys=True) != json.dumps(converted.data, sort_keys=True)

    def digests(out: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((out / "vendors").glob("*.json"))}  # fmt: skip

    first = generate_demo(tmp_path / "a", seed=SEED, n_items=N_ITEMS)
    second = generate_demo(tmp_path / "b", seed=SEED, n_items=N_ITEMS)
    assert digests(first.out_dir) == digests(second.out_dir)
    assert set(digests(first.out_dir)) == {
        "apple.json",
        "slack.json",
        "typeform.json",
        "zendesk.json",
    }


def test_every_item_is_exactly_one_vendor_record(world, converted) -> None:
    items = world.items
    kinds = Counter(i.kind for i in items)
    data = converted.data
    for kind, (vendor, collection) in COLLECTION.items():
        assert len(data[vendor][collection]) == kinds[kind], kind
    beta = data["apple"]["screenshots"] + data["apple"]["crashes"]
    assert len(beta) == kinds["beta"]
    ids = [s for s in converted.source_ids if s]
    assert len(ids) == len(set(ids)) == len(items) - kinds["notes"]
    assert [v for v in converted.vendors if v] == [
        VENDOR_OF[i.kind] for i in items if i.kind != "notes"
    ]
    # records per kind are in the items' order: pair them up and compare
    records = {kind: iter(data[v][c]) for kind, (v, c) in COLLECTION.items()}
    for item, sid in zip(items, converted.source_ids, strict=True):
        if item.kind in records:
            record = next(records[item.kind])
            if item.kind == "support":
                assert str(record["id"]) == sid == str(item.fields["id"])
                latest = {**item.fields, **(item.fields.get("_update") or {})}
                assert record["updated_at"] == latest["updated_at"]
                assert record["created_at"] == item.fields["created_at"]
                assert record["organization_id"] == item.account.account_id
                assert record["status"] == latest["status"]
                stars = latest["satisfaction_score"]
                if stars is not None:
                    assert record["satisfaction_rating"]["score"] == (
                        "good" if stars >= 4 else "bad"
                    )
            elif item.kind == "review":
                assert (
                    record["id"] == sid and record["attributes"]["rating"] == item.fields["rating"]
                )
            elif item.kind == "survey":
                assert record["token"] == sid
                assert record["hidden"]["account_id"] == item.account.account_id
                assert record["answers"][0]["number"] == item.fields["nps"]
            else:
                assert sid == f"C0PRODUCT01:{record['ts']}"
    builds = {b["id"] for b in data["apple"]["builds"]}
    testers = {t["id"] for t in data["apple"]["testers"]}
    for record in beta:
        assert record["relationships"]["build"]["data"]["id"] in builds
        assert record["relationships"]["tester"]["data"]["id"] in testers
    assert all(not k.startswith("_") for b in data["apple"]["builds"] for k in b)


def _connectors(config_path: Path) -> dict:
    """The real connector of every source in a demo config, as the ingest flow builds them."""
    cfg = load_config(config_path)
    return {s.name: build_connector(s, resolve_path=cfg.resolve) for s in cfg.sources}


def test_config_template_uses_real_connectors_and_no_secrets() -> None:
    text = render_config("http://127.0.0.1:9")
    config = yaml.safe_load(text)
    types = {s["name"]: s["type"] for s in config["sources"]}
    assert types == {"support_tickets": "zendesk", "app_store_reviews": "app_store_connect",
                     "nps_survey": "typeform", "testflight_beta": "testflight",
                     "sales_notes": "slack", "meeting_notes": "file_drop"}  # fmt: skip
    for source in config["sources"]:
        if source["type"] != "file_drop":
            assert source["base_url"].startswith("http://127.0.0.1:9/")
            assert all(set(ref) == {"env"} for ref in source["credentials"].values())
    assert "${SANDBOX}" not in text
    from connectors.common.sandbox.server import load_vendor

    for (vendor, key), _ in CREDENTIAL_ENV.items():
        secret = load_vendor(vendor).default_credentials[key]
        assert secret not in text


def test_connectors_read_the_demo_through_the_sandbox(world, demo) -> None:
    """Fetch every source over HTTP with the real connectors: one row per truth item, texts and
    times as generated; a second sandbox (another port) with the committed state gives nothing."""
    with open(demo.items_path, encoding="utf-8", newline="") as fh:
        truth = {(r["source"], r["source_id"]): r for r in csv.DictReader(fh)}
    assert len(truth) == demo.n_items
    by_id = {}
    converted = vendor_data(world.items)
    for item, sid in zip(world.items, converted.source_ids, strict=True):
        if sid:
            by_id[sid] = item
    states, rows = {}, {}
    env_before = {v: os.environ.get(v) for v in CREDENTIAL_ENV.values()}
    with run_demo_sandbox(demo) as config_path:
        assert all(os.environ.get(v) for v in CREDENTIAL_ENV.values())
        for name, connector in _connectors(config_path).items():
            state: dict = {}
            for batch in connector.fetch({}):
                for item in batch.items:
                    for row in connector.parse(item):
                        key = (name, row["source_id"])
                        assert key not in rows, key
                        rows[key] = row
                state = batch.state
            states[name] = state
    assert {v: os.environ.get(v) for v in CREDENTIAL_ENV.values()} == env_before
    assert set(rows) == set(truth)
    for key, row in rows.items():
        expected = datetime.strptime(truth[key]["created_at"], "%Y-%m-%dT%H:%M:%SZ")
        if key[0] == "meeting_notes":  # front matter holds the date only
            assert row["created_at"].date() == expected.date(), key
            continue
        assert row["created_at"] == expected.replace(tzinfo=UTC), key
        item = by_id[key[1]]
        title, text = _text_of(item)
        assert (row["title"] or "") == title, key
        assert row["text"] == text, key
        account = truth[key]["account_id"] or None
        if key[0] in ("support_tickets", "nps_survey"):
            assert row["account_id"] == account, key
        if key[0] == "app_store_reviews":
            assert row["rating_raw"] == item.fields["rating"]
        if key[0] == "nps_survey":
            assert row["nps"] == item.fields["nps"]
        if key[0] == "sales_notes":
            assert row["is_internal"] is True
        if key[0] == "testflight_beta":
            assert row["app_version"] == item.fields["app_version"].split("(")[1].rstrip(")")
    assert "http://127.0.0.1" not in json.dumps(states)  # committed cursors hold no URL

    with run_demo_sandbox(demo) as config_path:
        for name, connector in _connectors(config_path).items():
            assert not [i for b in connector.fetch(states[name]) for i in b.items], name


def test_half_finished_runs_follow_the_sandbox_to_its_new_port(demo) -> None:
    """A next-page URL left in lake/_state by an interrupted run is moved to the new port."""
    from flows.lake.store import Lake

    old = "http://127.0.0.1:1"  # as if the last run's sandbox had listened on port 1
    demo.config_path.write_text(render_config(old), encoding="utf-8")
    lake = Lake(str(demo.out_dir / "lake"))
    token = {
        "paginator": "NextUrlPaginator",
        "url": f"{old}/apple/v1/apps/1234567890/customerReviews",
    }
    run = {"next": token, "done": False, "cursor": None, "children": []}
    lake.write_state("ingest/app_store_reviews", {"endpoints": {"customer_reviews": {"run": run}}})
    with run_demo_sandbox(demo) as config_path:
        new = yaml.safe_load(config_path.read_text())["sources"][1]["base_url"]
        state = lake.read_state("ingest/app_store_reviews")
    assert new.startswith("http://127.0.0.1:") and not new.startswith(old + "/")
    assert state["endpoints"]["customer_reviews"]["run"]["next"]["url"].startswith(new + "/v1/")
