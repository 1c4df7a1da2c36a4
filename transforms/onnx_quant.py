"""Build step of the `onnx-int8` embedding backend: export a sentence-transformers model to
ONNX (transformer + pooling + L2 normalisation), then rewrite it to integer matmuls.

Every MatMul with a constant weight becomes MatMulIntegerToFloat: weights int8 per output
channel, activations int8 **per token** (one symmetric scale per row, zero point 128). ORT's
quantize_dynamic uses one activation scale per tensor, so a text's vector would change with
its batch neighbours and the padding; per token it does not. Before that, SmoothQuant
(alpha 0.5, ranges from a few calibration texts) divides activation outlier channels down and
multiplies the matching weight rows up: BERT's residual stream has a channel about ten times
the others, which would otherwise set every token's scale. On the bench texts the mean cosine
to torch is about 0.999 (0.992 with quantize_dynamic), about 0.997 on one- or two-word texts;
with 7-bit weights (`reduce_range`, CPUs without VNNI) 0.998 and 0.995.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


class UnsupportedModel(RuntimeError):
    """The model cannot be served by the ONNX backend (layout, export or accuracy)."""


CALIBRATION = [  # activation ranges for SmoothQuant: feedback-like texts, short to long
    "thanks!",
    "ok",
    "Great app, five stars",
    "how do i reset my password",
    "The weekly KPI dashboard loads slower every week as our data grows.",
    "Please add a two-way sync with Salesforce so our reps stop copying data by hand.",
    "Invoice #4411 shows the wrong VAT rate for our German entity; reverse charge is missing.",
    "The app crashes on launch on my iPhone 15 since version 5.3.0, reinstalling did not help.",
    "Some background: our team of 40 people has used the product for two years, mostly for "
    "weekly revenue reporting. Since Monday the exports time out, the CSV files are empty and "
    "the scheduled e-mails arrive without attachments. We tried another browser and cleared "
    "the cache. This blocks our month-end close, please escalate.",
    "¿Dónde puedo cambiar el idioma? La aplicación está en inglés.",
    "🙂 love it 👍",
]


def export(model_dir: str, dst: Path) -> tuple[Any, dict[str, Any]]:
    """Export transformer + pooling + normalisation; refuse layouts this backend cannot serve."""
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(model_dir, device="cpu")
    kinds = [type(m).__name__ for m in st]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedModel(f"module layout {kinds}: only Transformer, Pooling[, Normalize]")
    pooling = str(st[1].get_config_dict().get("pooling_mode", ""))
    if pooling not in ("mean", "cls", "max"):
        raise UnsupportedModel(f"pooling {pooling!r}: only mean, cls or max")
    if getattr(st, "default_prompt_name", None):
        raise UnsupportedModel("the model has a default prompt")
    tokenizer = st[0].tokenizer
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise UnsupportedModel("no fast tokenizer")
    names = [
        n
        for n in ("input_ids", "attention_mask", "token_type_ids")
        if n in tokenizer.model_input_names
    ]
    if names[:2] != ["input_ids", "attention_mask"]:
        raise UnsupportedModel(f"model inputs {tokenizer.model_input_names}")
    model = st[0].auto_model.eval()
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")  # plain ops export cleanly; SDPA may not

    class Head(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            h = self.model(**dict(zip(names, inputs, strict=True)))[0]
            mask = inputs[1].unsqueeze(-1).to(h.dtype)
            if pooling == "cls":
                v = h[:, 0]
            elif pooling == "max":
                v = (h + (mask - 1.0) * 1e9).max(dim=1).values
            else:
                v = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(v, p=2, dim=1)

    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.long)
    ids = ids.clamp(max=len(backend.get_vocab()) - 1)
    dummy = (ids, (ids != 0).long(), torch.zeros_like(ids))[: len(names)]
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on the mask code, checked by validation
            torch.onnx.export(
                Head().eval(),
                dummy,
                str(dst),
                input_names=names,
                output_names=["embedding"],
                dynamic_axes={
                    **{n: {0: "batch", 1: "tokens"} for n in names},
                    "embedding": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
    except Exception as exc:  # noqa: BLE001  (any exporter failure means: not for this backend)
        raise UnsupportedModel(f"ONNX export failed: {exc}") from exc
    meta = {
        "inputs": names,
        "max_seq_length": int(st.max_seq_length),
        "lowercase": bool(getattr(st[0], "do_lower_case", False)),
        "dim": int(st.get_embedding_dimension()),
        "tokenizer": backend.to_str(),
    }
    return st, meta


def calibrate(fp32: Path, feed: Callable[[str], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-channel max |x| of every MatMul's activation input over the calibration texts."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    model = onnx.load(str(fp32))
    consts = {t.name for t in model.graph.initializer}
    names = sorted(
        {n.input[0] for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in consts}
    )
    model.graph.output.extend(
        helper.make_tensor_value_info(x, TensorProto.FLOAT, None) for x in names
    )
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), opts, providers=["CPUExecutionProvider"]
    )
    stats: dict[str, np.ndarray] = {}
    for text in CALIBRATION:  # one text per run: padding never enters the statistics
        for x, act in zip(names, session.run(names, feed(text)), strict=True):
            amax = np.abs(act.reshape(-1, act.shape[-1])).max(axis=0)
            stats[x] = np.maximum(stats.get(x, 0.0), amax)
    return stats


def quantize(src: Path, dst: Path, stats: dict[str, np.ndarray], reduce_range: bool) -> None:
    """Every MatMul by a constant 2-D weight -> per-token int8 activations x per-channel int8
    weights, after SmoothQuant (alpha 0.5): activation outlier channels (BERT's residual stream
    has one about 10x the rest) are divided down and the weight rows multiplied up."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    consts = {t.name: t for t in graph.initializer}
    targets = [
        (i, node, numpy_helper.to_array(consts[node.input[1]]).astype(np.float32))
        for i, node in enumerate(graph.node)
        if node.op_type == "MatMul"
        and node.input[1] in consts
        and len(consts[node.input[1]].dims) == 2
    ]
    if not targets:
        raise UnsupportedModel("no MatMul with a constant weight to quantize")
    wmax: dict[str, np.ndarray] = {}  # per input channel, over all weights reading that input
    for _, node, wf in targets:
        wmax[node.input[0]] = np.maximum(wmax.get(node.input[0], 0.0), np.abs(wf).max(axis=1))
    smooth = {
        x: np.clip(np.sqrt(np.maximum(stats[x], 1e-5) / np.maximum(w, 1e-5)), 1e-2, 1e2).astype(
            np.float32
        )
        for x, w in wmax.items()
        if x in stats
    }
    qmax = 63.0 if reduce_range else 127.0
    extra: list[Any] = []

    def const(name: str, value: Any) -> str:
        extra.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    zp, one = const("q_zp", np.uint8(128)), const("q_one", np.float32(1.0))
    eps, c127 = const("q_eps", np.float32(1e-8)), const("q_127", np.float32(127.0))
    ax1, s0, sm1 = const("q_ax1", [1]), const("q_s0", [0]), const("q_sm1", [-1])
    mk = helper.make_node
    replaced = {i: (node, wf) for i, node, wf in targets}
    nodes: list[Any] = []
    quantized: dict[str, str] = {}  # activation -> prefix of its quantized form (shared by Q, K, V)
    for i, node in enumerate(graph.node):
        if i not in replaced:
            nodes.append(node)
            continue
        _, wf = replaced[i]
        x = node.input[0]
        k, n = wf.shape
        if x in smooth:
            wf = wf * smooth[x][:, None]
        scale = np.maximum(np.abs(wf).max(axis=0), 1e-12) / qmax
        wq = np.clip(np.round(wf / scale), -qmax, qmax).astype(np.int8)
        if x not in quantized:
            a = quantized[x] = f"qa{i}_"
            xs = x
            if x in smooth:
                xs = a + "smoothed"
                nodes.append(mk("Mul", [x, const(a + "inv", 1.0 / smooth[x])], [xs]))
            nodes += [
                mk("Reshape", [xs, const(a + "shape", [-1, k])], [a + "x"]),
                mk("ReduceMax", [a + "x"], [a + "hi"], axes=[1], keepdims=0),
                mk("ReduceMin", [a + "x"], [a + "lo"], axes=[1], keepdims=0),
                mk("Neg", [a + "lo"], [a + "nlo"]),
                mk("Max", [a + "hi", a + "nlo", eps], [a + "amax"]),
                mk("Div", [a + "amax", c127], [a + "scale"]),
                mk("Shape", [a + "scale"], [a + "rows"]),
                mk("Expand", [zp, a + "rows"], [a + "zp"]),
                mk("QuantizeLinear", [a + "x", a + "scale", a + "zp"], [a + "q"], axis=0),
                mk("Unsqueeze", [a + "scale", ax1], [a + "col"]),
                mk("Shape", [x], [a + "xshape"]),
                mk("Slice", [a + "xshape", s0, sm1], [a + "lead"]),
            ]
        a, p = quantized[x], f"q{i}_"
        nodes += [
            mk(
                "MatMulIntegerToFloat",
                [a + "q", const(p + "w", wq), one, const(p + "ws", scale.astype(np.float32)), zp],
                [p + "y"],
                domain="com.microsoft",
            ),
            mk("Mul", [p + "y", a + "col"], [p + "ys"]),
            mk("Concat", [a + "lead", const(p + "n", [n])], [p + "shape"], axis=0),
            mk("Reshape", [p + "ys", p + "shape"], [node.output[0]]),
        ]
    used = {name for node in nodes for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + extra)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, str(dst))
