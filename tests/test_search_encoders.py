"""The bundled models load offline and put related texts closer than unrelated ones."""

import numpy as np
import pytest

from paperboy.search.encoders import EncoderError, load_encoder

TEXTS = [
    "A transformer language model pretrained on web text for question answering.",
    "Large language models answer questions after pretraining on internet text.",
    "Soil moisture measurements in wheat fields during a drought.",
]


@pytest.mark.parametrize("name, dim", [("minilm", 384), ("static", 256)])
def test_bundled_model_encodes_offline(name, dim):
    encoder = load_encoder(name, threads=1)
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (3, dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    related, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert related > unrelated + 0.2


def test_minilm_matches_itself_regardless_of_batching():
    encoder = load_encoder("minilm", threads=1)
    alone = encoder.encode([TEXTS[2]])
    batched = encoder.encode(TEXTS + ["short", ""], batch_size=2)
    np.testing.assert_allclose(alone[0], batched[2], atol=1e-4)
    assert encoder.encode([]).shape == (0, 384)


def test_unknown_model_names_are_explained():
    with pytest.raises(EncoderError, match="expected minilm, static"):
        load_encoder("bert-large")
    with pytest.raises(EncoderError, match="model2vec"):
        load_encoder("model2vec:/no/such/folder")


def test_any_model2vec_model_by_path():
    from importlib import resources

    with resources.as_file(resources.files("paperboy.data") / "models" / "static") as folder:
        by_name = load_encoder(f"model2vec:{folder}")
    np.testing.assert_allclose(by_name.encode(TEXTS), load_encoder("static").encode(TEXTS),
                               atol=1e-6)


def test_a_model_fingerprint_names_its_weights(tmp_path):
    from paperboy.search.encoders import model_fingerprint

    static, minilm = model_fingerprint("static"), model_fingerprint("minilm")
    assert static.startswith("static-") and len(static) == len("static-") + 16
    assert minilm.startswith("minilm") and static != minilm
    assert model_fingerprint("static") == static  # stable
    assert model_fingerprint("model2vec:some/model") == "model2vec:some/model"
