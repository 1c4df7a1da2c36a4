"""End to end: the pipeline flow under a real (temporary) Prefect API, twice, on small demo data
served by the local vendor sandbox to the real connectors (a new sandbox port for each run)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}\b")
CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    from flows.devtools.demo import generate_demo

    out = tmp_path_factory.mktemp("demo")
    return generate_demo(out, seed=11, n_items=700)


def _feedback(manifest) -> pd.DataFrame:
    return pd.read_parquet(manifest.out_dir / "lake" / "feedback")


def test_pipeline_end_to_end_then_idempotent(prefect_api, demo) -> None:
    from flows.devtools.demo import run_demo_sandbox
    from flows.pipeline import pipeline

    truth = pd.read_csv(demo.items_path, dtype=str, keep_default_na=False)
    with run_demo_sandbox(demo) as config:
        first = pipeline(str(config))
    proc = first["process"]
    fb = _feedback(demo)

    # every landed item is either written or quarantined, and nothing twice
    assert proc["landed"] == proc["rows"] + proc["quarantined"]
    assert fb["feedback_id"].is_unique
    assert len(fb) == len(truth) - proc["quarantined"] - _duplicates_in_truth(truth)
    assert len(fb) >= 0.97 * len(truth)

    # embeddings: 384-dim, unit norm, for every row with text
    with_text = fb[fb["text"].str.strip() != ""]
    emb = np.stack(with_text["embedding"].to_numpy())
    assert emb.shape[1] == 384
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    assert (with_text["embedding_model"] == "all-MiniLM-L6-v2").all()

    # no personal data left where the generator planted it
    pii_ids = truth[truth["pii"] != ""]
    assert len(pii_ids) > 0
    texts = (fb["title"].fillna("") + " " + fb["text"]).tolist()
    assert not any(EMAIL.search(t) for t in texts)
    assert not any(_luhn_card(t) for t in texts)
    assert not any(IBAN.search(t) for t in texts)
    # some planted personal data sits in signatures that cleaning strips; the rest is redacted
    assert fb["pii_redactions"].map(len).sum() > 0
    assert not fb["customer_id"].dropna().str.contains("@").any()

    # themes assigned within the outlier budget, trends and reports written
    asg = pd.read_parquet(demo.out_dir / "lake" / "assignments")
    assert set(asg["feedback_id"]) == set(with_text["feedback_id"])
    assert asg["theme_id"].notna().mean() >= 0.85
    trends = pd.read_parquet(demo.out_dir / "lake" / "trends")
    assert {"all", "enterprise", "persona:admins", "persona:builders"} <= set(trends["segment"])
    assert {"theme", "group"} >= set(trends["level"]) and "theme" in set(trends["level"])
    assert (trends["policy_version"] == "demo-2026.11").all()
    html = Path(first["report"]["html"]).read_text()
    assert "<svg" in html and "What is rising" in html

    # every lake row is a truth item under the source_id its connector gave it
    keys = set(zip(truth["source"], truth["source_id"], strict=True))
    assert set(zip(fb["source"].astype(str), fb["source_id"], strict=True)) <= keys

    # second run (another sandbox, another port): same rows, nothing landed, nothing re-embedded
    with run_demo_sandbox(demo) as config:
        second = pipeline(str(config))
    assert {name: n["items"] for name, n in second["ingest"].items()} == dict.fromkeys(
        second["ingest"], 0
    )
    assert second["process"]["embedded"] == 0 and second["process"]["written"] == 0
    again = _feedback(demo)
    pd.testing.assert_frame_equal(
        fb.sort_values("feedback_id").reset_index(drop=True),
        again.sort_values("feedback_id").reset_index(drop=True),
    )
    asg2 = pd.read_parquet(demo.out_dir / "lake" / "assignments")
    assert dict(zip(asg["feedback_id"], asg["theme_id"], strict=True)) == dict(
        zip(asg2["feedback_id"], asg2["theme_id"], strict=True)
    )


def _duplicates_in_truth(truth: pd.DataFrame) -> int:
    return 0  # items.csv has one row per unique item


def _luhn_card(text: str) -> bool:
    for m in CARD.finditer(text):
        digits = [int(c) for c in m.group() if c.isdigit()]
        if not 13 <= len(digits) <= 19:
            continue
        total = 0
        for i, d in enumerate(reversed(digits)):
            if i % 2:
                d *= 2
                d -= 9 if d > 9 else 0
            total += d
        if total % 10 == 0:
            return True
    return False


def test_a_new_weighting_policy_reweights_without_re_embedding(prefect_api, demo) -> None:
    import yaml

    from flows.pipeline import pipeline
    from flows.report import report

    lake = demo.out_dir / "lake"
    if not (lake / "trends").exists():
        from flows.devtools.demo import run_demo_sandbox

        with run_demo_sandbox(demo) as config:
            pipeline(str(config))
    before = {
        p: p.stat().st_mtime_ns
        for p in [*(lake / "feedback").rglob("*.parquet"), *(lake / "_cache").rglob("*.parquet")]
    }
    old = pd.read_parquet(lake / "trends")
    cfg = yaml.safe_load(demo.config_path.read_text())
    cfg["weighting"] = {
        **cfg["weighting"],
        "version": "demo-2026.11-b",
        "target_market": 4.0,
        "internal": 0.05,
    }
    changed = demo.config_path.with_name("chorus-policy-b.yaml")
    changed.write_text(yaml.safe_dump(cfg))
    report(str(changed))
    new = pd.read_parquet(lake / "trends")
    assert set(new["policy_version"]) == {"demo-2026.11-b"}
    assert not np.allclose(old["weighted_score"].sum(), new["weighted_score"].sum())
    assert (old["count"].sum(), len(old)) == (
        new["count"].sum(),
        len(new),
    )  # same items, new weights
    after = {p: p.stat().st_mtime_ns for p in before}
    assert after == before, "re-weighting rewrote feedback/ or the embedding cache"


def test_a_report_run_reads_each_dataset_once(prefect_api, demo, monkeypatch) -> None:
    """One report run reads every Parquet file of feedback/, themes/, assignments/ and lineage/
    exactly once (it used to read feedback/ three times, themes/ three, assignments/ twice):
    every data read through pyarrow (the lake's and pandas') is counted per file."""
    from collections import Counter
    from collections.abc import Callable
    from typing import Any

    import pyarrow.parquet as pq

    from flows.report import report

    lake = (demo.out_dir / "lake").resolve()
    if not (lake / "trends").exists():
        from flows.devtools.demo import run_demo_sandbox
        from flows.pipeline import pipeline

        with run_demo_sandbox(demo) as config:
            pipeline(str(config))
    reads: Counter[str] = Counter()

    def count(source: Any) -> None:  # a path, or an open file with its path
        path = Path(str(getattr(source, "path", source))).resolve()
        if path.is_relative_to(lake):
            reads[path.relative_to(lake).as_posix()] += 1

    def counted(read: Callable[..., Any]) -> Callable[..., Any]:
        def reading(self: pq.ParquetFile, *args: Any, **kwargs: Any) -> Any:
            count(self.counted_source)
            return read(self, *args, **kwargs)

        return reading

    init, read_table = pq.ParquetFile.__init__, pq.read_table

    def remember_source(self: pq.ParquetFile, source: Any, *args: Any, **kwargs: Any) -> None:
        self.counted_source = source
        init(self, source, *args, **kwargs)

    def counted_read_table(source: Any, *args: Any, **kwargs: Any) -> Any:
        count(source)
        return read_table(source, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "__init__", remember_source)
    for name in ("read", "read_row_group", "read_row_groups", "iter_batches"):
        monkeypatch.setattr(pq.ParquetFile, name, counted(getattr(pq.ParquetFile, name)))
    monkeypatch.setattr(pq, "read_table", counted_read_table)
    report(str(demo.config_path))
    monkeypatch.undo()

    by_dataset: dict[str, int] = {}
    for path, n in reads.items():
        dataset = path.split("/", 1)[0]
        by_dataset[dataset] = max(by_dataset.get(dataset, 0), n)
    assert by_dataset == {"feedback": 1, "themes": 1, "assignments": 1, "lineage": 1}, reads
    partitions = {p.relative_to(lake).as_posix() for p in (lake / "feedback").rglob("*.parquet")}
    assert {p for p in reads if p.startswith("feedback/")} == partitions
