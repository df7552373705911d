"""Phrase prompts of grounding detectors: build the caption, map tokens to phrases, pick boxes.

Grounding DINO scores every query box against every caption token. A caption such as
``"dog . red ball ."`` holds several phrases; each box is given to the phrase whose tokens score
highest for it, so labels are always one of the phrases the caller asked for, verbatim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vidagent.errors import InputError
from vidagent.types import Detections


def clean_phrases(phrases: Sequence[str] | str) -> list[str]:
    """Phrases without surrounding blanks and dots, empty ones and repeats removed, order kept.

    A single string is split on ``.`` (``"dog . red ball"`` -> ``["dog", "red ball"]``).

    Raises:
        InputError: no phrase left.
    """
    if isinstance(phrases, str):
        phrases = phrases.split(".")
    out: list[str] = []
    for p in phrases:
        p = " ".join(str(p).replace(".", " ").split())
        if p and p.lower() not in {q.lower() for q in out}:
            out.append(p)
    if not out:
        raise InputError("the detector got no phrase to look for; give at least one noun phrase")
    return out


@dataclass(frozen=True)
class Caption:
    """A caption made of phrases and, per phrase, its character span in the caption."""

    text: str
    phrases: list[str]
    spans: list[tuple[int, int]]

    @classmethod
    def build(cls, phrases: Sequence[str], sep: str) -> Caption:
        """Lower-cased caption ``p1<sep>p2<sep>`` (sep ``". "`` for transformers, ``" . "`` for
        groundingdino-py, as each library's own preprocessing writes it)."""
        text, spans = "", []
        for p in phrases:
            start = len(text)
            text += p.lower()
            spans.append((start, len(text)))
            text += sep
        return cls(text.rstrip(), list(phrases), spans)

    def token_phrase(self, offsets: Sequence[tuple[int, int]]) -> np.ndarray:
        """(T,) int: index of the phrase each token belongs to, -1 for special tokens and dots.

        ``offsets`` are the tokenizer's (start, end) character offsets of each token.
        """
        out = np.full(len(offsets), -1, dtype=np.int64)
        for t, (s, e) in enumerate(offsets):
            if e <= s:
                continue
            for i, (ps, pe) in enumerate(self.spans):
                if s >= ps and e <= pe:
                    out[t] = i
                    break
        return out


def select_boxes(
    probs: np.ndarray,
    boxes_cxcywh: np.ndarray,
    token_phrase: np.ndarray,
    phrases: Sequence[str],
    image_size: tuple[int, int],
    box_threshold: float,
    text_threshold: float,
    max_boxes: int | None,
    nms_iou: float | None,
) -> Detections:
    """Detections from one image's raw grounding output.

    Args:
        probs: (Q, L) float token probabilities (sigmoid of logits), L >= number of tokens.
        boxes_cxcywh: (Q, 4) float, (cx, cy, w, h) normalised to [0, 1] of the image.
        token_phrase: (T,) phrase index per token (-1 = not part of a phrase), T <= L.
        phrases: the phrases, verbatim, that labels are taken from.
        image_size: (H, W) of the original image; boxes come back in its pixels, clipped.
        box_threshold: a box is kept when its best token probability (over all tokens, as
            Grounding DINO's own post-processing scores it) exceeds this; that is its score.
        text_threshold: ... and the best token probability of its phrase exceeds this.
        max_boxes: keep the highest-scoring ones; None = all.
        nms_iou: per-phrase non-maximum suppression IoU; None = none.
    """
    h, w = image_size
    probs = np.asarray(probs, dtype=np.float32)
    scores = probs.max(axis=1)
    phrase_scores = np.full((len(probs), len(phrases)), -1.0, dtype=np.float32)
    for i in range(len(phrases)):
        cols = np.nonzero(token_phrase == i)[0]
        if len(cols):
            phrase_scores[:, i] = probs[:, cols].max(axis=1)
    label_idx = phrase_scores.argmax(axis=1)
    best = phrase_scores[np.arange(len(probs)), label_idx]
    keep = (scores > box_threshold) & (best > text_threshold)
    idx = np.nonzero(keep)[0]
    if len(idx) == 0:
        return Detections.empty()
    b = np.asarray(boxes_cxcywh, dtype=np.float32)[idx]
    xyxy = np.stack(
        [
            b[:, 0] - b[:, 2] / 2,
            b[:, 1] - b[:, 3] / 2,
            b[:, 0] + b[:, 2] / 2,
            b[:, 1] + b[:, 3] / 2,
        ],
        axis=1,
    ) * np.array([w, h, w, h], dtype=np.float32)
    xyxy = np.clip(xyxy, 0, [w, h, w, h]).astype(np.float32)
    s, li = scores[idx], label_idx[idx]
    order = np.argsort(-s, kind="stable")
    if nms_iou is not None:
        import torch
        from torchvision.ops import batched_nms

        order = batched_nms(
            torch.from_numpy(xyxy), torch.from_numpy(s), torch.from_numpy(li), float(nms_iou)
        ).numpy()
    if max_boxes is not None:
        order = order[: int(max_boxes)]
    return Detections(xyxy[order], s[order], [phrases[i] for i in li[order]])


def group_phrases(tokenizer, phrases: list[str], max_tokens: int) -> list[list[str]]:
    """Split phrases into consecutive groups whose captions fit ``max_tokens`` tokens."""
    groups: list[list[str]] = [[]]
    used = 2  # [CLS] and [SEP]
    for p in phrases:
        n = len(tokenizer(p.lower() + " .", add_special_tokens=False)["input_ids"])
        if groups[-1] and used + n > max_tokens:
            groups.append([])
            used = 2
        groups[-1].append(p)
        used += n
    return groups


def nms_and_cap(
    dets: Detections, phrases: list[str], *, nms_iou: float | None, max_boxes: int | None
) -> Detections:
    """Per-phrase NMS, then the ``max_boxes`` highest scores (scores descending)."""
    if len(dets) == 0:
        return dets
    order = np.argsort(-dets.scores, kind="stable")
    if nms_iou is not None:
        import torch
        from torchvision.ops import batched_nms

        idx = np.array([phrases.index(lab) for lab in dets.labels])
        order = batched_nms(
            torch.from_numpy(dets.boxes),
            torch.from_numpy(dets.scores),
            torch.from_numpy(idx),
            float(nms_iou),
        ).numpy()
    if max_boxes is not None:
        order = order[: int(max_boxes)]
    return dets[order]
