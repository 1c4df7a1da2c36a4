"""Bad input, fuzzed with hypothesis: every item becomes a canonical row with the right UTC time
or is quarantined with a reason, and no page a vendor sends can crash a run or commit half of it.

- Vendor pages (a Zendesk-shaped API on 127.0.0.1): truncated JSON, an HTML error page with 200,
  a wrong top-level type, bytes that are not UTF-8, missing pagination fields -> an error naming
  the source and the URL (or, for missing paging fields, a clean stop), the cursor never past
  what landed, and a re-run once the API is fixed lands every record exactly once.
- Items (file-drop JSON Lines through the real ingest and process steps): wrong types, missing
  fields, 1 MB texts, lone surrogates, emoji, right-to-left and mixed scripts, empty and
  whitespace texts, dates as epoch seconds/ms, ISO with odd offsets, "2026-11-24 10:00:00
  +0530", RFC 2822, ISO weeks, day-first, naive.
- Files (CSV and JSON Lines) with bytes that are not UTF-8, a BOM, NUL bytes.

How many examples ran in total is printed at the end of the module ("fuzz examples run: N") and
written to fuzz_examples.txt in pytest's base temp folder.
"""

from __future__ import annotations

import email.utils
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.httpserver import LocalServer, Reply, Seen

pytestmark = pytest.mark.slow
RUN: dict[str, int] = {}  # examples run, per test
CHECKED = {"row dates": 0, "rows": 0, "quarantined": 0}  # what the item examples came to
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


