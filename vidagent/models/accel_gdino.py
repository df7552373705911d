"""transformers Grounding DINO: text features computed once per caption, and the image side on
ONNX Runtime or OpenVINO.

:func:`cache_text_features` makes the model's BERT text backbone remember its last few outputs, so
a video's keyframes (same caption every time) run BERT once. :class:`OrtGroundingDino` runs the
rest of the model -- Swin backbone, feature enhancer, decoder, heads -- as one ONNX graph that
takes the text features as inputs. The graph is exported from the loaded model the first time an
(image height, width, caption-token bucket) is seen and cached on disk (see
:mod:`vidagent.models.export_cache`); the caption is padded to a multiple of ``TOKEN_BUCKET``
tokens (padding is masked out, as in batched captions), so questions of similar length share it.
The export writes the multi-scale deformable attention as :func:`deformable_attention` (the same
sums in an order the runtimes compute faster).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from vidagent.models.export_cache import cached_export, digest_of, runtime_tag

log = logging.getLogger(__name__)

TOKEN_BUCKET = 32  # captions are padded up to a multiple of this many tokens
# the exported graph's own version, in the export's name (bump when export_image_side writes
# another graph for the same model): 2 = deformable attention as ``deformable_attention``;
# 3 = also the text-image fusion as ``fusion_attention``
GRAPH = 3
_EXPORT_LOCK = threading.Lock()  # exports patch a module function of transformers


def _key(value) -> object:
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        return (tuple(t.shape), str(t.dtype), t.numpy().tobytes())
    return value


def cache_text_features(model, size: int = 8) -> None:
    """Memoise ``model.model.text_backbone`` (inference only) on its exact inputs; up to ``size``
    captions. ``model.model.text_backbone.text_cache_stats`` counts hits and misses."""
    tb = model.model.text_backbone
    if getattr(tb, "text_cache_stats", None) is not None:
        return
    inner = tb.forward
    memo: OrderedDict = OrderedDict()
    stats = {"hits": 0, "misses": 0}
    lock = threading.Lock()

    def forward(*args, **kwargs):
        if torch.is_grad_enabled():
            return inner(*args, **kwargs)
        key = tuple(_key(a) for a in args) + tuple(sorted((k, _key(v)) for k, v in kwargs.items()))
        with lock:
            if key in memo:
                memo.move_to_end(key)
                stats["hits"] += 1
                return memo[key]
        out = inner(*args, **kwargs)
        with lock:
            stats["misses"] += 1
            memo[key] = out
            while len(memo) > size:
                memo.popitem(last=False)
        return out

    tb.forward = forward
    tb.text_cache_stats = stats


def text_inputs(model, input_ids, attention_mask, token_type_ids) -> dict[str, torch.Tensor]:
    """The text-side tensors the exported graph takes, computed as the model computes them:
    the block attention mask and positions between special tokens, and BERT's hidden states."""
    from transformers.models.grounding_dino import modeling_grounding_dino as gd

    inner = model.model
    tmask, tpos = gd.generate_masks_with_special_tokens_and_transfer_map(
        input_ids, special_tokens=inner.special_tokens
    )
    hidden = inner.text_backbone(input_ids, tmask[:, None], token_type_ids, tpos, return_dict=True)
    return {
        "pixel_mask": None,  # filled by the caller
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": token_type_ids,
        "text_hidden": hidden.last_hidden_state,
        "text_mask": tmask,
        "text_position_ids": tpos,
    }


INPUTS = (
    "pixel_values",
    "pixel_mask",
    "input_ids",
    "attention_mask",
    "token_type_ids",
    "text_hidden",
    "text_mask",
    "text_position_ids",
)


