"""The language model: py3langid's naive-Bayes byte n-gram classifier (bundled weights) over the
54 languages langdetect knows, per text (`model_language`, py3langid's own `classify`) and for a
batch at once (`model_languages`: the same answers, vectorised; 7.5x on the demo's texts).

The rules that decide before the model is asked (scripts, short texts) are in
`transforms.language`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from transforms.cache import default_cache_dir

UND = "und"
# langdetect's languages (zh-cn/zh-tw as zh): a closed set keeps rare look-alikes out
_LANGUAGES = (
    "af ar bg bn ca cs cy da de el en es et fa fi fr gu he hi hr hu id it ja kn ko lt lv mk ml "
    "mr ne nl no pa pl pt ro ru sk sl so sq sv sw ta te th tl tr uk ur vi zh"
).split()


@lru_cache(maxsize=1)
def _identifier():  # noqa: ANN202 - py3langid's LanguageIdentifier
    from py3langid.langid import _load_identifier

    ident = _load_identifier()
    ident.set_languages([code for code in _LANGUAGES if code in set(ident.nb_classes)])
    return ident


def model_language(text: str) -> str:
    """py3langid's answer for ``text`` (its first 5,000 characters); "und" when it fails."""
    try:
        code, _score = _identifier().classify(text[:5000])
    except Exception:  # stay total on odd input
        return UND
    return str(code)


# The texts the model scores go through py3langid's own steps, vectorised over the batch: the
# byte DFA is walked for a group of texts in lock-step (one numpy step per byte position, the
# few longest texts finishing in plain Python), feature counts come from one np.unique, and the
# naive-Bayes scores from a sparse texts x features matrix of log1p(counts) times the class
# table. The summation order differs from py3langid's, so a text whose two best scores are not
# further apart than both sums' worst-case float32 rounding error (exact ties do happen on
# short texts) is scored again by model_language itself: the answers are py3langid's.
#
# Texts encoded and walked together: this many characters (as many bytes in Latin scripts, up
# to 4x in others) bounds the per-byte arrays to a few tens of MB; groups of about 0.5 MB were
# faster here than larger ones.
_GROUP_CHARS = 1 << 19
_PYTHON_TAIL = 32  # a group's last texts still walking finish in Python
_UNIT_ROUNDOFF = float(np.finfo(np.float32).eps) / 2


class _Tables(NamedTuple):
    nextmove: np.ndarray  # DFA: next state = nextmove[rowbase[state] + byte]
    rowbase: np.ndarray
    output: np.ndarray  # state -> feature, or -1
    ptc: np.ndarray  # features x classes (float32 copy of the float16 table)
    pc: np.ndarray
    feature_bound: np.ndarray  # max |ptc| of each feature
    pc_bound: float  # max |pc|
    classes: np.ndarray  # class codes (object array)
    alias_pairs: tuple[tuple[int, int], ...]
    raw_floor: float


_TABLE_NAMES = ("nextmove", "rowbase", "output", "ptc", "pc", "classes", "feature_bound")


def _tables_dir() -> Path:
    """Where the decoded tables are cached: py3langid ships them LZMA-compressed, and
    decompressing and expanding them costs about 0.4 s in every process (each parse worker);
    memory-mapped .npy files load in milliseconds and share the page cache between processes."""
    import py3langid
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    model = Path(MODEL_DIR) / MODEL_FILE
    stamp = hashlib.sha256(
        f"{py3langid.__version__}|{model.stat().st_size}|{' '.join(_LANGUAGES)}".encode()
    ).hexdigest()[:16]
    return default_cache_dir() / f"py3langid-tables-{stamp}"


