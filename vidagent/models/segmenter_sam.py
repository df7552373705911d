"""Segment Anything (the original ``segment_anything`` package) as a :class:`Segmenter`.

``build_sam(arch, input_size)`` builds the model at any input resolution: the 1024-pixel
checkpoints are adapted by interpolating the absolute positional embedding and the relative
position tables of the global-attention blocks (:func:`adapt_state_dict`), so that a smaller
``input_size`` trades mask detail for a much cheaper image encoder. Checkpoints load strictly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from vidagent.models.base import Segmenter, check_rgb_image
from vidagent.models.weights import UrlWeight, load_strict, read_state_dict

SAM_URL = "https://dl.fbaipublicfiles.com/segment_anything/"


@dataclass(frozen=True)
class SamArch:
    """Shape of a SAM model (the image encoder ViT and the prompt/mask decoder)."""

    embed_dim: int  # ViT width
    depth: int  # ViT blocks
    num_heads: int  # ViT attention heads
    global_attn_indexes: tuple[int, ...]  # blocks with global (not windowed) attention
    patch_size: int = 16  # ViT patch size in pixels
    window_size: int = 14  # windowed-attention size in patches
    prompt_dim: int = 256  # prompt / mask-decoder embedding width
    decoder_mlp_dim: int = 2048  # two-way transformer MLP width
    decoder_heads: int = 8  # two-way transformer heads
    mask_in_chans: int = 16  # channels of the dense mask-prompt encoder


# the three released models (segment_anything/build_sam.py)
SAM_ARCHS: dict[str, SamArch] = {
    "vit_b": SamArch(768, 12, 12, (2, 5, 8, 11)),
    "vit_l": SamArch(1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": SamArch(1280, 32, 16, (7, 15, 23, 31)),
}

# official checkpoints; MD5 sums as published alongside them (their names carry the first six
# hex digits). No SHA-256 is documented by the authors.
SAM_CHECKPOINTS: dict[str, UrlWeight] = {
    "vit_b": UrlWeight(
        SAM_URL + "sam_vit_b_01ec64.pth", "sam", md5="01ec64d29a2fca3f0661936605ae66f8"
    ),
    "vit_l": UrlWeight(
        SAM_URL + "sam_vit_l_0b3195.pth", "sam", md5="0b3195507c641ddb6910d2bb5adee89c"
    ),
    "vit_h": UrlWeight(
        SAM_URL + "sam_vit_h_4b8939.pth", "sam", md5="4b8939a88964f0f4ff5f5b2642c598a6"
    ),
}


def build_sam(arch: SamArch | str, input_size: int = 1024):
    """A randomly initialised ``segment_anything.modeling.Sam`` of ``arch`` at ``input_size``.

    ``input_size`` must be a multiple of the patch size (16).
    """
    import torch
    from segment_anything.modeling import (
        ImageEncoderViT,
        MaskDecoder,
        PromptEncoder,
        Sam,
        TwoWayTransformer,
    )

    a = SAM_ARCHS[arch] if isinstance(arch, str) else arch
    if input_size % a.patch_size:
        raise ValueError(f"SAM input_size {input_size} is not a multiple of {a.patch_size}")
    grid = input_size // a.patch_size
    sam = Sam(
        image_encoder=ImageEncoderViT(
            depth=a.depth,
            embed_dim=a.embed_dim,
            img_size=input_size,
            mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=a.num_heads,
            patch_size=a.patch_size,
            qkv_bias=True,
            use_rel_pos=True,
            global_attn_indexes=a.global_attn_indexes,
            window_size=a.window_size,
            out_chans=a.prompt_dim,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=a.prompt_dim,
            image_embedding_size=(grid, grid),
            input_image_size=(input_size, input_size),
            mask_in_chans=a.mask_in_chans,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=2,
                embedding_dim=a.prompt_dim,
                mlp_dim=a.decoder_mlp_dim,
                num_heads=a.decoder_heads,
            ),
            transformer_dim=a.prompt_dim,
            iou_head_depth=3,
            iou_head_hidden_dim=a.prompt_dim,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    return sam.eval()


def adapt_state_dict(state_dict: dict, model) -> dict:
    """Resize a checkpoint's resolution-dependent tensors to ``model``'s input size.

    Only ``image_encoder.pos_embed`` (1, G, G, C; bicubic) and the ``rel_pos_h``/``rel_pos_w``
    tables of global-attention blocks (2G-1, C; linear, as segment_anything's own ``get_rel_pos``
    does) are resized, and only when their shapes differ; every other tensor is left alone so a
    wrong checkpoint still fails the strict load.
    """
    import torch.nn.functional as F

    own = model.state_dict()
    out = dict(state_dict)
    for k, v in state_dict.items():
        if k not in own or tuple(v.shape) == tuple(own[k].shape):
            continue
        target = own[k].shape
        if k == "image_encoder.pos_embed" and v.ndim == 4 and v.shape[-1] == target[-1]:
            x = v.permute(0, 3, 1, 2).float()
            x = F.interpolate(x, size=tuple(target[1:3]), mode="bicubic", align_corners=False)
            out[k] = x.permute(0, 2, 3, 1).to(v.dtype)
        elif k.endswith((".rel_pos_h", ".rel_pos_w")) and v.ndim == 2 and v.shape[1] == target[1]:
            x = v.t()[None].float()  # (1, C, L)
            x = F.interpolate(x, size=target[0], mode="linear")
            out[k] = x[0].t().to(v.dtype)
    return out


def load_sam(checkpoint: str | Path, arch: SamArch | str, input_size: int = 1024):
    """``Sam`` with weights from ``checkpoint`` (.pth state dict or .safetensors), strictly.

    Raises:
        CheckpointError: unreadable checkpoint, or keys/shapes that do not match ``arch``.
    """
    sam = build_sam(arch, input_size)
    sd = adapt_state_dict(read_state_dict(checkpoint), sam)
    name = arch if isinstance(arch, str) else "SAM"
    load_strict(sam, sd, what=f"SAM {name} ({checkpoint})")
    return sam


@dataclass
class _ImageState:
    """What ``set_image`` caches: the embedding and the sizes needed to map prompts and masks."""

    features: object  # (1, C, G, G) torch tensor
    original_size: tuple[int, int]  # (H, W) of the image given
    input_size: tuple[int, int]  # (h, w) after resizing the long side to the model's input size
    extra: dict = field(default_factory=dict)


class SamSegmenter(Segmenter):
    """Promptable segmenter on ``segment_anything``: one embedding per image, batched prompts.

    Args:
        sam: a ``segment_anything.modeling.Sam`` (see :func:`load_sam`).
        device: torch device string.
        max_batch: prompts decoded per mask-decoder call (bounds memory; results identical).
        box_multimask: box prompts decode SAM's three masks and keep the best (True) or its
            single-mask output (False, the default); see :meth:`predict`.
    """

    def __init__(
        self, sam, device: str = "cpu", max_batch: int = 32, box_multimask: bool = False
    ) -> None:
        from segment_anything import SamPredictor

        self.box_multimask = bool(box_multimask)
        self.model = sam.eval().to(device)
        self.predictor = SamPredictor(self.model)
        self.device = device
        self.max_batch = max_batch
        self._state: _ImageState | None = None

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: str | Path,
        arch: SamArch | str,
        input_size: int = 1024,
        device: str = "cpu",
        box_multimask: bool = False,
    ) -> SamSegmenter:
        return cls(load_sam(checkpoint, arch, input_size), device=device, box_multimask=box_multimask)

    @property
    def input_size(self) -> int:
        """Long side (pixels) the image encoder sees."""
        return int(self.model.image_encoder.img_size)

    @property
    def is_image_set(self) -> bool:
        return self._state is not None

    can_embed = True

    def set_image(self, image: np.ndarray) -> None:
        """Embed ``image`` (HWC uint8 RGB) once; later :meth:`predict` calls reuse it."""
        self._state = self._embed(self.predictor, image)

    def embed(self, image: np.ndarray) -> _ImageState:
        """See :meth:`Segmenter.embed`: on a predictor of its own (``predict`` reads only the
        state it is given)."""
        from segment_anything import SamPredictor

        return self._embed(SamPredictor(self.model), image)

    def set_embedding(self, embedding: _ImageState) -> None:
        self._state = embedding

    @staticmethod
    def _embed(predictor, image: np.ndarray) -> _ImageState:
        import torch

        image = check_rgb_image(image)
        with torch.inference_mode():
            predictor.set_image(image, image_format="RGB")
        p = predictor
        return _ImageState(p.features, tuple(p.original_size), tuple(p.input_size))

    def reset_image(self) -> None:
        """Forget the cached embedding."""
        self.predictor.reset_image()
        self._state = None

    def predict(
        self,
        boxes: np.ndarray | None = None,
        points: np.ndarray | None = None,
        point_labels: np.ndarray | None = None,
        multimask: bool | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Masks for N prompts (boxes and/or points of the same N objects); see :class:`Segmenter`.

        With ``multimask`` the decoder's three candidates are scored by its predicted IoU and the
        best is kept; otherwise its single-mask output is used; None = ``box_multimask`` for box
        prompts, three masks for point prompts. Quality = predicted IoU.
        """
        import torch

        multimask = self.resolve_multimask(multimask, points)
        if self._state is None:
            raise RuntimeError("An image must be set with set_image(...) before predict(...)")
        st = self._state
        n = _num_prompts(boxes, points, point_labels)
        h, w = st.original_size
        if n == 0:
            return np.zeros((0, h, w), dtype=bool), np.zeros(0, dtype=np.float32)
        tr = self.predictor.transform
        masks_out, scores_out = [], []
        with torch.inference_mode():
            for s in range(0, n, self.max_batch):
                sl = slice(s, min(n, s + self.max_batch))
                pts = None
                if points is not None:
                    c = torch.as_tensor(
                        np.asarray(points, dtype=np.float32)[sl], device=self.device
                    )
                    c = tr.apply_coords_torch(c, st.original_size)
                    lab = torch.as_tensor(
                        np.asarray(point_labels)[sl], dtype=torch.int, device=self.device
                    )
                    pts = (c, lab)
                bx = None
                if boxes is not None:
                    b = torch.as_tensor(np.asarray(boxes, dtype=np.float32)[sl], device=self.device)
                    bx = tr.apply_boxes_torch(b, st.original_size)
                sparse, dense = self.model.prompt_encoder(points=pts, boxes=bx, masks=None)
                low, iou = self.model.mask_decoder(
                    image_embeddings=st.features,
                    image_pe=self.model.prompt_encoder.get_dense_pe(),
                    sparse_prompt_embeddings=sparse,
                    dense_prompt_embeddings=dense,
                    multimask_output=multimask,
                )
                best = iou.argmax(dim=1)
                rows = torch.arange(len(best), device=best.device)
                low, q = low[rows, best][:, None], iou[rows, best]
                m = self.model.postprocess_masks(low, st.input_size, st.original_size)
                masks_out.append((m[:, 0] > self.model.mask_threshold).cpu().numpy())
                scores_out.append(q.float().cpu().numpy())
        return np.concatenate(masks_out), np.concatenate(scores_out).astype(np.float32)


def _num_prompts(boxes, points, point_labels) -> int:
    """N shared by the prompts; raises ValueError on inconsistent shapes."""
    n = None
    if boxes is not None:
        b = np.asarray(boxes)
        if b.ndim != 2 or b.shape[1] != 4:
            raise ValueError(f"boxes must be (N, 4) XYXY, got {b.shape}")
        n = len(b)
    if points is not None:
        p = np.asarray(points)
        if p.ndim != 3 or p.shape[2] != 2:
            raise ValueError(f"points must be (N, P, 2) XY, got {p.shape}")
        if point_labels is None or np.asarray(point_labels).shape != p.shape[:2]:
            raise ValueError("point_labels must be (N, P) to match points")
        if n is not None and len(p) != n:
            raise ValueError(f"{n} boxes but {len(p)} point prompts")
        n = len(p)
    if n is None:
        raise ValueError("predict needs boxes and/or points")
    return n