class _ImageSide(torch.nn.Module):
    """The model with its text side fed from inputs (what is exported)."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values, pixel_mask, input_ids, attention_mask, token_type_ids,
                text_hidden, text_mask, text_position_ids):  # fmt: skip
        from transformers.modeling_outputs import BaseModelOutput
        from transformers.models.grounding_dino import modeling_grounding_dino as gd

        tb = self.model.model.text_backbone
        saved_tb = tb.__dict__.get("forward")
        saved_masks = gd.generate_masks_with_special_tokens_and_transfer_map
        tb.forward = lambda *a, **k: BaseModelOutput(last_hidden_state=text_hidden)
        gd.generate_masks_with_special_tokens_and_transfer_map = lambda *a, **k: (
            text_mask,
            text_position_ids,
        )
        try:
            out = self.model(
                pixel_values=pixel_values,
                pixel_mask=pixel_mask,
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            )
        finally:
            gd.generate_masks_with_special_tokens_and_transfer_map = saved_masks
            if saved_tb is None:
                del tb.forward
            else:
                tb.forward = saved_tb
        return out.logits, out.pred_boxes


def deformable_attention(value, value_spatial_shapes, value_spatial_shapes_list, level_start_index,
                         sampling_locations, attention_weights, im2col_step=None):  # fmt: skip
    """transformers' ``MultiScaleDeformableAttention.forward`` (PyTorch's multi-scale deformable
    attention) as the export writes it: the same sampled values and weights, in another order.

    The original samples every level with the points innermost ((heads, dim, queries, points)),
    stacks the levels' samples into one (heads, dim, queries, levels x points) tensor, multiplies
    it by the attention weights and sums the last axis. Here each level's grid has the points
    outer ((heads, points, queries)), its samples are weighted and summed over the points axis,
    and the levels' sums are added: no stacked copy of every sample (OpenVINO's Concat of it was
    ~7% of a full-size DINO-T call at 360x640), and a GridSample and sum over contiguous queries.
    Only the order of the float sums differs (~1e-7 relative)."""
    batch, _, heads, dim = value.shape
    _, queries, _, levels, points, _ = sampling_locations.shape
    values = value.split([h * w for h, w in value_spatial_shapes_list], dim=1)
    # (batch, queries, heads, levels, points, 2) -> (batch x heads, levels, points, queries, 2)
    grids = (2 * sampling_locations - 1).permute(0, 2, 3, 4, 1, 5).flatten(0, 1)
    # (batch, queries, heads, levels, points) -> (batch x heads, 1, levels, points, queries)
    weights = attention_weights.permute(0, 2, 3, 4, 1).flatten(0, 1)[:, None]
    out = None
    for level, (h, w) in enumerate(value_spatial_shapes_list):
        v = values[level].flatten(2).transpose(1, 2).reshape(batch * heads, dim, h, w)
        sampled = torch.nn.functional.grid_sample(
            v, grids[:, level], mode="bilinear", padding_mode="zeros", align_corners=False
        )  # (batch x heads, dim, points, queries)
        part = (sampled * weights[:, :, level]).sum(2)
        out = part if out is None else out + part
    return out.view(batch, heads * dim, queries).transpose(1, 2).contiguous()


def fusion_attention(self, vision_features, text_features, vision_attention_mask=None,
                     text_attention_mask=None):  # fmt: skip
    """transformers' ``GroundingDinoBiMultiHeadAttention.forward`` (the feature enhancer's
    text-image fusion) as the export writes it: the same products, associated so that no
    (image tokens x 1024) projection is made.

    The original projects the N image tokens (256 wide) to 1024-wide queries and values and
    projects the 1024-wide attended values back: three N x 256 x 1024 products per layer, ~90% of
    the fusion's work for a 32-token caption (22.7% of a full-size DINO-T call at 360x640 on
    OpenVINO). With L caption tokens, per head h: Q_h K_h^T = V (K_h W_q,h)^T + K_h b_q,h; the text
    side's P_h (V W_v,h^T + b_v,h) = (P_h V) W_v,h^T + rowsum(P_h) b_v,h; the image side's
    out-projection of the heads' P_h T_h is sum_h P_h (T_h W_o,h^T) + b_o: products of N by 256 by
    L per head instead. Only the order of the float sums differs (~1e-7 relative)."""
    b, n, _ = vision_features.shape
    heads, hd = self.num_heads, self.head_dim
    keys = self.text_proj(text_features).view(b, -1, heads, hd).transpose(1, 2)  # b,h,L,hd
    tokens = keys.shape[2]
    wq = self.vision_proj.weight.view(heads, hd, -1)
    qk = keys @ wq  # (b, heads, L, 256): each token's key through the image queries' projection
    bias = keys @ self.vision_proj.bias.view(heads, hd, 1)  # (b, heads, L, 1)
    attn = (vision_features[:, None] @ qk.transpose(-1, -2) + bias.transpose(-1, -2)) * self.scale
    attn_weights = attn.flatten(0, 1)  # (b x heads, N, L) as the original's bmm
    attn_weights = attn_weights - attn_weights.max()
    attn_weights = torch.clamp(attn_weights, min=-50000, max=50000)
    transposed = attn_weights.transpose(1, 2)
    text_attn_weights = transposed - torch.max(transposed, dim=-1, keepdim=True)[0]
    text_attn_weights = torch.clamp(text_attn_weights, min=-50000, max=50000)
    if vision_attention_mask is not None:
        mask = vision_attention_mask[:, None, None, :].repeat(1, heads, 1, 1).flatten(0, 1)
        text_attn_weights = text_attn_weights.masked_fill(mask, float("-inf"))
    text_attn_weights = text_attn_weights.softmax(dim=-1)
    if text_attention_mask is not None:
        mask = text_attention_mask[:, None, None, :].repeat(1, heads, 1, 1).flatten(0, 1)
        attn_weights = attn_weights.masked_fill(mask, float("-inf"))
    vision_attn_weights = attn_weights.softmax(dim=-1)
    probs_t = text_attn_weights.view(b, heads, tokens, n)
    wv = self.values_vision_proj.weight.view(heads, hd, -1)
    text_out = ((probs_t @ vision_features[:, None]) @ wv.transpose(-1, -2)
                + probs_t.sum(-1, keepdim=True) * self.values_vision_proj.bias.view(heads, 1, hd))
    text_attn_output = self.out_text_proj(text_out.transpose(1, 2).reshape(b, tokens, heads * hd))
    values_t = self.values_text_proj(text_features).view(b, tokens, heads, hd).transpose(1, 2)
    wo = self.out_vision_proj.weight.view(-1, heads, hd).permute(1, 2, 0)  # heads, hd, 256
    per_token = (values_t @ wo).reshape(b, heads * tokens, -1)
    probs_v = vision_attn_weights.view(b, heads, n, tokens).transpose(1, 2).reshape(b, n, -1)
    vision_attn_output = probs_v @ per_token + self.out_vision_proj.bias
    return (vision_attn_output, vision_attn_weights), (text_attn_output, text_attn_weights)


@contextmanager
def _export_forms(model):
    """While active, the model's multi-scale deformable attention modules run
    :func:`deformable_attention` and its text-image fusion modules :func:`fusion_attention`
    (what the export should write)."""
    from types import MethodType

    from transformers.models.grounding_dino import modeling_grounding_dino as gd

    mods = [m for m in model.modules() if isinstance(m, gd.MultiScaleDeformableAttention)]
    fusions = [m for m in model.modules() if isinstance(m, gd.GroundingDinoBiMultiHeadAttention)]
    saved = [m.__dict__.get("forward") for m in mods + fusions]
    for m in mods:
        m.forward = deformable_attention
    for m in fusions:
        m.forward = MethodType(fusion_attention, m)
    try:
        yield len(mods)
    finally:
        for m, f in zip(mods + fusions, saved):
            if f is None:
                del m.forward
            else:
                m.forward = f


def export_image_side(model, inputs: dict[str, torch.Tensor], path: Path) -> None:
    """Write the model's image side as ONNX for the shapes of ``inputs`` (its deformable
    attention as :func:`deformable_attention`)."""
    with torch.inference_mode(False):
        args = tuple(inputs[k].clone() for k in INPUTS)
    with _EXPORT_LOCK, _export_forms(model), torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(
            _ImageSide(model).eval(),
            args,
            str(path),
            input_names=list(INPUTS),
            output_names=["logits", "pred_boxes"],
            opset_version=17,
            dynamo=False,
        )
    cast_grid_sample_grids(path)


def cast_grid_sample_grids(path: Path) -> None:
    """Make every GridSample's sampling grid float32 in the ONNX file at ``path``.

    The TorchScript exporter types the deformable attention's sampling grid as float64 on some
    input sizes (integer spatial shapes divided by floats), and ONNX Runtime has no float64
    GridSample; PyTorch computes that grid in float32, so a Cast restores what it does."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(path))
    nodes = list(model.graph.node)
    out = []
    for n, node in enumerate(nodes):
        if node.op_type == "GridSample":
            grid = node.input[1]
            cast = f"{grid}_as_float_{n}"
            out.append(helper.make_node("Cast", [grid], [cast], to=TensorProto.FLOAT,
                                        name=f"{node.name}_grid_cast"))  # fmt: skip
            node.input[1] = cast
        out.append(node)
    del model.graph.node[:]
    model.graph.node.extend(out)
    onnx.save(model, str(path))