def _decoded_tables() -> dict[str, np.ndarray]:
    ident = _identifier()
    nextmove = ident.tk_nextmove
    ptc = np.ascontiguousarray(ident.nb_ptc, dtype=np.float32)
    return {
        "nextmove": np.frombuffer(nextmove, dtype=np.dtype(nextmove.typecode)),
        "rowbase": np.asarray(ident._rowbase, dtype=np.intp),
        "output": np.asarray(ident.tk_output, dtype=np.intp),
        "ptc": ptc,
        "pc": np.asarray(ident.nb_pc, dtype=np.float32),
        "classes": np.array([str(c) for c in ident.nb_classes]),
        "feature_bound": np.abs(ptc).max(axis=1).astype(np.float64),
    }


def _cached_tables() -> dict[str, np.ndarray]:
    """The decoded tables from the cache (memory-mapped), built and cached on first use; built
    in memory when the cache cannot be written."""
    where = _tables_dir()
    try:
        return {n: np.load(where / f"{n}.npy", mmap_mode="r") for n in _TABLE_NAMES}
    except (OSError, ValueError):
        pass
    arrays = _decoded_tables()
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".py3langid-", dir=where.parent))
        for name, array in arrays.items():
            np.save(staging / f"{name}.npy", array, allow_pickle=False)
        try:
            os.rename(staging, where)  # atomic; another process may have won the race
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError:
        pass  # read-only home: the tables stay in memory
    return arrays


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    from py3langid.langid import RAW_FLOOR

    t = _cached_tables()
    classes = [str(c) for c in t["classes"].tolist()]
    first: dict[str, int] = {}
    alias_pairs = []  # LanguageIdentifier._set_alias_pairs: (first, dupe) of repeated labels
    for i, c in enumerate(classes):
        if c in first:
            alias_pairs.append((first[c], i))
        else:
            first[c] = i
    return _Tables(
        nextmove=t["nextmove"],
        rowbase=t["rowbase"],
        output=t["output"],
        ptc=t["ptc"],
        pc=t["pc"],
        feature_bound=t["feature_bound"],
        pc_bound=float(np.abs(t["pc"]).max()),
        classes=np.array(classes, dtype=object),
        alias_pairs=tuple(alias_pairs),
        raw_floor=RAW_FLOOR,
    )


