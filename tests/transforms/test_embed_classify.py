from __future__ import annotations

import numpy as np
import pytest

from transforms import classify
from transforms.embed import Embedder, embeddings_for, model_path


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_real_model_gives_unit_384_vectors_and_similar_texts_are_close(embedder: Embedder) -> None:
    vecs = embedder.encode(
        ["The CSV export fails", "Exporting to CSV is broken", "I love the dark mode"]
    )
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2


def test_length_sorted_batches_keep_input_order(embedder: Embedder) -> None:
    texts = [
        "short",
        "a much longer sentence about dashboards being slow every single morning",
        "mid length text",
    ]
    together = Embedder(batch_size=2).encode(texts)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


class CountingEmbedder(Embedder):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def encode(self, texts, progress=None):  # type: ignore[override]
        self.calls.append(list(texts))
        return np.tile(np.eye(1, 384, dtype=np.float32), (len(texts), 1))


def test_each_new_hash_is_embedded_once_and_cached_ones_never() -> None:
    fake = CountingEmbedder()
    cached = {"h1": np.full(384, 0.5, dtype=np.float32)}
    out, fresh = embeddings_for(["h1", "h2", "h2", "h3"], ["a", "b", "b", "c"], cached, fake)
    assert fake.calls == [["b", "c"]]
    assert set(fresh) == {"h2", "h3"} and out.shape == (4, 384)
    assert np.allclose(out[0], 0.5)


def test_unknown_model_name_fails_clearly() -> None:
    assert model_path("all-MiniLM-L6-v2")
    with pytest.raises(ValueError, match="never downloaded at run time"):
        model_path("some-hub/model-that-is-not-here")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The app crashes every time I open a report", "bug"),
        ("Please add a dark mode, it would be great", "feature_request"),
        ("How do I invite my team?", "question"),
        ("Way too expensive for what it does", "complaint"),
        ("Love the new charts, great job", "praise"),
        ("ok", "other"),
    ],
)
def test_feedback_type(text: str, expected: str) -> None:
    assert classify.feedback_type(text) == expected


def test_sentiment_prefers_the_customers_score_and_handles_negation() -> None:
    assert classify.sentiment("I love it", rating=0.0) == "negative"
    assert classify.sentiment("whatever", nps=10) == "positive"
    assert classify.sentiment("This is not good, really frustrating") == "negative"
    assert classify.sentiment("Great app, works perfectly") == "positive"
    assert classify.sentiment("The meeting is on Tuesday") == "neutral"
