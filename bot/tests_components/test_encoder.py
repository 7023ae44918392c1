"""The torch-free MiniLM encoder matches sentence-transformers (minilm_reference.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

from bankbot_nlu.encoder import MiniLMEncoder, get_encoder

REF = json.loads(Path(__file__).with_name("minilm_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def numpy_encoder() -> MiniLMEncoder:
    return get_encoder(backend="numpy")


@pytest.fixture(scope="module")
def onnx_encoder() -> MiniLMEncoder:
    pytest.importorskip("onnxruntime")
    return get_encoder(backend="onnx")


@pytest.mark.parametrize("backend", ["numpy_encoder", "onnx_encoder"])
def test_matches_sentence_transformers(backend: str, request: pytest.FixtureRequest) -> None:
    enc: MiniLMEncoder = request.getfixturevalue(backend)
    vecs = enc.encode(REF["texts"])
    assert vecs.shape == (len(REF["texts"]), 384)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), REF["norm"], atol=1e-5)
    np.testing.assert_allclose(vecs[:, :16], np.array(REF["first_dims"]), atol=1e-5)
    np.testing.assert_allclose(vecs @ vecs.T, np.array(REF["cosine"]), atol=1e-5)


def test_backends_agree_and_batching_does_not_matter(numpy_encoder: MiniLMEncoder, onnx_encoder: MiniLMEncoder) -> None:
    texts = ["where is my card", "I was charged twice for the same coffee at Pret yesterday", "ok", "x " * 300]
    a = numpy_encoder.encode(texts)
    b = onnx_encoder.encode(texts)
    singles = np.vstack([onnx_encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(b, singles, atol=1e-5)  # padding inside a batch changes nothing
    assert numpy_encoder.encode([]).shape == (0, 384)


def test_cache_round_trip(tmp_path: Path, numpy_encoder: MiniLMEncoder) -> None:
    texts = ["freeze my card", "unfreeze my card", "freeze my card"]
    first = numpy_encoder.encode_cached(texts, tmp_path)
    files = list(tmp_path.glob("minilm-*.npz"))
    assert len(files) == 1 and numpy_encoder.fingerprint in files[0].name
    with np.load(files[0]) as data:
        assert data["keys"].shape == (2, 20)  # duplicates stored once
    again = numpy_encoder.encode_cached(["unfreeze my card", "new text"], tmp_path)
    np.testing.assert_allclose(again[0], first[1])
    with np.load(files[0]) as data:
        assert data["keys"].shape == (3, 20)
    np.testing.assert_allclose(first, numpy_encoder.encode(texts), atol=1e-6)


def test_int8_is_close_and_independent_of_batching() -> None:
    pytest.importorskip("onnxruntime")
    enc = get_encoder(quantize=True)
    texts = [*REF["texts"], "I was charged twice for the same coffee", "card not working abroad"] * 3
    batch = enc.encode(texts)  # >= BATCH_SESSION_MIN: the threaded path
    singles = np.vstack([enc.encode([t]) for t in texts])
    np.testing.assert_array_equal(batch, singles)
    full = get_encoder(backend="onnx").encode(REF["texts"])
    assert np.min(np.sum(batch[: len(REF["texts"])] * full, axis=1)) > 0.98
    assert enc.fingerprint.endswith("-int8") and get_encoder(backend="onnx").fingerprint.endswith("-fp32")
    with pytest.raises(ValueError):
        MiniLMEncoder(backend="numpy", quantize=True)
