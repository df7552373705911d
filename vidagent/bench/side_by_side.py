"""Helpers of the engine speed scripts (scripts/runtime_speed.py, int8_speed.py,
openvino_speed.py, dino_profile.py): a test frame, calls timed in turn, Grounding DINO engines
checked against PyTorch, and the report they print."""

from __future__ import annotations

import json
import statistics
import time

import numpy as np


def frame(h: int = 480, w: int = 854, seed: int = 0) -> np.ndarray:
    """The first frame of the synthetic ``default_scene`` at (h, w): (H, W, 3) uint8 RGB."""
    from vidagent.testing.scenes import default_scene

    return default_scene(num_frames=1, height=h, width=w, seed=seed).frames[0]


def interleaved(fns: dict, rounds: int) -> dict:
    """Seconds per call of each of ``fns``, run in turn (A B C A B C ...) ``rounds`` times:
    {name: {"median_s", "runs_s"}}."""
    times: dict = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: {"median_s": round(statistics.median(v), 3), "runs_s": [round(x, 3) for x in v]}
            for k, v in times.items()}  # fmt: skip


def report(res: dict, as_json: bool) -> None:
    """Print a script's results: one JSON object, or one line per entry (dicts indented)."""
    if as_json:
        print(json.dumps(res))
        return
    for k, v in res.items():
        print(k, json.dumps(v, indent=1) if isinstance(v, dict) else v)


def dino_reference(det, image: np.ndarray, caption: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """The inputs of ``det``'s exported graph for ``image`` and ``caption`` (caption padded to
    the engine's token bucket; torch tensors by name) and PyTorch's (logits, pred_boxes) on them:
    the same queries in the same order, so an engine's raw outputs compare query by query."""
    import torch

    from vidagent.models.accel_gdino import (INPUTS, TOKEN_BUCKET, _ImageSide, pad_tokens,
                                             text_inputs)

    inputs = det.preprocess(image, caption)
    with torch.inference_mode():
        ids, am, tt = pad_tokens(inputs["input_ids"], inputs["attention_mask"],
                                 inputs["token_type_ids"], TOKEN_BUCKET,
                                 int(det.model.config.max_text_len))  # fmt: skip
        feed_t = text_inputs(det.model, ids, am, tt)
        feed_t["pixel_values"] = inputs["pixel_values"]
        feed_t["pixel_mask"] = inputs["pixel_mask"]
        logits, boxes = (t.numpy() for t in _ImageSide(det.model)(*[feed_t[k] for k in INPUTS]))
    return feed_t, logits, boxes


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Probabilities of logits (masked -inf logits as -1e4)."""
    x = np.where(np.isfinite(x), x, -1e4)
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


def passing(logits: np.ndarray, box_t: float, text_t: float) -> set:
    """(query, token) pairs a detection keeps: query's best token prob > box_t, tokens > text_t."""
    p = sigmoid(logits)[0]
    out = set()
    for q in np.nonzero(p.max(axis=1) > box_t)[0]:
        out |= {(int(q), int(t)) for t in np.nonzero(p[q] > text_t)[0]}
    return out


class FeedEngine:
    """A runner of the exported graph (``run(feed) -> (logits, pred_boxes)``) standing in for
    the model inside ``detect`` (same caption as ``feed_t`` only)."""

    def __init__(self, run, feed_t: dict) -> None:
        self.run, self.feed_t = run, feed_t

    def __call__(self, pixel_values, input_ids, attention_mask=None, token_type_ids=None,
                 pixel_mask=None, **kw):  # fmt: skip
        from types import SimpleNamespace

        import torch

        feed = dict(self.feed_t)
        feed["pixel_values"], feed["pixel_mask"] = pixel_values, pixel_mask
        logits, boxes = self.run({k: np.ascontiguousarray(v.numpy()) for k, v in feed.items()})
        return SimpleNamespace(logits=torch.from_numpy(logits[:, :, : input_ids.shape[1]]),
                               pred_boxes=torch.from_numpy(boxes))


def dino_parity(det, image: np.ndarray, phrases: list[str], run, feed_t: dict,
                ref_logits: np.ndarray, ref_boxes: np.ndarray, box_px: float) -> dict:
    """One engine's runner against PyTorch (``dino_reference``) on ``image``: raw outputs query by
    query (box px at the frame's size, logits, scores, the cpu profile's thresholds, a threshold
    admitting PyTorch's top 20 queries) and the detections of ``det.detect`` (labels, boxes);
    ``detection_parity``: the same detections, boxes within ``box_px``; ``parity`` (the check
    fixed first): that, and every query's box within ``box_px`` and none crossing a threshold
    (random weights leave near-ties at the thresholds that float noise can flip)."""
    h, w = image.shape[:2]
    feed = {k: np.ascontiguousarray(v.numpy()) for k, v in feed_t.items()}
    logits, boxes = run(feed)
    scale = np.array([w, h, w, h], np.float32)
    ref_scores = sigmoid(ref_logits)[0].max(axis=1)
    top20 = float(np.sort(ref_scores)[-20] - 1e-6)
    scores = sigmoid(logits)[0].max(axis=1)
    fin = np.isfinite(ref_logits) & np.isfinite(logits)
    saved = det.engine
    try:
        det.engine = None
        d_ref = det.detect(image, phrases)
        det.engine = FeedEngine(run, feed_t)
        d = det.detect(image, phrases)
    finally:
        det.engine = saved
    m = min(len(d), len(d_ref))
    row = {
        "box_max_px_diff": round(float((np.abs(boxes - ref_boxes) * scale).max()), 4),
        "logits_max_abs_diff": float(np.abs(logits[fin] - ref_logits[fin]).max()),
        "score_max_abs_diff": float(np.abs(scores - ref_scores).max()),
        "profile_pass_same": passing(logits, 0.35, 0.25) == passing(ref_logits, 0.35, 0.25),
        "top20_flips": int(np.count_nonzero((scores > top20) != (ref_scores > top20))),
        "detections": [len(d_ref), len(d)],
        "detections_same_labels": list(d.labels) == list(d_ref.labels),
        "detection_box_max_px_diff": (float(np.abs(d.boxes[:m] - d_ref.boxes[:m]).max())
                                      if m else None),
    }
    dpx = row["detection_box_max_px_diff"]
    row["detection_parity"] = bool(row["detections_same_labels"] and len(d) == len(d_ref)
                                   and (dpx is None or dpx <= box_px))
    row["parity"] = bool(row["detection_parity"] and row["box_max_px_diff"] <= box_px
                         and row["profile_pass_same"] and row["top20_flips"] == 0)
    return row