def ran(test: str) -> None:
    RUN[test] = RUN.get(test, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def count_examples(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    yield
    total = sum(RUN.values())
    line = f"fuzz examples run: {total} ({', '.join(f'{k} {v}' for k, v in sorted(RUN.items()))})"
    line += "; items: " + ", ".join(f"{v} {k}" for k, v in CHECKED.items())
    (tmp_path_factory.getbasetemp() / "fuzz_examples.txt").write_text(line + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown even when output is captured
            reporter.write_line("\n" + line)


# ---- a vendor API that sends bad pages ----------------------------------------------------
PAGES = [
    [
        {"id": i, "status": "open", "subject": f"Ticket {i}", "description": f"Text {i}"}
        | {"created_at": f"2026-10-0{i}T10:00:00Z", "updated_at": f"2026-10-0{i}T11:00:00Z"}
        for i in (2 * k + 1, 2 * k + 2)
    ]
    for k in range(3)
]
TICKETS = "/api/v2/incremental/tickets/cursor.json"


class Vendor:
    """Three pages of two tickets; `bad` = (page, kind, detail) spoils one of them."""

    def __init__(self) -> None:
        self.bad: tuple[int, str, Any] | None = None
        self.server = LocalServer(self.handle)

    def body(self, k: int) -> dict[str, Any]:
        page = PAGES[k] if k < len(PAGES) else []
        return {"tickets": page, "after_cursor": f"c{k + 1}", "end_of_stream": k >= len(PAGES) - 1}

    def handle(self, seen: Seen) -> Reply:
        if seen.path.endswith("/comments.json"):
            return Reply(body={"comments": [], "meta": {"has_more": False}})
        if seen.path != TICKETS:
            return Reply(404, {"error": "InvalidEndpoint"})
        cursor = seen.q("cursor")
        k = int(cursor[1:]) if cursor else 0
        body = self.body(k)
        if self.bad is None or self.bad[0] != k:
            return Reply(body=body)
        kind, detail = self.bad[1], self.bad[2]
        text = json.dumps(body)
        if kind == "truncated":
            return Reply(body=text[: max(1, int(len(text) * detail))])
        if kind == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
            return Reply(body=page, headers={"Content-Type": "text/html"})
        if kind == "not_utf8":
            return Reply(body=text.encode()[:20] + detail + text.encode()[20:])
        if kind == "wrong_type":
            return Reply(body=json.dumps(detail))
        return Reply(body={k: v for k, v in body.items() if k not in detail})  # no paging fields


BAD_PAGES = st.tuples(
    st.integers(0, 2),
    st.sampled_from(["truncated", "html", "not_utf8", "wrong_type", "no_paging"]),
).flatmap(
    lambda pk: st.tuples(
        st.just(pk[0]),
        st.just(pk[1]),
        {
            "truncated": st.floats(0.01, 0.99),
            "html": st.none(),
            "not_utf8": st.sampled_from([b"\xff", b"\xc3\x28", b"\x80", b"\xed\xa0\x80"]),
            "wrong_type": st.sampled_from([[], [1, 2], "tickets", 42, None, True, PAGES[0]]),
            "no_paging": st.sampled_from(
                [("after_cursor",), ("end_of_stream",), ("after_cursor", "end_of_stream")]
            ),
        }[pk[1]],
    )
)


@pytest.fixture(scope="module")
def vendor() -> Iterator[Vendor]:
    v = Vendor()
    with pytest.MonkeyPatch.context() as mp:
        from connectors.common.registry import connector_class
        from flows import ingest

        mp.setenv("FUZZ_ZD_EMAIL", "fuzz@example.com")
        mp.setenv("FUZZ_ZD_TOKEN", "not-a-secret")
        quick = {"sleep": lambda s: None, "max_retries": 1}  # no sleeping, only one retry
        mp.setattr(
            ingest,
            "build_connector",
            lambda source, resolve_path=None: connector_class(source.type)(
                source,
                resolve_path=resolve_path,
                **({"http": quick} if source.type == "zendesk" else {}),
            ),
        )
        yield v
    v.server.close()


def landed_ticket_ids(lake: Path) -> list[int]:
    from flows.lake.store import Lake

    lk = Lake(str(lake))
    return [
        i["id"] for b in lk.raw_batches() for i in lk.read_raw(b)["items"] if "_parent" not in i
    ]


@FUZZ
@given(bad=BAD_PAGES)
def test_a_bad_page_fails_clearly_and_commits_nothing_past_what_landed(vendor, bad) -> None:
    from connectors.common.http.errors import SourceError
    from flows.ingest import ingest_source
    from flows.runtime.config import load_config

    ran("vendor pages")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "chorus.yaml"
        creds = {"email": {"env": "FUZZ_ZD_EMAIL"}, "api_token": {"env": "FUZZ_ZD_TOKEN"}}
        source = {"name": "zd", "type": "zendesk", "base_url": vendor.server.url}
        source |= {"credentials": creds, "endpoints": ["tickets"]}
        config.write_text(yaml.safe_dump({"lake": "lake", "sources": [source]}))
        page, kind, _ = bad
        vendor.bad = bad
        try:
            ingest_source.fn(load_config(config), "zd")
        except SourceError as exc:
            assert kind != "no_paging", exc
            message = str(exc)
            assert "source 'zd'" in message and vendor.server.url in message, message
            assert TICKETS in message, message
            landed = landed_ticket_ids(Path(tmp) / "lake")
            assert sorted(landed) == [t["id"] for p in PAGES[:page] for t in p]  # none past it
        else:
            assert kind == "no_paging", f"{kind} on page {page} was accepted"
        vendor.bad = None  # the vendor fixed it: the re-run lands the rest, each record once
        ingest_source.fn(load_config(config), "zd")
        landed = landed_ticket_ids(Path(tmp) / "lake")
        assert sorted(landed) == [t["id"] for p in PAGES for t in p], landed


# ---- items: every one a correct row or quarantined with a reason ------------------------------
OFFSETS = st.integers(-48, 56).map(lambda q: timezone(timedelta(minutes=15 * q)))
INSTANTS = st.datetimes(datetime(2001, 1, 1), datetime(2026, 1, 1)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
)


def _midnight(d: datetime) -> datetime:
    return d.replace(hour=0, minute=0)


RENDER = {  # format -> (value for the item, the UTC instant it means)
    "iso_z": lambda d, tz: (d.strftime("%Y-%m-%dT%H:%M:%SZ"), d),
    "iso_offset": lambda d, tz: (d.astimezone(tz).isoformat(), d),
    "space_offset": lambda d, tz: (d.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z"), d),
    "rfc2822": lambda d, tz: (email.utils.format_datetime(d.astimezone(tz)), d),
    "epoch_s": lambda d, tz: (int(d.timestamp()), d),
    "epoch_ms": lambda d, tz: (int(d.timestamp() * 1000), d),
    "epoch_str": lambda d, tz: (str(int(d.timestamp())), d),
    "naive": lambda d, tz: (d.strftime("%Y-%m-%d %H:%M:%S"), d),
    "iso_week": lambda d, tz: (d.strftime("%G-W%V-%u"), _midnight(d)),
    "day_first": lambda d, tz: (d.strftime("%d/%m/%Y %H:%M"), d),
    "day_first_date": lambda d, tz: (d.strftime("%d/%m/%Y"), _midnight(d)),
    "dotted_date": lambda d, tz: (d.strftime("%d.%m.%Y"), _midnight(d)),
}
DATES = st.tuples(st.sampled_from(sorted(RENDER)), INSTANTS, OFFSETS).map(
    lambda f: RENDER[f[0]](f[1], f[2])
)
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=4,
)
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
SPECIAL = [
    "",
    "   \t\n\u00a0\u200b ",
    "😡 the app crashes 👍🏽 👨‍👩‍👧 again",
    "التطبيق يتعطل عند فتح الملف",
    "האפליקציה קורסת",
    "Export fails – 导出失败 – エクスポート失敗 – Экспорт не работает – مرحبا",
    "e\u0301\u0301\u0301 zalgo t\u0337\u0334e\u0336x\u0335t",
    "nul \x00 byte and \x1b[31m escape",
    "\u202eright-to-left override\u202c and \u2066isolate\u2069",
    "half an emoji \ud83d and a lone \udc00 surrogate",  # as JSON's "\\ud83d" decodes
]
TEXTS = st.one_of(
    st.sampled_from(SPECIAL),
    st.sampled_from(SPECIAL),
    st.text(max_size=40),
    st.lists(st.one_of(st.characters(), SURROGATE), min_size=1, max_size=20).map("".join),
    st.sampled_from([199_990, 1_000_000]).map(lambda n: ("Slow export again. " * n)[:n]),
    JUNK,
)
FIELDS = {  # canonical column -> JSON key, as in the config below
    "source_id": "id", "created_at": "created", "updated_at": "updated", "title": "subject",
    "text": "body", "account_id": "org", "customer_id": "email", "rating": "score", "nps": "nps",
    "tags": "tags",
}  # fmt: skip
ITEMS = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.one_of(st.integers(1, 10**6).map(str), st.integers(1, 10**6).map(str), JUNK),
            "body": TEXTS,
            "created": st.one_of(DATES, DATES, DATES, JUNK),  # a (value, truth) pair, or junk
        },
        optional={  # mostly valid, so that rows get through to the lake; junk now and then
            "updated": st.one_of(DATES, DATES, JUNK),
            "subject": TEXTS,
            "org": st.one_of(st.sampled_from(["acc_1", "acc_ü", "acc_\U0001f600"]), TEXTS),
            "email": st.one_of(st.emails(), st.emails(), SURROGATE, JUNK),
            "score": st.one_of(st.integers(1, 5), st.integers(-2, 7), st.floats(), st.text()),
            "nps": st.one_of(st.integers(0, 10), st.integers(0, 10), JUNK),
            "tags": st.one_of(
                st.lists(TEXTS.filter(lambda t: isinstance(t, str)), max_size=3), JUNK
            ),
        },
    ),
    min_size=1,
    max_size=6,
)