def pad_tokens(input_ids, attention_mask, token_type_ids, bucket: int, limit: int):
    """Pad the caption to a multiple of ``bucket`` tokens (at most ``limit``); pads are masked."""
    n = input_ids.shape[1]
    target = min(limit, -(-n // bucket) * bucket)
    if target <= n:
        return input_ids, attention_mask, token_type_ids
    pad = target - n

    def ext(t):
        return torch.cat([t, t.new_zeros(t.shape[0], pad)], dim=1)

    return ext(input_ids), ext(attention_mask), ext(token_type_ids)


class OrtGroundingDino:
    """Callable like the model (keyword inputs of the processor) returning ``logits`` and
    ``pred_boxes``; runs the ONNX graph of the shape (ONNX Runtime or OpenVINO), the PyTorch model
    if a run fails.

    Args:
        model: the loaded ``GroundingDinoForObjectDetection`` (text side and fallback).
        weights: the weight files or folder it was loaded from (keys the export cache), or a
            digest of a model built in memory.
        bucket: caption tokens are padded to a multiple of this.
        runtime: "onnxruntime" or "openvino" (which falls back to ONNX Runtime when it cannot
            compile the graph; see ``ort_session.open_session``).
        precision: "fp32", or "bf16" (OpenVINO on a CPU with bf16 only).
    """

    def __init__(self, model, weights: list[Path] | str, bucket: int = TOKEN_BUCKET,
                 runtime: str = "onnxruntime", precision: str = "fp32") -> None:  # fmt: skip
        import importlib

        importlib.import_module(runtime)  # fail here, at set-up, when it is missing
        cache_text_features(model)
        self.runtime = runtime
        self.precision = precision
        self.model = model
        self.bucket = int(bucket)
        self.max_text_len = int(model.config.max_text_len)
        self.digest = digest_of(weights)
        self.sessions: dict[tuple, object] = {}
        self.paths: dict[tuple, Path] = {}  # the ONNX file of each session
        self.failed = False
        self.ort_calls = 0

    def _session(self, inputs: dict[str, torch.Tensor]):
        from vidagent.models.ort_session import open_session

        h, w = inputs["pixel_values"].shape[-2:]
        t = inputs["input_ids"].shape[1]
        shape = (int(h), int(w), int(t))
        if shape not in self.sessions:
            name = (f"gdino-{self.digest}-{shape[0]}x{shape[1]}-t{shape[2]}-g{GRAPH}-"
                    f"{runtime_tag()}")
            path = cached_export(name, lambda p: export_image_side(self.model, inputs, p))
            sess = open_session(path, self.runtime, torch.get_num_threads(), self.precision)
            self.sessions[shape] = (sess, {i.name for i in sess.get_inputs()})
            self.paths[shape] = path
        return self.sessions[shape]

    def __call__(self, pixel_values, input_ids, attention_mask=None, token_type_ids=None,
                 pixel_mask=None, **kwargs):  # fmt: skip
        if not self.failed and input_ids.shape[1] <= self.max_text_len:
            try:
                return self._run(pixel_values, input_ids, attention_mask, token_type_ids,
                                 pixel_mask)  # fmt: skip
            except Exception as e:
                log.warning("Grounding DINO: %s failed (%s: %s); back to PyTorch",
                            self.runtime, type(e).__name__, e)  # fmt: skip
                self.failed = True
        return self.model(
            pixel_values=pixel_values,
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            pixel_mask=pixel_mask,
            **kwargs,
        )

    def _run(self, pixel_values, input_ids, attention_mask, token_type_ids, pixel_mask):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if pixel_mask is None:
            b, _, h, w = pixel_values.shape
            pixel_mask = torch.ones((b, h, w), dtype=torch.long)
        ids, am, tt = pad_tokens(
            input_ids, attention_mask, token_type_ids, self.bucket, self.max_text_len
        )
        with torch.inference_mode():
            inputs = text_inputs(self.model, ids, am, tt)
        inputs["pixel_values"] = pixel_values
        inputs["pixel_mask"] = pixel_mask
        sess, names = self._session(inputs)
        feed = {k: np.ascontiguousarray(v.cpu().numpy()) for k, v in inputs.items() if k in names}
        logits, boxes = sess.run(None, feed)
        self.ort_calls += 1
        return SimpleNamespace(logits=torch.from_numpy(logits), pred_boxes=torch.from_numpy(boxes))
