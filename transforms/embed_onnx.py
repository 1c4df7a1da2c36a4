"""The `onnx-int8` embedding backend: a sentence-transformers model exported once to ONNX,
quantized to int8 and cached on disk, then run with onnxruntime on every CPU core.

Build (`transforms.onnx_quant`: export, SmoothQuant, per-token int8) happens once per model
folder, onnxruntime/torch/transformers version and CPU kind; it is written atomically (temp
file + rename, the meta with its sha256 last) under a file lock, so two processes never build
it twice, and a damaged or partial file is rebuilt. A fresh build is checked against torch on
varied samples. On x86 without VNNI the weights keep 7 bits (`reduce_range`): u8 x s8
products are summed in 16 bits there and would saturate.

Encoding: the fast tokenizer truncates at the model's max_seq_length (texts sorted by
character length, tokenized chunk by chunk while batches of the previous chunk already run),
batches hold texts of similar token length up to a budget of padded tokens (short texts in
big batches, long ones in small), and one single-threaded ORT run per core works on its own
batch, so no core waits on another inside a batch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from transforms.cache import default_cache_dir
from transforms.onnx_quant import UnsupportedModel, calibrate, export, quantize

log = logging.getLogger("chorus.embed")

RECIPE = "per-token-int8-v1"  # change when the build changes: old cache files are then ignored
TOKEN_BUDGET = 8192  # padded tokens per batch
MAX_BATCH = 256  # texts per batch, however short
CHUNK = 512  # texts tokenized at a time
SAMPLES = [  # validation of a fresh build against torch
    "The CSV export fails",
    "Exporting to CSV is broken since the update and our finance team cannot close the month.",
    "thanks!",
    "",
    "😀 love the new dark mode ❤️",
    "Das Dashboard lädt sehr langsam",
    "SSO login via Okta keeps failing with SAML error 403 after the certificate rotation. " * 12,
]


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def fast_int8_dot() -> bool:
    """True where int8 dot products accumulate in 32 bits (x86 VNNI, Arm dotprod)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.machine().lower() in ("arm64", "aarch64")
    return re.search(r"\b(avx512_vnni|avx_vnni|asimddp)\b", flags) is not None