@pytest.fixture(scope="module")
def processing():
    """The real ingest step and processing flow (under a temporary Prefect API, without flow
    run heartbeats: each run would wait up to a second for its heartbeat thread), the quality
    gate passing rows through (seconds a run; tests/lake/test_reconcile.py runs it for real),
    the embedding model loaded once."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from flows.processing import quality_gate

    class PassThrough:
        def __init__(self, *args: object) -> None:
            pass

        def warm_up(self) -> None:
            pass

        def check(self, batches, rows, table, stats, done):  # noqa: ANN001
            return table

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setattr(quality_gate, "QualityGate", PassThrough)
        yield


def run_drop(
    tmp: Path, name: str, data: bytes, fmt: str
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Drop one file, ingest and process it: (stats, feedback rows, quarantine rows)."""
    from flows.ingest import ingest_source
    from flows.process import process
    from flows.runtime.config import load_config

    (tmp / "inbox").mkdir(exist_ok=True)
    (tmp / "inbox" / name).write_bytes(data)
    cols = FIELDS if fmt == "jsonl" else {k: v for k, v in FIELDS.items() if k != "tags"}
    source = {"name": "fz", "type": "file_drop", "source_kind": "support", "format": fmt}
    source |= {"path": f"inbox/*.{fmt}", "columns": cols, "rating_scale": [1, 5]}
    (tmp / "chorus.yaml").write_text(yaml.safe_dump({"lake": "lake", "sources": [source]}))
    config = str(tmp / "chorus.yaml")
    ingest_source.fn(load_config(config), "fz")
    stats = process(config)
    lake = tmp / "lake"
    fb = pd.read_parquet(lake / "feedback") if (lake / "feedback").exists() else pd.DataFrame()
    q = pd.read_parquet(lake / "quarantine") if (lake / "quarantine").exists() else pd.DataFrame()
    return stats, fb, q


