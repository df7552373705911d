"""SAM 2 video engine on a tiny random-weight Sam2VideoModel saved and loaded from disk."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from vidagent.testing.scenes import default_scene, noisy_detections
from vidagent.tracking import Tracker, TrackerConfig
from vidagent.tracking.sam2_video import Sam2VideoPropagator

S = 64  # model input size


def _tiny_sam2(path):
    from transformers import (
        Sam2ImageProcessor,
        Sam2VideoConfig,
        Sam2VideoModel,
        Sam2VideoProcessor,
        Sam2VideoVideoProcessor,
    )

    backbone = {
        "model_type": "sam2_hiera_det_model",
        "hidden_size": 16,
        "num_attention_heads": 1,
        "image_size": [S, S],
        "blocks_per_stage": [1, 1, 2, 1],
        "embed_dim_per_stage": [16, 32, 64, 128],
        "num_attention_heads_per_stage": [1, 1, 2, 2],
        "window_size_per_stage": [4, 4, 4, 4],
        "global_attention_blocks": [3],
        "window_positional_embedding_background_size": [2, 2],
    }
    vision = {
        "model_type": "sam2_vision_model",
        "backbone_config": backbone,
        "backbone_channel_list": [128, 64, 32, 16],
        "backbone_feature_sizes": [[S // 4, S // 4], [S // 8, S // 8], [S // 16, S // 16]],
        "fpn_hidden_size": 128,
    }
    # hidden 128 > memory 64: transformers splits object pointers only when they differ, and
    # the memory attention's key/value width is fixed at 64
    config = Sam2VideoConfig(
        vision_config=vision,
        prompt_encoder_config={
            "hidden_size": 128,
            "image_size": S,
            "patch_size": 16,
            "mask_input_channels": 4,
        },
        mask_decoder_config={
            "hidden_size": 128,
            "mlp_dim": 64,
            "num_attention_heads": 2,
            "iou_head_hidden_dim": 32,
        },
        image_size=S,
        num_maskmem=3,
        max_object_pointers_in_encoder=4,
        memory_attention_hidden_size=128,
        memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=64,
        memory_attention_rope_feat_sizes=[S // 16, S // 16],
        memory_encoder_hidden_size=128,
        memory_encoder_output_channels=64,
        mask_downsampler_embed_dim=128,
        memory_fuser_embed_dim=128,
        memory_fuser_intermediate_dim=64,
    )
    torch.manual_seed(0)
    model = Sam2VideoModel(config).eval()
    processor = Sam2VideoProcessor(
        image_processor=Sam2ImageProcessor(
            size={"height": S, "width": S}, mask_size={"height": S // 4, "width": S // 4}
        ),
        video_processor=Sam2VideoVideoProcessor(size={"height": S, "width": S}),
        target_size=S,
    )
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory):
    return _tiny_sam2(tmp_path_factory.mktemp("sam2tiny"))


def test_parity_with_transformers_streaming_loop(tiny_path):
    """Our propagator (with memory pruning) gives the same logits as the documented
    transformers streaming loop on the same weights, past the pruning window."""
    from transformers import Sam2VideoModel, Sam2VideoProcessor

    v = default_scene(num_frames=9, height=48, width=64, seed=0)
    seeds = {1: v.label_maps[0] == 1, 2: v.label_maps[0] == 2}
    prop = Sam2VideoPropagator.from_pretrained(tiny_path, window=1)
    assert prop.window == 4  # raised to max_object_pointers_in_encoder
    prop.reset(48, 64)
    ours = []
    for i, f in enumerate(v.frames):
        prop.step(i, f, np.zeros((48, 64), np.uint16), seeds if i == 0 else {})
        ours.append(prop.last_output.pred_masks.clone())
        s = prop.session
        assert len(s.processed_frames) == 1  # raw frames are not kept
        assert all(
            len(o["non_cond_frame_outputs"]) <= prop.window for o in s.output_dict_per_obj.values()
        )

    model = Sam2VideoModel.from_pretrained(tiny_path, local_files_only=True).eval()
    proc = Sam2VideoProcessor.from_pretrained(tiny_path, local_files_only=True)
    session = proc.init_video_session(inference_device="cpu", dtype=torch.float32)
    with torch.inference_mode():
        for i, f in enumerate(v.frames):
            inputs = proc(images=f, return_tensors="pt")
            if i == 0:
                proc.add_inputs_to_inference_session(
                    session, frame_idx=0, obj_ids=[1, 2], input_masks=[seeds[1], seeds[2]]
                )
            out = model(inference_session=session, frame=inputs.pixel_values[0])
            assert out.object_ids == [1, 2]
            torch.testing.assert_close(ours[i], out.pred_masks)


def test_objects_added_mid_video_and_removed(tiny_path):
    v = default_scene(num_frames=6, height=48, width=64, seed=1)
    prop = Sam2VideoPropagator.from_pretrained(tiny_path)
    prop.reset(48, 64)
    zeros = np.zeros((48, 64), np.uint16)
    prop.step(0, v.frames[0], zeros, {1: v.label_maps[0] == 1})
    assert prop.session.obj_ids == [1]
    lab = prop.step(1, v.frames[1], zeros, {7: v.label_maps[1] == 2})  # a new object mid-video
    assert prop.session.obj_ids == [1, 7]
    assert (lab == 7).sum() == (v.label_maps[1] == 2).sum()  # a seed is kept as given
    prop.remove([1])
    assert prop.session.obj_ids == [7]
    out = prop.step(2, v.frames[2], zeros, {})
    assert prop.last_output.object_ids == [7]
    assert set(np.unique(out)) <= {0, 7}


def test_tracker_with_sam2_engine(tiny_path):
    """Contract of the tracker with the SAM 2 engine (random weights: masks are arbitrary)."""
    v = default_scene(num_frames=10, height=48, width=64, seed=0)
    dets = noisy_detections(v, every=5, seed=0, drop=0.0, false_rate=0.0)
    prop = Sam2VideoPropagator.from_pretrained(tiny_path)
    calls = []
    objs = Tracker(TrackerConfig(detect_every=5, stride=2, min_area=4), propagator=prop).run(
        ((i, f) for i, f in enumerate(v.frames)),
        v.num_frames,
        ["box", "ball"],
        lambda i, m: calls.append((i, m)),
        detections=dets,
    )
    assert [i for i, _ in calls] == list(range(10))
    ids = {o.id for o in objs}
    for _, m in calls:
        assert m.dtype == np.uint8 and set(np.unique(m)) - {0} <= ids


@pytest.mark.slow
def test_edgetam_video_model_streams(tmp_path):
    """EdgeTAM (full-size architecture, random weights: ~20 s a frame on 2 busy cores) loads
    through the same propagator and streams frames."""
    from transformers import (
        EdgeTamVideoConfig,
        EdgeTamVideoModel,
        Sam2ImageProcessor,
        Sam2VideoProcessor,
        Sam2VideoVideoProcessor,
    )

    torch.manual_seed(0)
    EdgeTamVideoModel(EdgeTamVideoConfig()).eval().save_pretrained(tmp_path)
    Sam2VideoProcessor(
        image_processor=Sam2ImageProcessor(), video_processor=Sam2VideoVideoProcessor()
    ).save_pretrained(tmp_path)
    prop = Sam2VideoPropagator.from_pretrained(tmp_path)
    assert type(prop.model).__name__ == "EdgeTamVideoModel"
    v = default_scene(num_frames=2, height=48, width=64, seed=0)
    prop.reset(48, 64)
    zeros = np.zeros((48, 64), np.uint16)
    prop.step(0, v.frames[0], zeros, {1: v.label_maps[0] == 1})
    prop.step(1, v.frames[1], zeros, {})
    assert prop.last_output.object_ids == [1]
    assert prop.last_output.pred_masks.shape[0] == 1
