"""The scale paths of theming: one-pass corpus read, streamed lake reads, themes fitted on a
sample, new asks found on samples of large themes, and a synthetic lake themed end to end
(stable on a re-run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import normalized_mutual_info_score

from flows.devtools.bench.scale_lake import bench_config, build_lake
from flows.lake.store import Lake
from flows.runtime.config import config_from_dict
from flows.runtime.report_datasets import read_corpus, update_themes
from transforms.ids import content_text
from transforms.keywords import substantive
from transforms.theme_params import ThemeParams
from transforms.themes import themed


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    build_lake(root, 3000, n_topics=24, seed=3)
    # one partition gets text-less rows (null embedding) and one-word rows, as the pipeline writes
    path = sorted((root / "lake" / "feedback").glob("source=support_tickets/*/part-0.parquet"))[0]
    t = pq.read_table(path)
    n = t.num_rows
    null = np.zeros(n, dtype=bool)
    null[::17] = True
    emb = t["embedding"].combine_chunks()
    emb = pa.FixedSizeListArray.from_arrays(emb.values, 384, mask=pa.array(null))
    text = np.array(t["text"].to_pylist(), dtype=object)
    text[null] = ""
    text[5::23] = "ok"
    t = t.set_column(t.schema.get_field_index("embedding"), t.schema.field("embedding"), emb)
    t = t.set_column(t.schema.get_field_index("text"), "text", pa.array(text, pa.string()))
    pq.write_table(t, path)
    return root


def test_streamed_reads_give_the_same_rows_as_read_feedback(small_lake: Path) -> None:
    lake = Lake(str(small_lake / "lake"))
    cols = ["feedback_id", "source", "created_month", "embedding"]
    whole = lake.read_feedback(columns=cols)
    for batch_rows in (None, 100):
        parts = list(lake.iter_feedback(columns=cols, batch_rows=batch_rows))
        assert pa.concat_tables(parts).equals(whole)
    assert len(list(lake.iter_feedback(columns=cols, batch_rows=100))) > len(
        list(lake.iter_feedback(columns=cols))
    )


def test_corpus_matches_a_plain_read_sorted_by_id(small_lake: Path) -> None:
    lake = Lake(str(small_lake / "lake"))
    fb = lake.read_feedback(
        columns=["feedback_id", "source_kind", "title", "text", "created_at", "embedding"]
    )
    fb = fb.filter(pc.is_valid(fb["embedding"])).sort_by("feedback_id")
    texts = [
        content_text(t, x, k)
        for t, x, k in zip(
            fb["title"].to_pylist(),
            fb["text"].to_pylist(),
            fb["source_kind"].to_pylist(),
            strict=True,
        )
    ]
    keep = np.array([substantive(t) for t in texts])
    ids = np.array(fb["feedback_id"].to_pylist(), dtype=object)
    emb = np.stack(fb["embedding"].to_numpy(zero_copy_only=False))
    corpus = read_corpus(lake)
    assert corpus.ids == ids[keep].tolist()
    assert corpus.unthemed == ids[~keep].tolist() and len(corpus.unthemed) > 10
    assert corpus.texts == [t for t, k in zip(texts, keep, strict=True) if k]
    assert np.array_equal(corpus.emb, emb[keep])
    created = pc.cast(fb["created_at"], pa.int64()).to_numpy()
    assert np.array_equal(corpus.created_us, created[keep])


def test_rows_upserted_after_the_footers_were_read_still_land_in_the_corpus(
    small_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.runtime.report_datasets as report_datasets

    lake = Lake(str(small_lake / "lake"))
    whole = read_corpus(lake)
    monkeypatch.setattr(report_datasets, "_stored_rows", lambda lake: 100)  # a stale row count
    grown = read_corpus(lake)
    assert grown.ids == whole.ids and grown.unthemed == whole.unthemed
    assert np.array_equal(grown.emb, whole.emb)
    assert np.array_equal(grown.created_us, whole.created_us)


def test_an_empty_lake_gives_an_empty_table_and_corpus(tmp_path: Path) -> None:
    from flows.runtime.report_datasets import read_feedback_and_corpus
    from transforms.weighted_items import ITEM_COLUMNS

    table, corpus = read_feedback_and_corpus(Lake(str(tmp_path / "lake")))
    assert table.num_rows == 0 and table.column_names == ITEM_COLUMNS
    assert corpus.ids == [] and corpus.unthemed == [] and corpus.emb.shape == (0, 384)


def test_rows_first_puts_the_chosen_rows_first_in_place() -> None:
    from flows.runtime.report_datasets import _rows_first

    rng = np.random.default_rng(2)
    matrix = rng.normal(size=(500, 7)).astype(np.float32)
    rows = rng.permutation(500)[:320]
    want = matrix[rows].copy()
    rest = np.sort(matrix[np.setdiff1d(np.arange(500), rows)], axis=0)
    buffer = matrix.__array_interface__["data"][0]
    _rows_first(matrix, rows)
    assert matrix.__array_interface__["data"][0] == buffer
    assert np.array_equal(matrix[:320], want)
    assert np.array_equal(np.sort(matrix[320:], axis=0), rest)


def test_synthetic_lake_is_themed_well_and_a_rerun_changes_nothing(small_lake: Path) -> None:
    cfg = config_from_dict(bench_config(small_lake))
    lake = Lake(cfg.lake_url)
    first = update_themes(lake, cfg).run
    asg = lake.read_table("assignments").to_pandas().set_index("feedback_id")
    truth = pq.read_table(small_lake / "truth.parquet").to_pandas().set_index("feedback_id")
    both = truth.join(asg, how="inner")
    inlier = both[both["topic"] >= 0]
    assert normalized_mutual_info_score(inlier["topic"], inlier["theme_id"].fillna("-")) > 0.85
    assert first.unassigned_share <= 0.15
    assert first.refit and first.run_id.startswith("fit_")
    assert set(asg["model_run"]) == {first.run_id}  # every item was in the fit
    second = update_themes(lake, cfg).run
    again = lake.read_table("assignments").to_pandas().set_index("feedback_id")
    assert not second.refit and second.born == 0 and second.themes == first.themes
    assert again["theme_id"].fillna("-").equals(asg["theme_id"].fillna("-").loc[again.index])
    themes = lake.read_table("themes").to_pandas()
    active = themes[themes["status"] == "active"]
    assert (active["keywords"].map(len) > 0).all() and active["label"].str.len().gt(0).all()
    assert themes["label"].str.lower().is_unique and set(active["model_run"]) == {first.run_id}


def _blobs(k: int, n_per: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, 64))
    x = np.vstack(
        [c + 0.35 * rng.normal(size=(n_per, 64)) * np.linalg.norm(c) / 8 for c in centers]
    )
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), [
        c for c in range(k) for _ in range(n_per)
    ]


def test_themes_fitted_on_a_sample_are_those_of_the_whole_corpus() -> None:
    emb, truth = _blobs(10, 150, seed=4)
    ids = [f"i{i:05d}" for i in range(len(truth))]
    full = themed(ids, emb, params=ThemeParams(seed=5))
    sampled = themed(ids, emb, params=ThemeParams(seed=5, sample_size=500, stability_sample=400))
    assert normalized_mutual_info_score(full.codes, sampled.codes) > 0.95
    assert normalized_mutual_info_score(truth, sampled.codes) > 0.95


def test_a_new_ask_is_found_on_a_sample_of_a_large_theme(monkeypatch: pytest.MonkeyPatch) -> None:
    import transforms.theme_novelty as novelty

    rng = np.random.default_rng(3)
    old, new = rng.normal(size=64), rng.normal(size=64)
    new = old + 0.8 * new
    emb = np.vstack(
        [c + 0.5 * rng.normal(size=(400, 64)) * np.linalg.norm(c) / 8 for c in (old, new)]
    )
    emb = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
    history, recent = np.arange(0, 300), np.concatenate([np.arange(300, 400), np.arange(400, 800)])
    params = ThemeParams()
    whole = novelty.novel_part(emb, history, recent, 0.2, 0, params)
    monkeypatch.setattr(novelty, "_HALF_SAMPLE", 50)  # every side is "large"
    sampled = novelty.novel_part(emb, history, recent, 0.2, 0, params)
    assert whole is not None and sampled is not None
    for part in (whole, sampled):
        assert np.isin(part, np.arange(400, 800)).mean() > 0.95 and part.size > 380