def model_languages(samples: list[str]) -> list[str]:
    """``[model_language(s) for s in samples]``, scored as a batch."""
    if len(samples) < 2:
        return [model_language(s) for s in samples]
    from py3langid.langid import LanguageIdentifier

    tables = _tables()
    encode = LanguageIdentifier._encode
    sizes = np.fromiter(map(len, samples), dtype=np.intp, count=len(samples))
    order = np.argsort(-sizes, kind="stable")
    starts = np.cumsum(sizes[order]) - sizes[order]
    codes = np.empty(len(samples), dtype=object)
    for group in np.split(order, np.flatnonzero(np.diff(starts // _GROUP_CHARS)) + 1):
        members = group.tolist()
        try:
            chunks = [encode(samples[k]) for k in members]
        except Exception:  # classify raises on such a text: model_language says "und"
            chunks = [_encoded_or_none(encode, samples[k]) for k in members]
        failed = [k for k, chunk in zip(members, chunks, strict=True) if chunk is None]
        if failed:
            members = [k for k, chunk in zip(members, chunks, strict=True) if chunk is not None]
            chunks = [chunk for chunk in chunks if chunk is not None]
            codes[failed] = UND
            if not members:
                continue
        lengths = np.fromiter(map(len, chunks), dtype=np.intp, count=len(chunks))
        longest_first = np.argsort(-lengths, kind="stable")  # the walking texts: a prefix
        members = np.asarray(members)[longest_first]
        best, unsure = _best_classes([chunks[i] for i in longest_first.tolist()], tables)
        codes[members] = tables.classes[best]
        for k in members[unsure].tolist():
            codes[k] = model_language(samples[k])
    return codes.tolist()


def _encoded_or_none(encode: Callable[[str], bytes], sample: str) -> bytes | None:
    try:
        return encode(sample)
    except Exception:
        return None


def _best_classes(chunks: list[bytes], tables: _Tables) -> tuple[np.ndarray, np.ndarray]:
    """Index of the best class of each of ``chunks`` (encoded, longest first), and a mask of
    those too close to call in float32."""
    scores, error, featureless = _class_scores(chunks, tables)
    for i, j in tables.alias_pairs:  # LanguageIdentifier._decide's folding of aliased columns
        np.maximum(scores[:, i], scores[:, j], out=scores[:, i])
        scores[:, j] = tables.raw_floor
    best = scores.argmax(axis=1)
    everyone = np.arange(len(chunks))
    top = scores[everyone, best].astype(np.float64)
    scores[everyone, best] = -np.inf
    # either of two classes' scores may be off by ``error`` from py3langid's
    unsure = top - scores.max(axis=1) <= 2.0 * error
    best[featureless] = 0  # RAW_FLOOR everywhere: argmax is 0
    unsure[featureless] = False
    return best, unsure


def _class_scores(
    chunks: list[bytes], tables: _Tables
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """py3langid's raw naive-Bayes scores (texts x classes) of ``chunks`` (encoded, longest
    first), how far from py3langid's own float32 sums each row's may be, and which rows have
    no feature (py3langid scores those RAW_FLOOR)."""
    from scipy import sparse

    n, n_features = len(chunks), tables.ptc.shape[0]
    lengths = np.fromiter(map(len, chunks), dtype=np.intp, count=n)
    features = tables.output[_walk(chunks, lengths, tables)]
    hit = features >= 0
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)[hit]
    keys, counts = np.unique(rows * n_features + features[hit], return_counts=True)
    rows = keys // n_features
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    weights = sparse.csr_matrix(
        (np.log1p(counts.astype(np.float32)), keys - rows * n_features, indptr),
        shape=(n, n_features),
    )
    scores = weights @ tables.ptc
    scores += tables.pc
    # A float32 dot product of k terms summed in any order is off by at most
    # gamma(k) * sum|terms|, gamma(k) = k*u / (1 - k*u); a few spare terms cover log1p's last
    # bit and the + pc. Ours and py3langid's may each be off so: twice that apart.
    terms = np.diff(indptr) + 8.0
    gamma = terms * _UNIT_ROUNDOFF / (1.0 - terms * _UNIT_ROUNDOFF)
    error = 2.0 * gamma * (weights @ tables.feature_bound + tables.pc_bound)
    return scores, error, indptr[1:] == indptr[:-1]


def _walk(chunks: list[bytes], lengths: np.ndarray, tables: _Tables) -> np.ndarray:
    """DFA state after each byte of ``chunks`` (longest first), concatenated: visit_counts'
    walk for all of them at once."""
    buffer = np.frombuffer(b"".join(chunks), dtype=np.uint8)
    position = np.cumsum(lengths) - lengths
    state = np.zeros(len(chunks), dtype=np.intp)
    out = np.empty(len(buffer), dtype=np.intp)
    walking = len(chunks) - np.searchsorted(lengths[::-1], np.arange(lengths[0]), side="right")
    nextmove, rowbase = tables.nextmove, tables.rowbase
    for step, n in enumerate(walking.tolist()):
        if n <= _PYTHON_TAIL:
            _walk_tail(chunks[:n], step, state[:n].tolist(), position[:n].tolist(), out, tables)
            break
        at = position[:n]
        offset = rowbase[state[:n]]
        offset += buffer[at]
        state[:n] = nextmove[offset]
        out[at] = state[:n]
        at += 1
    return out


def _walk_tail(
    chunks: list[bytes],
    step: int,
    states: list[int],
    positions: list[int],
    out: np.ndarray,
    tables: _Tables,
) -> None:
    """Go on walking ``chunks`` from byte ``step`` (their states and positions in ``out``)."""
    nextmove, rowbase = memoryview(tables.nextmove), memoryview(tables.rowbase)  # plain ints
    for chunk, state, at in zip(chunks, states, positions, strict=True):
        visited = []
        append = visited.append
        for byte in chunk[step:]:
            state = nextmove[rowbase[state] + byte]
            append(state)
        out[at : at + len(visited)] = visited
