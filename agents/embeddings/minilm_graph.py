"""Build the ONNX graph of all-MiniLM-L6-v2 (a 6-layer BERT encoder + mean pooling + L2 normalisation)
from its safetensors weights, so onnxruntime can run the model without torch or a download."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Bump when the graph changes: a cached .onnx built by another version is rebuilt.
GRAPH_BUILDER_VERSION = "1"
OPSET = 17  # LayerNormalization is an ONNX op from 17 on


@dataclass(frozen=True)
class BertShape:
    layers: int
    hidden: int
    heads: int
    intermediate: int
    layer_norm_eps: float

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> BertShape:
        if config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only BERT encoders with GELU and absolute position embeddings are supported")
        shape = cls(
            layers=int(config["num_hidden_layers"]),  # type: ignore[call-overload]
            hidden=int(config["hidden_size"]),  # type: ignore[call-overload]
            heads=int(config["num_attention_heads"]),  # type: ignore[call-overload]
            intermediate=int(config["intermediate_size"]),  # type: ignore[call-overload]
            layer_norm_eps=float(config.get("layer_norm_eps", 1e-12)),  # type: ignore[arg-type]
        )
        if shape.hidden % shape.heads:
            raise ValueError(f"hidden size {shape.hidden} is not divisible by {shape.heads} heads")
        return shape


class _GraphBuilder:
    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._counter = 0

    def name(self, hint: str) -> str:
        self._counter += 1
        return f"{hint}_{self._counter}"

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name=name))
        return name

    def weight(self, key: str, *, transpose: bool = False) -> str:
        if key not in self.weights:
            raise KeyError(f"the checkpoint has no tensor {key!r}")
        value = self.weights[key].astype(np.float32)
        # torch Linear stores [out, in]; MatMul wants [in, out].
        return self.constant(key, np.ascontiguousarray(value.T if transpose else value))

    def node(self, op: str, inputs: list[str], hint: str | None = None, **attributes: Any) -> str:
        output = self.name(hint or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def linear(self, x: str, prefix: str) -> str:
        product = self.node("MatMul", [x, self.weight(f"{prefix}.weight", transpose=True)])
        return self.node("Add", [product, self.weight(f"{prefix}.bias")], hint=prefix)

    def layer_norm(self, x: str, prefix: str, epsilon: float) -> str:
        return self.node(
            "LayerNormalization",
            [x, self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")],
            hint=prefix,
            axis=-1,
            epsilon=epsilon,
        )


def minilm_graph_build(
    weights: Mapping[str, np.ndarray], config: Mapping[str, object], *, metadata: Mapping[str, str]
) -> onnx.ModelProto:
    """The model: inputs `input_ids` and `attention_mask` (int64 [batch, sequence]), output
    `sentence_embedding` (float32 [batch, hidden], unit length)."""
    shape = BertShape.from_config(config)
    head_size = shape.hidden // shape.heads
    g = _GraphBuilder(weights)

    shape_heads = g.constant("shape_heads", np.array([0, 0, shape.heads, head_size], dtype=np.int64))
    shape_hidden = g.constant("shape_hidden", np.array([0, 0, shape.hidden], dtype=np.int64))
    zero = g.constant("zero_1d", np.array([0], dtype=np.int64))
    axis_0 = g.constant("axis_0", np.array([0], dtype=np.int64))
    axis_1 = g.constant("axis_1", np.array([1], dtype=np.int64))
    axes_1_2 = g.constant("axes_1_2", np.array([1, 2], dtype=np.int64))
    axis_2 = g.constant("axis_2", np.array([2], dtype=np.int64))
    one = g.constant("one", np.array(1.0, dtype=np.float32))
    half = g.constant("half", np.array(0.5, dtype=np.float32))
    sqrt_2 = g.constant("sqrt_2", np.array(math.sqrt(2.0), dtype=np.float32))
    attention_scale = g.constant("attention_scale", np.array(1.0 / math.sqrt(head_size), dtype=np.float32))
    masked_score = g.constant("masked_score", np.array(-1e9, dtype=np.float32))
    min_count = g.constant("min_count", np.array(1e-9, dtype=np.float32))
    min_norm = g.constant("min_norm", np.array(1e-12, dtype=np.float32))

    # Embeddings: word + position (0..S-1) + token type 0 (single-segment inputs), then LayerNorm.
    words = g.node("Gather", [g.weight("embeddings.word_embeddings.weight"), "input_ids"], axis=0)
    sequence_length = g.node("Shape", ["input_ids"], start=1, end=2)
    positions = g.node("Slice", [g.weight("embeddings.position_embeddings.weight"), zero, sequence_length, axis_0])
    token_type = g.constant(
        "token_type_0", weights["embeddings.token_type_embeddings.weight"][0].astype(np.float32).copy()
    )
    summed = g.node("Add", [g.node("Add", [words, positions]), token_type])
    hidden = g.layer_norm(summed, "embeddings.LayerNorm", shape.layer_norm_eps)

    # Padding positions get a large negative attention score: [B, S] -> [B, 1, 1, S].
    mask = g.node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask_bias = g.node("Mul", [g.node("Sub", [one, mask]), masked_score])
    mask_bias = g.node("Unsqueeze", [mask_bias, axes_1_2])

    for index in range(shape.layers):
        prefix = f"encoder.layer.{index}"

        def heads(projection: str, perm: list[int], source: str = hidden, prefix: str = prefix) -> str:
            projected = g.linear(source, f"{prefix}.attention.self.{projection}")
            return g.node("Transpose", [g.node("Reshape", [projected, shape_heads])], perm=perm)

        query = heads("query", [0, 2, 1, 3])  # [B, heads, S, d]
        key = heads("key", [0, 2, 3, 1])  # [B, heads, d, S]
        value = heads("value", [0, 2, 1, 3])
        scores = g.node("Mul", [g.node("MatMul", [query, key]), attention_scale])
        probabilities = g.node("Softmax", [g.node("Add", [scores, mask_bias])], axis=-1)
        context = g.node("Transpose", [g.node("MatMul", [probabilities, value])], perm=[0, 2, 1, 3])
        context = g.node("Reshape", [context, shape_hidden])
        attention = g.linear(context, f"{prefix}.attention.output.dense")
        hidden = g.layer_norm(
            g.node("Add", [attention, hidden]), f"{prefix}.attention.output.LayerNorm", shape.layer_norm_eps
        )

        intermediate = g.linear(hidden, f"{prefix}.intermediate.dense")
        # Exact (erf) GELU, as BERT's "gelu"; onnxruntime fuses this pattern into one kernel.
        erf = g.node("Erf", [g.node("Div", [intermediate, sqrt_2])])
        gelu = g.node("Mul", [g.node("Mul", [intermediate, half]), g.node("Add", [erf, one])])
        output = g.linear(gelu, f"{prefix}.output.dense")
        hidden = g.layer_norm(g.node("Add", [output, hidden]), f"{prefix}.output.LayerNorm", shape.layer_norm_eps)

    # Mean pooling over real tokens, then L2 normalisation (sentence-transformers' Pooling + Normalize).
    token_mask = g.node("Unsqueeze", [mask, axis_2])  # [B, S, 1]
    masked = g.node("Mul", [hidden, token_mask])
    total = g.node("ReduceSum", [masked, axis_1], keepdims=0)  # [B, H]
    count = g.node("Max", [g.node("ReduceSum", [token_mask, axis_1], keepdims=0), min_count])  # [B, 1]
    mean = g.node("Div", [total, count])
    norm = g.node("Max", [g.node("ReduceL2", [mean], axes=[1], keepdims=1), min_norm])
    embedding = g.node("Div", [mean, norm])
    g.nodes.append(helper.make_node("Identity", [embedding], ["sentence_embedding"], name="sentence_embedding"))

    graph = helper.make_graph(
        g.nodes,
        "all_minilm_l6_v2",
        inputs=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
        ],
        outputs=[helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", shape.hidden])],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="decorum", producer_version="1"
    )
    model.ir_version = 8  # understood by every onnxruntime that supports opset 17
    helper.set_model_props(model, {"decorum_graph_builder": GRAPH_BUILDER_VERSION, **metadata})
    onnx.checker.check_model(model)
    return model
