"""fp32 vs int8 (ONNX Runtime dynamic quantisation) of the image models' ONNX engines: parity and
speed, measured side by side with interleaved runs.

For SAM's image encoder and Grounding DINO's image+fusion graph, on the tiny test models
(``--size tiny``) and on the full-size random-weight ones the bench times (``--size full``:
DINO-T at 360x640, SAM ViT-B at 512 px): exports fp32 once (into VIDAGENT_HOME/exported), writes
the int8 variants, then runs each variant in turn ``--rounds`` times on the same frame and prints
the median seconds per call and the parity figures against fp32:

- SAM: masks of the real (PyTorch) decoder on the same boxes: IoU mean and min; predicted-IoU
  score max difference; embedding max abs difference relative to its max abs, cosine.
- DINO: every query's box (in frame pixels) and token probability (all 900 queries, valid
  tokens); the detections at the profile's thresholds and the top-20 at thresholds 0 (matched by
  label and nearest box): count, max box difference in px, max score difference.

Tolerances (written down before the first measurement): SAM mask IoU mean >= 0.97, min >= 0.90,
predicted IoU within 0.02; DINO: the same detections pass the thresholds, boxes within 2 px,
scores within 0.02.

    python scripts/int8_speed.py [--size tiny|full] [--only sam|dino] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from pathlib import Path

import numpy as np

from vidagent.bench.side_by_side import frame, interleaved, report

SAM_VARIANTS = {
    "int8": {},
    "int8-pc": {"per_channel": True},
    "int8-ends-fp32": {"exclude": [r"/blocks\.0/", r"/blocks\.11/"]},
    # 7-bit weights: no u8s8 saturation on x86 without VNNI (AVX2/AVX-512 vpmaddubsw)
    "int8-pc-rr": {"per_channel": True, "reduce_range": True},
}
DINO_VARIANTS = {
    "int8": {},
    "int8-pc": {"per_channel": True},
    # box and class heads, and the decoder's last layer, stay fp32
    "int8-heads-fp32": {"exclude": [r"bbox_embed", r"class_embed", r"/layers\.5/"]},
    "int8-backbone": {"exclude": [r"^(?!/model/model/backbone/)"]},  # Swin only
}


def _export_file(prefix: str) -> Path:
    """The fp32 export whose name starts with ``prefix`` (not an int8 one made from it)."""
    from vidagent.models.export_cache import MODEL_FILE, export_root

    (folder,) = [p for p in export_root().iterdir()
                 if p.name.startswith(prefix) and "-int8" not in p.name and p.is_dir()]
    return folder / MODEL_FILE


def _variants(src: Path, table: dict, out: Path) -> dict:
    from vidagent.models.quantize import quantize_int8

    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, kw in table.items():
        dst = out / f"{name}.onnx"
        kept = quantize_int8(src, dst, **kw)
        paths[name] = (dst, len(kept))
    return paths


def sam(size: str, rounds: int, tmp: Path) -> dict:
    import torch

    from vidagent.models.accel_sam import OrtSamImageEncoder
    from vidagent.models.export_cache import module_digest
    from vidagent.models.ort_session import make_session

    if size == "full":
        from vidagent.bench import full_size_models

        seg = full_size_models().segmenter("vit_b", 512)
        h, w = 480, 854
        variants = SAM_VARIANTS
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from models_tiny import save_tiny_sam, tiny_sam_arch

        from vidagent.models.segmenter_sam import SamSegmenter, build_sam

        ckpt = save_tiny_sam(tmp / "tiny_sam.pth", input_size=256)
        sam_model = build_sam(tiny_sam_arch(), 256)
        sam_model.load_state_dict(torch.load(ckpt))
        seg = SamSegmenter(sam_model.eval())
        h, w = 120, 160
        variants = {"int8": {}, "int8-pc": {"per_channel": True},
                    "int8-first-fp32": {"exclude": [r"/blocks\.0/"]},
                    "int8-pc-rr": {"per_channel": True, "reduce_range": True}}
    torch_enc = seg.model.image_encoder
    fp32 = OrtSamImageEncoder(torch_enc, module_digest(torch_enc))
    src = _export_file(f"sam-encoder-{module_digest(torch_enc)}")
    sessions = {"fp32": fp32.session}
    info = {}
    for name, (path, kept) in _variants(src, variants, tmp / f"sam-{size}").items():
        sessions[name] = make_session(path, torch.get_num_threads())
        info[name] = {"fp32_nodes_kept": kept, "mb": round(path.stat().st_size / 2**20, 1)}
    info["fp32"] = {"mb": round(src.stat().st_size / 2**20, 1)}
    seg.model.image_encoder = fp32
    sx, sy = w / 854, h / 480
    boxes = np.array([[100 * sx, 80 * sy, 400 * sx, 400 * sy], [420 * sx, 100 * sy, 800 * sx,
                      460 * sy], [300 * sx, 200 * sy, 500 * sx, 330 * sy], [0, 0, w - 1, h - 1]],
                     np.float32)
    images = [frame(h, w, seed) for seed in (0, 1, 2)]

    def run(name, image):
        fp32.session = sessions[name]
        seg.set_image(image)
        emb = seg.predictor.features.clone()
        masks, q = seg.predict(boxes=boxes)
        return emb, masks, q

    ref = {i: run("fp32", im) for i, im in enumerate(images)}
    for name in sessions:
        if name == "fp32":
            continue
        ious, dq, rel, cos = [], [], [], []
        for i, im in enumerate(images):
            e, m, q = run(name, im)
            e0, m0, q0 = ref[i]
            for a, b in zip(m0, m):
                u = np.logical_or(a, b).sum()
                ious.append(float(np.logical_and(a, b).sum() / u) if u else 1.0)
            dq.append(float(np.abs(q - q0).max()))
            rel.append(float((e - e0).abs().max() / e0.abs().max()))
            cos.append(float(torch.nn.functional.cosine_similarity(e.flatten(), e0.flatten(),
                                                                    dim=0)))
        info[name].update({
            "mask_iou_mean": round(float(np.mean(ious)), 4),
            "mask_iou_min": round(float(np.min(ious)), 4),
            "pred_iou_max_diff": round(max(dq), 4),
            "emb_max_rel_diff": round(max(rel), 4),
            "emb_cos_min": round(min(cos), 5),
            "pass": bool(np.mean(ious) >= 0.97 and np.min(ious) >= 0.90 and max(dq) <= 0.02),
        })

    def call(name):
        return lambda: run(name, images[0])

    speed = interleaved({name: call(name) for name in sessions}, rounds)
    for name in sessions:
        info[name].update(speed[name])
    seg.model.image_encoder = torch_enc
    return info


def _match(a, b) -> dict:
    """Detections ``a`` (reference) and ``b`` matched by label and nearest box."""
    used, px, ds, unmatched = set(), [], [], 0
    for i in range(len(a)):
        best, bd = None, np.inf
        for j in range(len(b)):
            if j in used or b.labels[j] != a.labels[i]:
                continue
            d = float(np.abs(a.boxes[i] - b.boxes[j]).max())
            if d < bd:
                best, bd = j, d
        if best is None:
            unmatched += 1
            continue
        used.add(best)
        px.append(bd)
        ds.append(abs(float(a.scores[i]) - float(b.scores[best])))
    return {"n": [len(a), len(b)], "unmatched": unmatched + len(b) - len(used),
            "box_max_px": round(max(px), 3) if px else None,
            "score_max_diff": round(max(ds), 4) if ds else None}


def dino(size: str, rounds: int, tmp: Path) -> dict:
    import torch

    from vidagent.models.accel_gdino import OrtGroundingDino
    from vidagent.models.export_cache import module_digest
    from vidagent.models.ort_session import make_session
    from vidagent.profiles import PROFILES

    spec = PROFILES["cpu"].detector
    if size == "full":
        from vidagent.bench import full_size_models

        det = full_size_models().detector(spec.short_side, spec.max_side)
        h, w = 480, 854
        phrases = ["ball", "box"]
        variants = DINO_VARIANTS
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from models_tiny import save_tiny_hf_gdino

        from vidagent.models.detector_hf import HFGroundingDino

        det = HFGroundingDino.from_pretrained(save_tiny_hf_gdino(tmp / "gd"), short_side=128,
                                              max_side=200, nms_iou=None)
        h, w = 120, 160
        phrases = ["dog", "red ball"]
        variants = {"int8": {}, "int8-pc": {"per_channel": True},
                    "int8-heads-fp32": {"exclude": [r"bbox_embed", r"class_embed",
                                                    r"/layers\.1/"]},
                    "int8-backbone": {"exclude": [r"^(?!/model/model/backbone/)"]}}
    digest = module_digest(det.model)
    engine = OrtGroundingDino(det.model, digest)
    det.engine = engine
    images = [frame(h, w, seed) for seed in (0, 1, 2)]
    det.detect(images[0], phrases)  # exports
    (shape,) = engine.sessions
    names = engine.sessions[shape][1]
    src = _export_file(f"gdino-{digest}")
    sessions = {"fp32": engine.sessions[shape][0]}
    info = {"fp32": {"mb": round(src.stat().st_size / 2**20, 1)}}
    for name, (path, kept) in _variants(src, variants, tmp / f"dino-{size}").items():
        sessions[name] = make_session(path, torch.get_num_threads())
        info[name] = {"fp32_nodes_kept": kept, "mb": round(path.stat().st_size / 2**20, 1)}
    caption = ". ".join(phrases) + "."

    def raw(name, image):
        engine.sessions[shape] = (sessions[name], names)
        with torch.inference_mode():
            out = engine(**det.preprocess(image, caption))
        valid = det.preprocess(image, caption)["attention_mask"][0].numpy().astype(bool)
        return out.logits[0].sigmoid().numpy()[:, :len(valid)][:, valid], out.pred_boxes[0].numpy()

    def dets(name, image, bt, tt):
        engine.sessions[shape] = (sessions[name], names)
        return det.detect(image, phrases, box_threshold=bt, text_threshold=tt)

    for name in sessions:
        if name == "fp32":
            continue
        dp, db, at_thr, top = [], [], [], []
        for im in images:
            p0, b0 = raw("fp32", im)
            p1, b1 = raw(name, im)
            dp.append(float(np.abs(p1 - p0).max()))
            db.append(float((np.abs(b1 - b0) * np.array([w, h, w, h])).max()))
            at_thr.append(_match(dets("fp32", im, spec.box_threshold, spec.text_threshold),
                                 dets(name, im, spec.box_threshold, spec.text_threshold)))
            top.append(_match(dets("fp32", im, 0.0, 0.0), dets(name, im, 0.0, 0.0)))

        def worst(rows, key):
            vals = [r[key] for r in rows if r[key] is not None]
            return max(vals) if vals else None

        info[name].update({
            "all_queries_prob_max_diff": round(max(dp), 4),
            "all_queries_box_max_px": round(max(db), 3),
            "at_thresholds_n": [r["n"] for r in at_thr],
            "at_thresholds_unmatched": sum(r["unmatched"] for r in at_thr),
            "at_thresholds_box_max_px": worst(at_thr, "box_max_px"),
            "at_thresholds_score_max_diff": worst(at_thr, "score_max_diff"),
            "top20_unmatched": sum(r["unmatched"] for r in top),
            "top20_box_max_px": worst(top, "box_max_px"),
            "top20_score_max_diff": worst(top, "score_max_diff"),
        })
        ok = lambda rows: (sum(r["unmatched"] for r in rows) == 0  # noqa: E731
                           and (worst(rows, "box_max_px") or 0) <= 2.0
                           and (worst(rows, "score_max_diff") or 0) <= 0.02)
        info[name]["pass"] = bool(ok(at_thr) and ok(top))

    speed = interleaved({n: (lambda n=n: dets(n, images[0], None, None)) for n in sessions}, rounds)
    for name in sessions:
        info[name].update(speed[name])
    engine.sessions[shape] = (sessions["fp32"], names)
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=["tiny", "full"], default="tiny")
    ap.add_argument("--only", choices=["dino", "sam"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sam-variants", default=None, help="comma-separated subset")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import torch

    if args.sam_variants:
        keep = args.sam_variants.split(",")
        for k in list(SAM_VARIANTS):
            if k not in keep:
                del SAM_VARIANTS[k]
    res = {"size": args.size, "threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as d:
        if args.only in (None, "sam"):
            res["sam"] = sam(args.size, args.rounds, Path(d))
            gc.collect()
        if args.only in (None, "dino"):
            res["dino"] = dino(args.size, args.rounds, Path(d))
    report(res, args.json)


if __name__ == "__main__":
    main()
