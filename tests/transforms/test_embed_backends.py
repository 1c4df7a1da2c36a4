"""Embedding backends: int8 ONNX against torch, bucketing, repeats, the on-disk model cache.

The int8 model is built once per test session into a temporary cache folder (about 4-12 s on
two busy cores: export, calibration, quantization and the check against torch); one test
rebuilds it once more from a truncated file.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from flows.lake.store import Lake
from flows.runtime.config import ConfigError, config_from_dict
from transforms import embed, embed_onnx
from transforms.embed import Embedder, EmbeddingConfigError, model_path

LONG = " ".join(
    f"Step {i}: the export to CSV times out after {i * 3} seconds and the file is empty."
    for i in range(60)
)  # far past 256 tokens: truncated like sentence-transformers does
TEXTS = [
    "",
    " ",
    "?",
    "ok",
    "thanks!",
    "Thank you!",
    "👍",
    "😀 love the new dark mode ❤️",
    "🙂🙂🙂",
    "The CSV export fails",
    "Exporting to CSV is broken",
    "I love the dark mode",
    "Dashboards take 45 seconds to load since the last release.",
    "Please add a two-way sync with Salesforce.",
    "SSO via Okta fails with a SAML error after the certificate rotation.",
    "The app crashes on launch on my iPhone 15 (iOS 18.2).",
    "Invoice INV-2291 shows 19% VAT instead of reverse charge for our Dutch entity.",
    "Das Dashboard lädt sehr langsam.",
    "La exportación a Excel no funciona desde ayer.",
    "L'application plante au démarrage.",
    "アプリが起動しません",
    "https://app.example.com/reports/123?filter=region%3DEMEA",
    "def f(x): return x ** 2  # why does the formula editor reject this?",
    "ERROR 500 at /api/v2/export (request id 7f3a9c)",
    "password reset e-mail never arrives, checked spam",
    "why is there no dark mode on android",
    "The AI assistant answered that our Q3 revenue was twice what the report shows.",
    "meh",
    "great app",
    "worst update ever!!!",
    "how do i change my billing address",
    "what is the weather in paris",
    "set a timer for ten minutes",
    "Can we get SCIM provisioning for Azure AD?",
    "Charts render one by one and the whole page takes close to a minute.",
    "We present these numbers in the exec meeting and it's embarrassing to wait.",
    "Our admin is on holiday this week, so I'm reaching out directly.",
    "It got noticeably worse after the last release.",
    "Love it",
    "5 stars",
    "no",
    "yes please",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ",
    "tab\tseparated\tvalues and\nnew lines\n\n",
    "a " * 300,
    LONG,
    LONG[:900],
    "The weekly KPI dashboard loads slower every week as our data grows. " * 4,
    "Switching between dashboard tabs is really sluggish now.",
    "Filtering a dashboard by region freezes the page for about 30 seconds.",
]


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("onnx-cache")
    started = time.perf_counter()
    path, meta = embed_onnx.ensure_model(model_path("all-MiniLM-L6-v2"), cache)
    print(f"\nint8 ONNX model built in {time.perf_counter() - started:.1f} s -> {path.name}")
    assert path.exists() and meta["cosine_to_torch"] >= 0.99
    return cache


@pytest.fixture(scope="session")
def onnx(onnx_cache: Path) -> Embedder:
    e = Embedder(backend="onnx-int8", cache_dir=str(onnx_cache))
    assert e.resolved_backend == "onnx-int8" and e.cache_key == "all-MiniLM-L6-v2@onnx-int8"
    return e


@pytest.fixture(scope="session")
def torch_embedder() -> Embedder:
    return Embedder(backend="torch")


def test_onnx_int8_is_close_to_torch_on_varied_texts(onnx: Embedder, torch_embedder) -> None:
    got, ref = onnx.encode(TEXTS), torch_embedder.encode(TEXTS)
    assert got.shape == ref.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    cos = np.sum(got * ref, axis=1)
    assert cos.mean() >= 0.99, cos
    assert cos.min() >= 0.96, [
        (t[:30], round(float(c), 4)) for t, c in zip(TEXTS, cos, strict=True) if c < 0.96
    ]
    # and it still tells close texts from far ones
    assert got[9] @ got[10] > got[9] @ got[11] + 0.2


def test_order_is_kept_across_length_buckets(onnx: Embedder, monkeypatch) -> None:
    rng = np.random.default_rng(3)
    texts = [TEXTS[i] for i in rng.permutation(len(TEXTS))]
    alone = np.vstack([onnx.encode([t]) for t in texts])
    monkeypatch.setattr(embed_onnx, "TOKEN_BUDGET", 256)  # many small batches
    monkeypatch.setattr(embed_onnx, "CHUNK", 16)  # several tokenizer chunks
    encoder = embed._load_onnx(onnx.model, onnx.cache_dir)
    before = encoder.runs
    together = onnx.encode(texts)
    assert encoder.runs - before >= 8  # really bucketed, not one batch
    # per-token activation scales: a text's vector does not depend on its batch neighbours
    assert np.allclose(together, alone, atol=1e-5)


def test_exact_repeats_are_encoded_once_and_identical(onnx: Embedder, monkeypatch) -> None:
    encoder = embed._load_onnx(onnx.model, onnx.cache_dir)
    seen: list[list[str]] = []
    real = encoder.encode

    def spy(texts, *args, **kwargs):
        seen.append(list(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(encoder, "encode", spy)
    texts = ["slow dashboard", "csv export broken", "slow dashboard", "sso", "csv export broken"]
    counted: list[int] = []
    vecs = onnx.encode(texts, progress=counted.append)
    assert seen == [["slow dashboard", "csv export broken", "sso"]]
    assert np.array_equal(vecs[0], vecs[2]) and np.array_equal(vecs[1], vecs[4])
    assert not np.allclose(vecs[0], vecs[1])
    assert sum(counted) == len(texts)  # progress counts input rows, repeats included


def test_a_second_embedder_reuses_the_cached_model(onnx_cache: Path, monkeypatch) -> None:
    path, meta = embed_onnx.model_files(model_path("all-MiniLM-L6-v2"), onnx_cache)
    stamp = path.stat().st_mtime_ns

    def no_build(*_args):
        raise AssertionError("rebuilt although a valid model is cached")

    monkeypatch.setattr(embed_onnx, "_build", no_build)
    embed._load_onnx.cache_clear()  # as in a new process
    e = Embedder(backend="onnx-int8", cache_dir=str(onnx_cache))
    assert e.encode(["hello"]).shape == (1, 384)
    assert path.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")) == [
        meta.name,
        path.name,
    ]


def _copy_cache(src: Path, dst: Path) -> tuple[Path, Path]:
    model = model_path("all-MiniLM-L6-v2")
    good, good_meta = embed_onnx.model_files(model, src)
    path, meta = embed_onnx.model_files(model, dst)
    path.parent.mkdir(parents=True)
    shutil.copy(good, path)
    shutil.copy(good_meta, meta)
    return path, meta


def test_a_truncated_cache_file_is_rebuilt(onnx_cache: Path, tmp_path: Path, monkeypatch) -> None:
    path, _meta = _copy_cache(onnx_cache, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # a partial file, as from a full disk
    builds: list[str] = []
    real = embed_onnx._build
    monkeypatch.setattr(embed_onnx, "_build", lambda *a: builds.append(a[0]) or real(*a))
    e = Embedder(backend="onnx-int8", cache_dir=str(tmp_path))
    vec = e.encode(["The CSV export fails"])
    assert len(builds) == 1 and path.stat().st_size == len(data)
    assert np.allclose(np.linalg.norm(vec), 1.0, atol=1e-4)


def _fake_build(good_cache: Path, calls: list[int], pause: float = 0.0):
    """A stand-in for a real build: copies a good model in (after `pause`), counting calls."""

    def build(model_dir, onnx_path, meta_path):
        calls.append(1)
        time.sleep(pause)
        good, good_meta = embed_onnx.model_files(model_dir, good_cache)
        shutil.copy(good, onnx_path)
        shutil.copy(good_meta, meta_path)
        return embed_onnx._read_valid(onnx_path, meta_path)

    return build


def test_damaged_meta_or_missing_model_triggers_a_build(
    onnx_cache: Path, tmp_path: Path, monkeypatch
) -> None:
    path, meta = _copy_cache(onnx_cache, tmp_path)
    builds: list[int] = []
    monkeypatch.setattr(embed_onnx, "_build", _fake_build(onnx_cache, builds))
    model = model_path("all-MiniLM-L6-v2")
    meta.write_text("{not json", encoding="utf-8")
    assert embed_onnx.ensure_model(model, tmp_path)[1]["sha256"]
    assert len(builds) == 1
    path.unlink()  # a crash between the two renames of a build leaves a meta without model
    assert embed_onnx.ensure_model(model, tmp_path)[1]["sha256"]
    assert len(builds) == 2
    assert embed_onnx.ensure_model(model, tmp_path)[1]["sha256"]
    assert len(builds) == 2  # and a good one is used as is


def test_two_builders_at_once_build_once(onnx_cache: Path, tmp_path: Path, monkeypatch) -> None:
    builds: list[int] = []
    monkeypatch.setattr(embed_onnx, "_build", _fake_build(onnx_cache, builds, pause=0.5))
    results: list[object] = []
    model = model_path("all-MiniLM-L6-v2")
    threads = [
        threading.Thread(target=lambda: results.append(embed_onnx.ensure_model(model, tmp_path)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len(results) == 2


def test_torch_backend_still_works(torch_embedder: Embedder) -> None:
    assert torch_embedder.resolved_backend == "torch"
    assert torch_embedder.cache_key == "all-MiniLM-L6-v2@torch"
    vecs = torch_embedder.encode(["The CSV export fails", "Exporting to CSV is broken", "hi"])
    assert vecs.shape == (3, 384) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_bad_backend_names_the_setting_and_choices() -> None:
    with pytest.raises(
        EmbeddingConfigError,
        match=r"embedding.backend: got 'onnx'; expected one of auto, torch, onnx-int8",
    ):
        Embedder(backend="onnx")
    with pytest.raises(ConfigError, match=r"embedding.backend: got 'gpu'"):
        config_from_dict({"sources": [], "embedding": {"backend": "gpu"}})
    cfg = config_from_dict({"sources": [], "embedding": {"cache_dir": "models"}})
    assert cfg.embedding.backend == "auto" and cfg.embedding.cache_dir == "models"


def test_auto_prefers_a_gpu_and_falls_back_to_torch_when_onnx_fails(monkeypatch, caplog) -> None:
    monkeypatch.setattr(embed, "cuda_available", lambda: True)
    assert Embedder(backend="auto").resolved_backend == "torch-fp16"
    assert Embedder(backend="auto", device="cuda:0").cache_key == "all-MiniLM-L6-v2@torch-fp16"
    monkeypatch.setattr(embed, "cuda_available", lambda: False)

    def broken(*_args):
        raise embed_onnx.UnsupportedModel("module layout ['Transformer', 'Pooling', 'Dense']")

    monkeypatch.setattr(embed_onnx, "ensure_model", broken)
    embed._load_onnx.cache_clear()
    with caplog.at_level(logging.WARNING, logger="chorus.embed"):
        fallback = Embedder(backend="auto", cache_dir="/nonexistent/never-used")
        assert fallback.resolved_backend == "torch"
    assert "onnx-int8 backend is not available" in caplog.text and "Dense" in caplog.text
    with pytest.raises(embed_onnx.UnsupportedModel):  # asked for explicitly: no silent fallback
        _ = Embedder(backend="onnx-int8", cache_dir="/nonexistent/never-used").resolved_backend
    embed._load_onnx.cache_clear()


def test_lake_cache_keeps_backends_apart(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    vec = np.full(384, 1 / np.sqrt(384), dtype=np.float32)
    table = pa.table(
        {"text_hash": ["h1"], "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vec), 384)}
    )
    lake.add_embeddings("all-MiniLM-L6-v2@torch", table)
    assert set(lake.cached_embeddings("all-MiniLM-L6-v2@torch", {"h1"})) == {"h1"}
    assert lake.cached_embeddings("all-MiniLM-L6-v2@onnx-int8", {"h1"}) == {}
