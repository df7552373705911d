"""The bench logic on tiny models of the real architectures (a few frames, fast)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.models_tiny import random_image, save_tiny_hf_gdino, tiny_sam_arch
from vidagent.bench import BenchModels, BenchSettings, format_text, parse_overrides, run_bench
from vidagent.testing.doubles import BoxClippedSegmenter, TopKDetector

S = 64  # tiny SAM 2 input size


def _tiny_sam2():
    import torch
    from transformers import (
        Sam2ImageProcessor,
        Sam2VideoConfig,
        Sam2VideoModel,
        Sam2VideoProcessor,
        Sam2VideoVideoProcessor,
    )

    backbone = {
        "model_type": "sam2_hiera_det_model", "hidden_size": 16, "num_attention_heads": 1,
        "image_size": [S, S], "blocks_per_stage": [1, 1, 2, 1], "embed_dim_per_stage": [16, 32, 64, 128],
        "num_attention_heads_per_stage": [1, 1, 2, 2], "window_size_per_stage": [4, 4, 4, 4],
        "global_attention_blocks": [3], "window_positional_embedding_background_size": [2, 2],
    }
    vision = {
        "model_type": "sam2_vision_model", "backbone_config": backbone,
        "backbone_channel_list": [128, 64, 32, 16],
        "backbone_feature_sizes": [[S // 4, S // 4], [S // 8, S // 8], [S // 16, S // 16]],
        "fpn_hidden_size": 128,
    }
    config = Sam2VideoConfig(
        vision_config=vision,
        prompt_encoder_config={"hidden_size": 128, "image_size": S, "patch_size": 16,
                                   "mask_input_channels": 4},
        mask_decoder_config={"hidden_size": 128, "mlp_dim": 64, "num_attention_heads": 2,
                                 "iou_head_hidden_dim": 32},
        image_size=S, num_maskmem=3, max_object_pointers_in_encoder=4,
        memory_attention_hidden_size=128, memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=64,
        memory_attention_rope_feat_sizes=[S // 16, S // 16],
        memory_encoder_hidden_size=128, memory_encoder_output_channels=64,
        mask_downsampler_embed_dim=128, memory_fuser_embed_dim=128,
        memory_fuser_intermediate_dim=64,
    )
    torch.manual_seed(0)
    model = Sam2VideoModel(config).eval()
    processor = Sam2VideoProcessor(
        image_processor=Sam2ImageProcessor(size={"height": S, "width": S},
                                           mask_size={"height": S // 4, "width": S // 4}),
        video_processor=Sam2VideoVideoProcessor(size={"height": S, "width": S}),
        target_size=S,
    )
    return model, processor


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    import torch

    from vidagent.models.detector_hf import HFGroundingDino
    from vidagent.models.segmenter_sam import SamSegmenter, build_sam
    from vidagent.query.parser import QueryParser

    folder = save_tiny_hf_gdino(tmp_path_factory.mktemp("gdino"))
    built = {"sizes": []}

    def detector(short_side, max_side):
        return HFGroundingDino.from_pretrained(folder, short_side=min(short_side, 96),
                                               max_side=min(max_side, 160))

    def segmenter(arch, input_size):
        built["sizes"].append((arch, input_size))
        torch.manual_seed(0)
        return SamSegmenter(build_sam(tiny_sam_arch(), 128))

    models = BenchModels(detector, segmenter, _tiny_sam2, lambda: QueryParser(None), "tiny")
    return models, built


def test_bench_json_keys_and_ratios(tiny_models):
    models, built = tiny_models
    settings = BenchSettings(seconds=0.6, fps=30, width=160, height=96, sample=2, objects=3,
                             quality_seeds=(10, 11), quality_size=(128, 96))
    r = run_bench(settings, models)
    for key in ("vidagent_s", "per_frame_s", "grounded_sam2_s", "ratio_vs_per_frame",
                "ratio_vs_grounded_sam2", "second_question_s", "stages", "notes", "schedule",
                "schedule_quality"):
        assert key in r, key
    n = r["clip"]["frames"]
    assert n == 18
    assert r["vidagent_s"] > 0
    # ratios come from the measured seconds
    assert r["ratio_vs_per_frame"] == pytest.approx(r["per_frame_s"] / r["vidagent_s"])
    assert r["ratio_vs_grounded_sam2"] == pytest.approx(r["grounded_sam2_s"] / r["vidagent_s"])
    cpu = r["cpu_s"]
    assert all(cpu[k] > 0 for k in ("vidagent", "per_frame", "grounded_sam2"))
    assert r["cpu_ratio_vs_grounded_sam2"] == pytest.approx(cpu["grounded_sam2"] / cpu["vidagent"])
    # baselines are per-frame costs extrapolated linearly to the clip
    pf = r["per_frame_costs"]["per_frame"]
    assert r["per_frame_s"] == pytest.approx(sum(pf.values()) * n)
    assert sum(r["stages"]["per_frame"].values()) == pytest.approx(r["per_frame_s"])
    gs = r["per_frame_costs"]["grounded_sam2"]
    assert r["grounded_sam2_s"] == pytest.approx(gs["sam2_video"] * n + math.ceil(n / 20) * gs["detect"])
    assert gs["detect"] == pytest.approx(pf["detect"])  # same detector, same size
    # vidagent's stages add up to its wall time; the work follows the cpu profile's schedule
    assert sum(r["stages"]["vidagent"].values()) == pytest.approx(r["vidagent_s"], rel=1e-6)
    v = r["vidagent"]
    assert v["detector_calls"] == math.ceil(n / v["tracker"]["detect_every"])
    assert v["sam_embeddings"] >= 1
    assert v["second_question_model_calls"] == 0  # answered from the perception cache
    # the naive baseline's SAM is built at the native 1024 px
    assert ("vit_b", 1024) in built["sizes"]
    assert r["baselines"]["grounded_sam2"]["frames_fed"] == 7 + 2
    # the schedule the run chose: the cpu profile's fixed stride, and what it cost
    sc = r["schedule"]
    every = v["tracker"]["detect_every"]
    assert sc["kind"] == "fixed" and sc["keyframes"] == list(range(0, n, every))
    assert sc["detector_calls"] == v["detector_calls"] == len(sc["keyframes"])
    assert sc["sam_calls"] == v["sam_embeddings"]
    # its quality on synthetic ground truth beside the fixed stride and every frame
    q = r["schedule_quality"]
    assert q["scenes"]["seeds"] == [10, 11] and q["scenes"]["frames"] == n
    assert (q["scenes"]["width"], q["scenes"]["height"]) == (128, 96)
    assert q["profile"]["kind"] == "fixed"
    assert {k: q["profile"][k] for k in q["fixed"]} == q["fixed"]
    assert q["every_frame"]["detector_calls"] == q["every_frame"]["sam_calls"] == 2 * n
    assert q["fixed"]["detector_calls"] == 2 * math.ceil(n / every)
    assert 0 < q["adaptive"]["detector_calls"] < 2 * n
    for row in ("fixed", "adaptive", "every_frame"):
        assert 0.0 <= q[row]["mean_j"] <= q[row]["mask_j"] + 1e-4 <= 1.0 + 1e-4
    assert q["profile_j_minus_every_frame"] == pytest.approx(
        q["profile"]["mean_j"] - q["every_frame"]["mean_j"], abs=2e-4)
    text = format_text(r)
    assert "Grounded-SAM-2" in text and "extrapolated" in text
    assert f"schedule (fixed): detector on {len(sc['keyframes'])} frames [0" in text
    assert "detector + SAM on every frame" in text and "schedule quality" in text


def test_bench_skip_and_bad_settings(tiny_models):
    from vidagent.errors import InputError

    models, built = tiny_models
    levers = parse_overrides(["detect_every=4", "stride=2", "sam_size=64"])
    assert levers == {"detect_every": 4, "stride": 2, "sam_size": 64}
    # a Profile object that no registry knows (the Agent is handed the object itself)
    from dataclasses import replace

    from vidagent.profiles import PROFILES, get_profile

    custom = replace(get_profile("cpu"), name="custom")
    r = run_bench(BenchSettings(seconds=0.4, width=128, height=96, overrides=levers,
                                skip=("per_frame", "grounded_sam2", "schedule_quality"),
                                profile=custom), models)
    assert r["schedule_quality"] is None and "schedule_quality" not in format_text(r)
    assert "custom" not in PROFILES and not any(name.startswith("custom") for name in PROFILES)
    assert r["per_frame_s"] is None and r["ratio_vs_grounded_sam2"] is None
    v = r["vidagent"]
    assert v["tracker"]["detect_every"] == 4 and v["tracker"]["stride"] == 2
    assert v["detector_calls"] == math.ceil(r["clip"]["frames"] / 4)
    assert built["sizes"][-1] == ("vit_b", 64)
    assert r["profile"].startswith("custom[")  # the lever settings are named in the output
    # the adaptive schedule through a lever: the keyframes are the ones it chose
    adaptive = parse_overrides(["schedule.kind=adaptive", "schedule.min_gap=3",
                                "schedule.max_gap=6"])
    assert adaptive == {"schedule.kind": "adaptive", "schedule.min_gap": 3, "schedule.max_gap": 6}
    r = run_bench(BenchSettings(seconds=0.5, width=128, height=96, overrides=adaptive,
                                skip=("per_frame", "grounded_sam2", "schedule_quality")), models)
    sc = r["schedule"]
    assert sc["kind"] == "adaptive" and sc["settings"]["max_gap"] == 6
    assert sc["keyframes"][0] == 0 and sc["detector_calls"] == len(sc["keyframes"])
    assert all(6 >= b - a >= 3 for a, b in zip(sc["keyframes"], sc["keyframes"][1:]))
    assert r["clip"]["frames"] - 1 - sc["keyframes"][-1] < 6
    assert sc["reasons"]["first frame"] == 1
    with pytest.raises(InputError):
        run_bench(BenchSettings(seconds=0.2, overrides={"schedule.no_such": 1}), models)
    with pytest.raises(InputError):
        run_bench(BenchSettings(seconds=0.2, overrides={"schedule.kind": "sometimes"}), models)
    with pytest.raises(InputError):
        parse_overrides(["detect_every"])
    with pytest.raises(InputError):
        run_bench(BenchSettings(seconds=0.2, overrides={"no_such_setting": 1}), models)
    with pytest.raises(InputError):
        run_bench(BenchSettings(seconds=0.2, profile="gpu"), models)
    with pytest.raises(InputError):
        run_bench(BenchSettings(seconds=0.0), models)


def test_top_k_detector_and_box_clipped_segmenter(tiny_models):
    models, _ = tiny_models
    image = random_image(96, 128)
    det = TopKDetector(models.detector(96, 160), k=3)
    d = det.detect(image, ["ball"], box_threshold=0.99, text_threshold=0.99, max_boxes=1)
    assert len(d) == 3 and det.calls == 1 and det.seconds > 0
    seg = BoxClippedSegmenter(models.segmenter("vit_b", 128))
    seg.set_image(image)
    boxes = np.array([[10, 20, 50, 60], [60, 10, 120, 90]], np.float32)
    masks, _scores = seg.predict(boxes=boxes)
    assert masks.shape == (2, 96, 128) and seg.embeddings == 1 and seg.decodes == 1
    for m, (x1, y1, x2, y2) in zip(masks, boxes.astype(int)):
        inside = m[y1:y2, x1:x2].sum()
        assert m.sum() == inside  # nothing outside the prompt box
        assert inside >= 0.5 * (x2 - x1) * (y2 - y1)


def test_mask_j_scores_masks_without_identity():
    from vidagent.evaluation import tracking_scores
    from vidagent.testing.schedule_quality import mask_j

    gt = np.zeros((10, 20, 30), np.uint8)
    gt[:, 2:8, 2:8] = 1
    gt[:, 12:18, 20:28] = 2
    gt[7:, 12:18, 20:28] = 0  # object 2 leaves at frame 7
    assert mask_j(gt, gt) == pytest.approx(1.0)
    swapped = gt.copy()  # the two ids swap halfway: J pays for it, the masks are still exact
    swapped[5:][gt[5:] == 1], swapped[5:][gt[5:] == 2] = 2, 1
    assert mask_j(swapped, gt) == pytest.approx(1.0)
    assert tracking_scores(swapped, gt)["J"] < 0.8
    half = gt.copy()  # object 1's mask loses its right half on every frame: J 0.5 there
    half[:, 2:8, 5:8] = 0
    assert mask_j(half, gt) == pytest.approx(0.75)
    gone = gt.copy()  # object 2 missed while visible: 0 on its 7 visible frames, 1 after
    gone[gt == 2] = 0
    assert mask_j(gone, gt) == pytest.approx((1.0 + 3 / 10) / 2)
