"""Embedding a prepared chunk: vectors from the lake's cache by text hash, the model for the
rest, per model and backend. The new vectors go into the cache with the chunk's commit (the
cache's one writer), so two runs at once count each embedded text once, in the run that
commits it."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from flows.lake.store import Lake
from flows.processing.parse_pool import Prepared
from flows.runtime.config import ChorusConfig
from flows.runtime.logs import progress
from transforms.canonical import embedding_cache_rows, with_embedding_vectors
from transforms.embed import Embedder, embeddings_for


def configured_embedder(cfg: ChorusConfig) -> Embedder:
    """The embedder `embedding:` describes (the model loads on first use)."""
    emb = cfg.embedding
    return Embedder(
        emb.model,
        emb.batch_size,
        backend=emb.backend,
        cache_dir=cfg.resolve(emb.cache_dir) if emb.cache_dir else None,
    )


def with_embeddings(
    table: pa.Table,
    texts: list[str],
    lake: Lake,
    embedder: Embedder,
    progress: Callable[[int], None] | None = None,
) -> tuple[pa.Table, pa.Table | None]:
    """Fill `embedding` for rows with text, reusing the cache by text hash; returns (table, the
    vectors computed here as embedding-cache rows, None when all came from the cache)."""
    hashes = table["text_hash"].to_pylist()
    has_text = [bool(t.strip()) for t in texts]
    want = {h for h, ok in zip(hashes, has_text, strict=True) if ok}
    cached = lake.cached_embeddings(embedder.cache_key, want)  # per model and backend
    sel = [i for i, ok in enumerate(has_text) if ok]
    vectors, fresh = embeddings_for(
        [hashes[i] for i in sel], [texts[i] for i in sel], cached, embedder, progress
    )
    new = embedding_cache_rows(fresh) if fresh else None
    return with_embedding_vectors(table, vectors, has_text, embedder.model), new


def embed_chunk(cfg: ChorusConfig, lake: Lake, out: Prepared) -> Prepared:
    """Fill the chunk's embeddings (cache first) and keep the new vectors for its commit; the
    texts are not needed afterwards."""
    if out.rows and out.table is not None:
        embedder = configured_embedder(cfg)
        hashes = out.table["text_hash"].to_pylist()
        todo = len({h for h, t in zip(hashes, out.texts, strict=True) if t.strip()})
        with progress("embedding", todo) as advance:
            out.table, out.new_vectors = with_embeddings(
                out.table, out.texts, lake, embedder, advance
            )
        if out.new_vectors is not None:
            out.embedded, out.vectors_key = out.new_vectors.num_rows, embedder.cache_key
    out.texts = []
    return out
