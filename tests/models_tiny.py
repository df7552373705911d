"""Tiny models of the real architectures with random weights, saved the way the real checkpoints
are stored, for the model tests (no downloads)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    ".",
    "?",
    "dog",
    "red",
    "ball",
    "cat",
    "a",
    "person",
    "car",
    "blue",
    "big",
    "the",
    "##s",
    "left",
    "of",
]


def bert_tokenizer():
    """BERT WordPiece tokenizer over the small vocabulary above (lower-cases input)."""
    from transformers import BertTokenizerFast

    return BertTokenizerFast(vocab={w: i for i, w in enumerate(WORDS)})


def tiny_bert_config(hidden: int = 32):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=len(WORDS),
        hidden_size=hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=256,
    )


def random_image(h: int = 120, w: int = 160, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def save_tiny_hf_gdino(folder: Path, seed: int = 0) -> Path:
    """A tiny ``GroundingDinoForObjectDetection`` + processor saved with ``save_pretrained``.

    Text features are scaled down so that token probabilities are spread out (random weights
    otherwise saturate every sigmoid at 1).
    """
    import torch
    from transformers import (
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
        SwinConfig,
    )

    backbone = SwinConfig(
        image_size=224,
        patch_size=4,
        embed_dim=8,
        depths=[1, 1, 1, 1],
        num_heads=[1, 1, 1, 1],
        window_size=7,
        out_features=["stage2", "stage3", "stage4"],
    )
    cfg = GroundingDinoConfig(
        backbone_config=backbone,
        text_config=tiny_bert_config(16),
        d_model=32,
        encoder_layers=1,
        decoder_layers=2,
        encoder_ffn_dim=16,
        decoder_ffn_dim=16,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        num_queries=30,
        encoder_n_points=1,
        decoder_n_points=1,
    )
    torch.manual_seed(seed)
    model = GroundingDinoForObjectDetection(cfg).eval()
    with torch.no_grad():
        model.model.text_projection.weight.mul_(0.05)
    processor = GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessor(), tokenizer=bert_tokenizer()
    )
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def tiny_sam_arch():
    from vidagent.models.segmenter_sam import SamArch

    return SamArch(
        embed_dim=32,
        depth=2,
        num_heads=2,
        global_attn_indexes=(1,),
        prompt_dim=32,
        decoder_mlp_dim=64,
        decoder_heads=2,
    )


def save_tiny_sam(path: Path, input_size: int = 256, seed: int = 0) -> Path:
    """A tiny segment_anything ``Sam`` saved as a ``.pth`` state dict (as the released files)."""
    import torch

    from vidagent.models.segmenter_sam import build_sam

    torch.manual_seed(seed)
    sam = build_sam(tiny_sam_arch(), input_size)
    with torch.no_grad():  # relative position tables are zero-initialised; make them count
        for name, p in sam.named_parameters():
            if "rel_pos" in name:
                p.normal_(0, 0.5)
    torch.save(sam.state_dict(), path)
    return path


def save_tiny_hf_sam(folder: Path, seed: int = 0) -> Path:
    """A tiny transformers ``SamModel`` + ``SamProcessor`` saved with ``save_pretrained``."""
    import torch
    from transformers import (
        SamConfig,
        SamImageProcessor,
        SamMaskDecoderConfig,
        SamModel,
        SamProcessor,
        SamPromptEncoderConfig,
        SamVisionConfig,
    )

    cfg = SamConfig(
        vision_config=SamVisionConfig(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            output_channels=32,
            image_size=256,
            mlp_dim=64,
            global_attn_indexes=[1],
            window_size=7,
            num_pos_feats=16,
        ),
        prompt_encoder_config=SamPromptEncoderConfig(
            hidden_size=32, image_size=256, mask_input_channels=4
        ),
        mask_decoder_config=SamMaskDecoderConfig(
            hidden_size=32, mlp_dim=64, num_attention_heads=2, iou_head_hidden_dim=32
        ),
    )
    torch.manual_seed(seed)
    SamModel(cfg).eval().save_pretrained(folder)
    SamProcessor(
        image_processor=SamImageProcessor(
            size={"longest_edge": 256}, pad_size={"height": 256, "width": 256}
        )
    ).save_pretrained(folder)
    return folder


def save_tiny_text_encoder(folder: Path) -> Path:
    """Tokenizer files + BERT config.json (what the groundingdino backend reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    bert_tokenizer().save_pretrained(folder)
    tiny_bert_config(32).save_pretrained(folder)
    return folder


# the tiny GroundingDINO: the package's SwinT config with small transformer settings (the text
# position embedding fixes hidden_dim at 256; the Swin-T backbone has no smaller variant)
GDINO_TINY = {
    "hidden_dim": 256,
    "nheads": 8,
    "dim_feedforward": 32,
    "enc_layers": 1,
    "dec_layers": 2,
    "num_queries": 20,
    "enc_n_points": 1,
    "dec_n_points": 1,
}


def write_tiny_gdino_config(path: Path) -> Path:
    """A groundingdino ``.py`` config: the package's SwinT-OGC one with GDINO_TINY applied."""
    from vidagent.models.detector_gdino import default_config

    text = default_config().read_text()
    lines = [ln for ln in text.splitlines() if ln.split("=")[0].strip() not in GDINO_TINY]
    lines += [f"{k} = {v!r}" for k, v in GDINO_TINY.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def save_tiny_gdino(path: Path, config: Path, text_dir: Path, seed: int = 0) -> Path:
    """A tiny original GroundingDINO saved as ``{"model": state_dict}`` (the released format)."""
    import torch

    from vidagent.models.gdino_compat import build_groundingdino

    torch.manual_seed(seed)
    model = build_groundingdino(config, text_dir)
    with torch.no_grad():
        model.feat_map.weight.mul_(0.02)
    torch.save({"model": model.state_dict()}, path)
    return path


def put_in_hub_cache(src: Path, cache: Path, repo_id: str, commit: str = "0" * 40) -> Path:
    """Lay ``src``'s files out as huggingface_hub stores a downloaded snapshot: blobs named by
    their content hash (SHA-256 for weights, git SHA-1 for small files), snapshot symlinks and
    ``refs/main``."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True, exist_ok=True)
    for f in sorted(Path(src).iterdir()):
        data = f.read_bytes()
        if f.suffix in (".safetensors", ".pth", ".bin"):
            name = hashlib.sha256(data).hexdigest()
        else:
            name = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        blob = repo / "blobs" / name
        shutil.copyfile(f, blob)
        link = snap / f.name
        if link.exists() or link.is_symlink():
            link.unlink()
        os.symlink(os.path.relpath(blob, snap), link)
    return snap


@pytest.fixture
def no_network(monkeypatch):
    """Every socket connection or DNS lookup fails and is recorded in the returned list."""
    import socket

    calls: list = []

    def refuse(*args, **kwargs):
        calls.append(args[1:] if args and isinstance(args[0], socket.socket) else args)
        raise OSError(f"network disabled in this test: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return calls


def edgetam_video_config():
    """The released EdgeTAM video model's configuration, as transformers' conversion script
    (``convert_edgetam_video_to_hf.py``) builds it: a timm RepViT-M1 image encoder (``timm_wrapper``
    backbone, features only), temporal object-pointer encoding and occlusion embedding off."""
    from transformers import EdgeTamVideoConfig, EdgeTamVisionConfig, TimmWrapperConfig

    backbone = TimmWrapperConfig(
        architecture="repvit_m1",
        num_labels=1000,
        model_args={"in_chans": 3, "features_only": True, "out_indices": (0, 1, 2, 3)},
    )
    return EdgeTamVideoConfig(
        vision_config=EdgeTamVisionConfig(backbone_config=backbone),
        enable_temporal_pos_encoding_for_object_pointers=False,
        enable_occlusion_spatial_embedding=False,
    )
