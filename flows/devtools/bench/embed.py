"""Embedding: Chorus's embed step against plain `SentenceTransformer(path).encode(texts)`.

Texts: CLINC150 utterances (`../shared/datasets/clinc150`, short), demo feedback phrases with
their placeholders filled (one or two sentences), and support tickets of 3 to 28 sentences
(about 40 to 400 words, so some run past the model's 256 tokens and are truncated). The
unique set is `n` distinct texts; the mix is the same texts plus 20% exact repeats (a fifth of
the mix repeats a text already in it), shuffled.

Both run in this process side by side, each warmed up first, then alternately (baseline,
Chorus, baseline, Chorus) so that load from other processes hits both alike; the best of the
runs counts. Torch uses as many threads as there are cores, for the baseline too. Chorus's
time is everything `Embedder.encode` does (dedupe, tokenization, inference); the one-off ONNX
build is timed separately, into a fresh cache folder. embed_cosine is the mean cosine between
Chorus's vectors and the baseline's on the mix.

    python -m flows.devtools.bench --only embed [--quick]
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

CLINC = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "clinc150" / "data_full.json"
REPEAT_SHARE = 0.2  # of the mix


def corpus(n: int, seed: int = 7) -> list[str]:
    """`n` distinct texts: about 45% CLINC150, 30% demo phrases, 25% tickets."""
    from flows.devtools.demo import catalog as cat
    from flows.devtools.demo.texts import BACKGROUND, fill

    rng = random.Random(seed)
    fragments: dict[str, list[str]] = {}
    for theme, kinds in cat.PHRASES.items():
        for options in kinds.values():
            if isinstance(options, dict):  # i18n: {language: [texts]}
                options = [t for texts in options.values() for t in texts]
            fragments.setdefault(theme, []).extend(options)
    themes = sorted(fragments)

    def phrase() -> str:
        theme = rng.choice(themes)
        k = rng.choice([1, 1, 2])
        return " ".join(fill(rng.choice(fragments[theme]), rng, {}) for _ in range(k))

    def ticket() -> str:
        theme = rng.choice(themes)
        parts = [fill(rng.choice(fragments[theme]), rng, {}) for _ in range(rng.randint(3, 28))]
        if rng.random() < 0.5:
            parts.insert(rng.randrange(len(parts)), fill(rng.choice(BACKGROUND), rng, {}))
        return " ".join(parts)

    out: dict[str, None] = {}
    for text in _clinc(rng, int(n * 0.45)):
        out[text] = None
    makers: list[Callable[[], str]] = [phrase] * 6 + [ticket] * 5
    while len(out) < n:
        out[rng.choice(makers)()] = None
    texts = list(out)[:n]
    rng.shuffle(texts)
    return texts


def _clinc(rng: random.Random, k: int) -> list[str]:
    if not CLINC.exists():
        print(f"   (no {CLINC}: demo phrases and tickets only)")
        return []
    data = json.loads(CLINC.read_text(encoding="utf-8"))
    utterances = sorted({text for split in data.values() for text, _intent in split})
    return rng.sample(utterances, min(k, len(utterances)))


def with_repeats(texts: list[str], share: float = REPEAT_SHARE, seed: int = 11) -> list[str]:
    """`texts` plus exact repeats making up `share` of the result, shuffled."""
    rng = random.Random(seed)
    extra = round(len(texts) * share / (1 - share))
    mix = texts + [rng.choice(texts) for _ in range(extra)]
    rng.shuffle(mix)
    return mix


def _timed(fn: Callable[[], np.ndarray], times: list[float]) -> np.ndarray:
    started = time.perf_counter()
    out = fn()
    times.append(time.perf_counter() - started)
    return out


def run(quick: bool = False) -> dict[str, float]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from sentence_transformers import SentenceTransformer

    from transforms.embed import Embedder, model_path
    from transforms.embed_onnx import cpu_count

    cores = cpu_count()
    torch.set_num_threads(cores)
    n, rounds = (400, 2) if quick else (2000, 2)
    unique = corpus(n)
    mix = with_repeats(unique)
    words = np.array([len(t.split()) for t in unique])
    print(
        f"   texts: {len(unique)} unique (words: median {int(np.median(words))}, "
        f"p90 {int(np.percentile(words, 90))}, max {int(words.max())}); mix {len(mix)} "
        f"with {len(mix) - len(unique)} exact repeats; {cores} cores, torch threads "
        f"{torch.get_num_threads()}",
        flush=True,
    )
    cache = tempfile.mkdtemp(prefix="chorus-embed-bench-")
    try:
        started = time.perf_counter()
        chorus = Embedder(backend="auto", cache_dir=cache)
        backend = chorus.resolved_backend  # builds the ONNX model (CPU) into the fresh cache
        build_s = time.perf_counter() - started
        baseline = SentenceTransformer(model_path(chorus.model))
        warm = unique[:64]
        baseline.encode(warm)
        chorus.encode(warm)
        figures: dict[str, float] = {}
        rows = []
        for name, texts in (("unique", unique), ("mix", mix)):
            base_t: list[float] = []
            ours_t: list[float] = []
            load = os.getloadavg()[0]
            for _ in range(rounds):
                ref = _timed(lambda texts=texts: baseline.encode(texts), base_t)
                got = _timed(lambda texts=texts: chorus.encode(texts), ours_t)
            speedup = min(base_t) / min(ours_t)
            figures[f"embed_speedup_{name}"] = speedup
            rows.append((name, len(texts), base_t, ours_t, speedup, load))
            if name == "mix":
                ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
                cos = np.sum(ref * got, axis=1)
                figures["embed_cosine"] = float(cos.mean())
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"   chorus backend {backend}; one-off model build {build_s:.1f} s (not timed below)")
    print(f"   {'set':8} {'texts':>6} {'baseline s':>18} {'chorus s':>18} {'speedup':>8}  load")
    for name, count, base_t, ours_t, speedup, load in rows:
        b = "/".join(f"{t:.2f}" for t in base_t)
        c = "/".join(f"{t:.2f}" for t in ours_t)
        print(f"   {name:8} {count:>6} {b:>18} {c:>18} {speedup:>7.2f}x  {load:.1f}")
    print(
        f"   cosine to baseline on the mix: mean {figures['embed_cosine']:.4f}, "
        f"min {float(cos.min()):.4f}, share below 0.99 {float(np.mean(cos < 0.99)):.3f}"
    )
    print("   targets: unique >= 1.5x, mix >= 2x, cosine >= 0.99", flush=True)
    return figures
