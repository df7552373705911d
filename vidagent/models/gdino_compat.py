"""Make ``groundingdino-py`` 0.4.0 build and run on transformers 5.

Two things in the original package break or reach for the network:

* its ``BertModelWarper`` calls ``get_extended_attention_mask``, ``invert_attention_mask`` and
  ``get_head_mask``, which transformers 5 removed from ``BertModel``, and feeds the encoder
  keyword arguments (``head_mask``, ``past_key_values``) it no longer takes;
* it loads the tokenizer and *pretrained* BERT weights by name (``bert-base-uncased``), although
  the Grounding DINO checkpoint carries its own BERT weights.

:func:`patched_groundingdino` swaps in :class:`CompatBertWarper` (same sub-module names, so the
checkpoint's ``bert.*`` keys load unchanged) and builds the tokenizer and a *randomly initialised*
BERT of the right shape from a local folder (tokenizer files + ``config.json``), for the time of
one model build. The package's pure-PyTorch deformable attention is used (its C++/CUDA ops are not
compiled by the PyPI wheel).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

_LOCK = threading.Lock()


def extended_attention_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Additive (B, 1, Lq, Lk) mask from a (B, L) or (B, L, L) 1/0 keep-mask (0 where kept,
    the dtype's minimum where masked), as transformers 4's ``get_extended_attention_mask`` made
    for a BERT encoder."""
    if mask.dim() == 3:
        ext = mask[:, None, :, :]
    elif mask.dim() == 2:
        ext = mask[:, None, None, :]
    else:
        raise ValueError(f"attention mask must be (B, L) or (B, L, L), got {tuple(mask.shape)}")
    ext = ext.to(dtype)
    return (1.0 - ext) * torch.finfo(dtype).min


class CompatBertWarper(nn.Module):
    """Drop-in for groundingdino's ``BertModelWarper`` on transformers 5.

    Holds the wrapped BERT's ``embeddings``, ``encoder`` and ``pooler`` under the same names, so
    state-dict keys are unchanged. ``forward`` takes the keywords Grounding DINO passes
    (``input_ids``, ``attention_mask`` of shape (B, L, L) for its sub-sentence masking,
    ``token_type_ids``, ``position_ids``) and returns ``last_hidden_state`` and
    ``pooler_output``.
    """

    def __init__(self, bert_model: nn.Module) -> None:
        super().__init__()
        self.config = bert_model.config
        self.embeddings = bert_model.embeddings
        self.encoder = bert_model.encoder
        self.pooler = bert_model.pooler

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        **unused,
    ) -> dict:
        from transformers.modeling_outputs import BaseModelOutputWithPoolingAndCrossAttentions

        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        hidden = self.embeddings(
            input_ids=input_ids, token_type_ids=token_type_ids, position_ids=position_ids
        )
        mask = extended_attention_mask(attention_mask, hidden.dtype)
        out = self.encoder(hidden, attention_mask=mask)
        seq = out[0] if isinstance(out, tuple) else out.last_hidden_state
        pooled = self.pooler(seq) if self.pooler is not None else None
        return BaseModelOutputWithPoolingAndCrossAttentions(
            last_hidden_state=seq, pooler_output=pooled
        )


def load_tokenizer(text_encoder_dir: str | Path):
    """The BERT tokenizer (fast) in ``text_encoder_dir``."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(text_encoder_dir))


def build_text_encoder(text_encoder_dir: str | Path) -> nn.Module:
    """A ``BertModel`` shaped by ``text_encoder_dir/config.json`` with random weights (the
    Grounding DINO checkpoint overwrites all of them). Eager attention, as in the original."""
    from transformers import BertConfig, BertModel

    config = BertConfig.from_pretrained(str(text_encoder_dir))
    config._attn_implementation = "eager"
    return BertModel(config, add_pooling_layer=True)


@contextmanager
def patched_groundingdino(text_encoder_dir: str | Path):
    """While active, groundingdino builds its text branch with :class:`CompatBertWarper`, the
    tokenizer and BERT shape taken from ``text_encoder_dir`` (never the network)."""
    import groundingdino.models.GroundingDINO.groundingdino as gd_model
    from groundingdino.util import get_tokenlizer

    with _LOCK:
        saved = (
            gd_model.BertModelWarper,
            get_tokenlizer.get_tokenlizer,
            get_tokenlizer.get_pretrained_language_model,
        )
        gd_model.BertModelWarper = CompatBertWarper
        get_tokenlizer.get_tokenlizer = lambda _name: load_tokenizer(text_encoder_dir)
        get_tokenlizer.get_pretrained_language_model = lambda _name: build_text_encoder(
            text_encoder_dir
        )
        try:
            yield
        finally:
            (
                gd_model.BertModelWarper,
                get_tokenlizer.get_tokenlizer,
                get_tokenlizer.get_pretrained_language_model,
            ) = saved


def build_groundingdino(config_path: str | Path, text_encoder_dir: str | Path, **overrides):
    """The original ``GroundingDINO`` module from its ``.py`` config, randomly initialised.

    ``overrides`` replace config entries (e.g. tiny sizes in tests). Gradient checkpointing is
    switched off (inference only).
    """
    from groundingdino.models import build_model
    from groundingdino.util.slconfig import SLConfig

    args = SLConfig.fromfile(str(config_path))
    args.device = "cpu"
    args.use_checkpoint = False
    args.use_transformer_ckpt = False
    for k, v in overrides.items():
        setattr(args, k, v)
    with patched_groundingdino(text_encoder_dir):
        model = build_model(args)
    return model.eval()