def model_files(
    model_dir: str, cache_dir: str | os.PathLike[str] | None = None
) -> tuple[Path, Path]:
    """(model.onnx, its meta.json) in the cache, named by everything that changes the build."""
    src = Path(model_dir).resolve()
    stamp = sorted(
        (str(p.relative_to(src)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in src.rglob("*")
        if p.is_file() and p.suffix in (".json", ".safetensors", ".bin", ".txt", ".model")
    )
    versions = {k: _version(k) for k in ("onnxruntime", "torch", "transformers", "onnx")}
    key = {"src": str(src), "files": stamp, "versions": versions, "recipe": RECIPE}
    key["reduce_range"] = not fast_int8_dot()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", src.name)[:60]
    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    base = folder / "onnx" / f"{slug}-{digest}"
    return base.with_suffix(".onnx"), base.with_suffix(".json")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return ""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_valid(onnx_path: Path, meta_path: Path) -> dict[str, Any] | None:
    """The meta of a complete, unchanged cached model, else None (missing, partial, damaged)."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        ok = (
            meta.get("recipe") == RECIPE
            and onnx_path.stat().st_size == meta["size"]
            and _sha256(onnx_path) == meta["sha256"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return meta if ok else None


def ensure_model(
    model_dir: str, cache_dir: str | os.PathLike[str] | None = None
) -> tuple[Path, dict[str, Any]]:
    """The cached int8 model for `model_dir` (built now if missing or damaged) and its meta."""
    from filelock import FileLock

    onnx_path, meta_path = model_files(model_dir, cache_dir)
    meta = _read_valid(onnx_path, meta_path)
    if meta is not None:
        return onnx_path, meta
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(onnx_path) + ".lock", timeout=900):
        meta = _read_valid(onnx_path, meta_path)  # another process may have built it meanwhile
        if meta is None:
            meta = _build(model_dir, onnx_path, meta_path)
    return onnx_path, meta


def _build(model_dir: str, onnx_path: Path, meta_path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    log.info("building the int8 ONNX model for %s (once; cached in %s)", model_dir, onnx_path)
    with tempfile.TemporaryDirectory(dir=onnx_path.parent, prefix=".build-") as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        st, meta = export(model_dir, fp32)
        feeder = Feeder(meta)
        stats = calibrate(fp32, lambda text: feeder.feed(feeder.ids([text])))
        quantize(fp32, int8, stats, reduce_range=not fast_int8_dot())
        meta["cosine_to_torch"] = _validate(st, int8, meta)
        meta.update(
            recipe=RECIPE,
            size=int8.stat().st_size,
            sha256=_sha256(int8),
            source=str(Path(model_dir).resolve()),
            build_s=round(time.perf_counter() - started, 2),
        )
        meta_tmp = Path(tmp) / "meta.json"
        meta_tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(int8, onnx_path)  # the model first: a meta always describes a whole model
        os.replace(meta_tmp, meta_path)
    log.info(
        "int8 ONNX model built in %.1f s (mean cosine to torch %.4f on %d samples)",
        meta["build_s"],
        meta["cosine_to_torch"],
        len(SAMPLES),
    )
    return meta


def _validate(st: Any, path: Path, meta: dict[str, Any]) -> float:
    """Mean cosine of the int8 model to torch on varied samples; too far means unsupported."""
    ref = st.encode(SAMPLES, normalize_embeddings=True, show_progress_bar=False)
    got = OnnxEncoder(path, meta, threads=1).encode(SAMPLES)
    cos = np.sum(ref * got, axis=1)
    if not np.all(np.isfinite(cos)) or cos.mean() < 0.99 or cos.min() < 0.95:
        raise UnsupportedModel(
            f"int8 model too far from torch (cosine {np.round(cos, 4).tolist()})"
        )
    return float(cos.mean())


class Feeder:
    """The fast tokenizer, truncating at max_seq_length as sentence-transformers does, and ORT feeds."""

    def __init__(self, meta: dict[str, Any]) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_str(meta["tokenizer"])
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(int(meta["max_seq_length"]))
        self.inputs = list(meta["inputs"])
        self.lowercase = bool(meta.get("lowercase"))

    def ids(self, texts: list[str]) -> list[list[int]]:
        if self.lowercase:
            texts = [t.lower() for t in texts]
        return [e.ids for e in self.tokenizer.encode_batch_fast(texts)]

    def feed(self, ids: list[list[int]]) -> dict[str, np.ndarray]:
        lens = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        mask = np.arange(int(lens.max()))[None, :] < lens[:, None]
        input_ids = np.zeros(mask.shape, dtype=np.int64)
        flat = np.fromiter((t for x in ids for t in x), dtype=np.int64, count=int(lens.sum()))
        input_ids[mask] = flat
        feed = {"input_ids": input_ids, "attention_mask": mask.astype(np.int64)}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        return feed


def batches(lens: np.ndarray, max_batch: int, budget: int | None = None) -> list[np.ndarray]:
    """Positions grouped by similar token length, longest first: at most `budget` padded tokens
    and `max_batch` texts per batch, so short texts go in big batches and long ones in small."""
    budget = budget or TOKEN_BUDGET
    order = np.argsort(-lens, kind="stable")
    out, i = [], 0
    while i < len(order):
        size = max(1, min(max_batch, budget // max(1, int(lens[order[i]]))))
        out.append(order[i : i + size])
        i += size
    return out


class OnnxEncoder:
    """One ORT session shared by `threads` workers, each running its own batch single-threaded."""

    def __init__(
        self, path: str | os.PathLike[str], meta: dict[str, Any], threads: int | None = None
    ) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.feeder = Feeder(meta)
        self.dim = int(meta["dim"])
        self.threads = threads or cpu_count()
        self.runs = 0  # session runs so far (batches)

    def run(self, ids: list[list[int]]) -> np.ndarray:
        self.runs += 1
        return self.session.run(["embedding"], self.feeder.feed(ids))[0]

    def encode(
        self,
        texts: Sequence[str],
        max_batch: int = MAX_BATCH,
        progress: Callable[[np.ndarray], None] | None = None,
    ) -> np.ndarray:
        """Unit vectors in input order; `progress` gets the positions of each finished batch.
        Texts are tokenized a chunk at a time (longest first) while earlier batches run."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        by_chars = np.argsort([-len(t) for t in texts], kind="stable")
        pending: list[tuple[np.ndarray, Future[np.ndarray]]] = []
        with ThreadPoolExecutor(self.threads, thread_name_prefix="chorus-embed") as pool:
            for start in range(0, len(by_chars), CHUNK):
                chunk = by_chars[start : start + CHUNK]
                ids = self.feeder.ids([texts[i] for i in chunk])
                lens = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
                for batch in batches(lens, max_batch):
                    job = pool.submit(self.run, [ids[j] for j in batch])
                    pending.append((chunk[batch], job))
                pending = _collect(pending, out, progress, wait=False)
            _collect(pending, out, progress, wait=True)
        return out


def _collect(
    pending: list[tuple[np.ndarray, Future[np.ndarray]]],
    out: np.ndarray,
    progress: Callable[[np.ndarray], None] | None,
    wait: bool,
) -> list[tuple[np.ndarray, Future[np.ndarray]]]:
    """Store finished batches (all of them when `wait`), reporting progress from this thread."""
    left = []
    for rows, job in pending:
        if wait or job.done():
            out[rows] = job.result()
            if progress:
                progress(rows)
        else:
            left.append((rows, job))
    return left