def accounted(stats: dict, fb: pd.DataFrame, q: pd.DataFrame, n_items: int) -> None:
    assert stats["landed"] + stats["expanded"] == sum(
        stats[k] for k in ("written", "unchanged", "stale", "superseded", "quarantined", "skipped")
    ), stats
    assert stats["landed"] == n_items and stats["skipped"] == stats["expanded"] == 0, stats
    assert len(fb) == stats["written"] and len(q) == stats["quarantined"]
    assert (q["reason"].str.len() > 10).all() if len(q) else True


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(items=ITEMS, ascii_only=st.sampled_from([True, True, True, False]))
def test_every_item_is_a_correct_row_or_quarantined_with_a_reason(
    processing, items: list[dict], ascii_only: bool
) -> None:
    ran("items")
    truth: dict[str, datetime] = {}
    for item in items:
        if isinstance(item.get("created"), tuple):
            item["created"], when = item["created"]
            truth[str(item["id"])] = when
        if isinstance(item.get("updated"), tuple):
            item["updated"] = item["updated"][0]
    items = list({json.dumps(i["id"], sort_keys=True): i for i in items}.values())  # one per id
    lines = "".join(json.dumps(i, ensure_ascii=ascii_only) + "\n" for i in items)
    with tempfile.TemporaryDirectory() as tmp:
        data = lines.encode("utf-8", "surrogatepass")  # a lone surrogate: bytes not UTF-8
        stats, fb, q = run_drop(Path(tmp), "drop.jsonl", data, "jsonl")
    if not ascii_only and any(0xD800 <= ord(c) <= 0xDFFF for c in lines):
        assert stats["landed"] == 1 and "not utf-8" in q["reason"].iloc[0], q
        return
    accounted(stats, fb, q, len(items))
    stored = dict(zip(fb["source_id"], fb["created_at"], strict=True)) if len(fb) else {}
    for sid, when in truth.items():
        if sid in stored:
            assert stored[sid].to_pydatetime() == when, (sid, when, stored[sid])
            CHECKED["row dates"] += 1
    CHECKED["rows"] += len(fb)
    CHECKED["quarantined"] += len(q)
    for sid in stored:
        assert sid in truth or sid in {str(i["id"]) for i in items}
    if len(fb):
        assert str(fb["created_at"].dt.tz) == "UTC"


@FUZZ
@given(
    rows=st.lists(st.tuples(st.integers(1, 99), st.sampled_from(SPECIAL[2:6])), min_size=1),
    junk=st.sampled_from([b"\xff", b"\xc3\x28", b"\x80abc", b"\xc0\xaf", b"\xed\xa0\x80"]),
    where=st.floats(0, 1),
    fmt=st.sampled_from(["csv", "jsonl"]),
    bom=st.booleans(),
)
def test_a_file_with_bytes_that_are_not_utf8_is_quarantined_then_the_fixed_file_lands(
    processing, rows, junk: bytes, where: float, fmt: str, bom: bool
) -> None:
    ran("files")
    if fmt == "csv":
        text = "id,created,body\n" + "".join(f'{i},2026-10-01T10:00:00Z,"{t}"\n' for i, t in rows)
    else:
        text = "".join(
            json.dumps({"id": str(i), "created": "2026-10-01T10:00:00Z", "body": t}) + "\n"
            for i, t in rows
        )
    good = ("\ufeff" if bom else "").encode() + text.encode()
    cut = int(len(good) * where)
    with tempfile.TemporaryDirectory() as tmp:
        stats, fb, q = run_drop(Path(tmp), f"drop.{fmt}", good[:cut] + junk + good[cut:], fmt)
        assert stats["quarantined"] == stats["landed"] == 1 and len(fb) == 0, stats
        assert "not utf-8" in q["reason"].iloc[0] and "drop." in q["reason"].iloc[0]
        stats, fb, q = run_drop(Path(tmp), f"drop.{fmt}", good, fmt)  # the sender fixes it
        n = len({i for i, _ in rows})
        assert stats["landed"] == len(rows) and stats["written"] == n, (stats, bom)
        assert sorted(fb["source_id"]) == sorted({str(i) for i, _ in rows})
