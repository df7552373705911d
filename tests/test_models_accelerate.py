"""ONNX Runtime engines of the image models: parity with PyTorch on tiny real-architecture models
(boxes and logits of Grounding DINO, SAM embeddings and masks), the export cache, the fallback to
PyTorch, and the text features computed once per caption."""

from __future__ import annotations

import dataclasses
import logging
from types import SimpleNamespace

import models_tiny
import numpy as np
import pytest
import torch
from models_tiny import random_image, save_tiny_hf_gdino, save_tiny_sam, tiny_sam_arch

from vidagent.models import accel_gdino, accel_sam, registry
from vidagent.models.accel_gdino import OrtGroundingDino
from vidagent.models.accel_sam import OrtSamImageEncoder
from vidagent.models.export_cache import export_root
from vidagent.models.segmenter_sam import SAM_ARCHS
from vidagent.profiles import PROFILES

pytest.importorskip("onnxruntime")

no_network = models_tiny.no_network


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory):
    return tmp_path_factory.mktemp("home")


@pytest.fixture(autouse=True)
def home(shared_home, monkeypatch):
    """VIDAGENT_HOME of the module (exports shared by its tests); fresh model caches."""
    monkeypatch.setenv("VIDAGENT_HOME", str(shared_home))
    registry.clear_cache()
    yield shared_home
    registry.clear_cache()


@pytest.fixture
def own_home(tmp_path, monkeypatch):
    """An empty VIDAGENT_HOME of the test's own (no export made by another test)."""
    monkeypatch.setenv("VIDAGENT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def gdino_dir(tmp_path_factory):
    return save_tiny_hf_gdino(tmp_path_factory.mktemp("gdino"))


@pytest.fixture(scope="module")
def sam_ckpt(tmp_path_factory):
    return save_tiny_sam(tmp_path_factory.mktemp("sam") / "tiny.pth", input_size=256)


def _det_profile(model: str, runtime: str):
    cpu = PROFILES["cpu"]
    spec = dataclasses.replace(
        cpu.detector, model=model, short_side=128, max_side=200, runtime=runtime, nms_iou=None
    )
    return dataclasses.replace(cpu, detector=spec)


def _sam_profile(ckpt, runtime: str, monkeypatch, precision: str = "fp32"):
    monkeypatch.setitem(SAM_ARCHS, "tiny", tiny_sam_arch())
    cpu = PROFILES["cpu"]
    spec = dataclasses.replace(
        cpu.segmenter, model="tiny", checkpoint=str(ckpt), input_size=256, runtime=runtime,
        precision=precision,
    )
    return dataclasses.replace(cpu, segmenter=spec)


def _finite(x: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(x), x, -1e4)


def test_gdino_onnx_matches_pytorch_logits_boxes_and_detections(gdino_dir, home):
    det = registry.load_detector(_det_profile(str(gdino_dir), "onnxruntime"), offline=True)
    assert isinstance(det.engine, OrtGroundingDino)
    image = random_image()
    inputs = det.preprocess(image, "dog. red ball.")
    with torch.inference_mode():
        ref = det.model(**inputs)
        ort = det.engine(**inputs)
    assert det.engine.ort_calls == 1 and not det.engine.failed
    np.testing.assert_allclose(_finite(ort.logits.numpy()), _finite(ref.logits.numpy()), atol=1e-4)
    np.testing.assert_allclose(ort.pred_boxes.numpy(), ref.pred_boxes.numpy(), atol=1e-5)

    fast = det.detect(image, ["dog", "red ball"], box_threshold=0.3, text_threshold=0.0)
    det.engine, engine = None, det.engine
    slow = det.detect(image, ["dog", "red ball"], box_threshold=0.3, text_threshold=0.0)
    assert len(slow) > 3 and list(fast.labels) == list(slow.labels)
    np.testing.assert_allclose(fast.boxes, slow.boxes, atol=1e-3)
    np.testing.assert_allclose(fast.scores, slow.scores, atol=1e-4)

    # the export is on disk under VIDAGENT_HOME, keyed by weights hash, shape and versions
    (folder,) = [p for p in export_root().iterdir() if p.name.startswith("gdino-")]
    assert (folder / "model.onnx").is_file() and str(folder).startswith(str(home))
    # another caption length in the same token bucket re-uses it; a new loader finds it on disk
    calls = []
    real = accel_gdino.export_image_side
    engine2 = OrtGroundingDino(det.model, [gdino_dir])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(accel_gdino, "export_image_side", lambda *a: calls.append(a) or real(*a))
        with torch.inference_mode():
            engine2(**det.preprocess(image, "cat."))
    assert calls == [] and engine2.ort_calls == 1


def test_deformable_attention_export_form_equals_transformers():
    """The exported form of multi-scale deformable attention (levels summed one by one, points
    outer) gives transformers' values: unequal levels, points and heads > 1, batch 2, sampling
    locations outside the map (zero padding)."""
    from transformers.models.grounding_dino.modeling_grounding_dino import (
        MultiScaleDeformableAttention,
    )

    shapes = [(9, 14), (5, 7), (3, 4)]
    batch, heads, dim, points, queries = 2, 3, 8, 4, 37
    g = torch.Generator().manual_seed(0)
    value = torch.randn(batch, sum(h * w for h, w in shapes), heads, dim, generator=g)
    loc = torch.rand(batch, queries, heads, len(shapes), points, 2, generator=g) * 1.6 - 0.3
    weights = torch.softmax(torch.randn(batch, queries, heads, len(shapes) * points, generator=g),
                            -1).view(batch, queries, heads, len(shapes), points)  # fmt: skip
    ref = MultiScaleDeformableAttention()(value, None, shapes, None, loc, weights, 64)
    out = accel_gdino.deformable_attention(value, None, shapes, None, loc, weights, 64)
    assert out.shape == ref.shape == (batch, queries, heads * dim)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-6)


def test_fusion_attention_export_form_equals_transformers():
    """The exported form of the text-image fusion (no image-token x 1024 projections) gives
    transformers' outputs and attention weights: batch 2, padded caption tokens masked, a masked
    image token."""
    from transformers import GroundingDinoConfig
    from transformers.models.grounding_dino.modeling_grounding_dino import (
        GroundingDinoBiMultiHeadAttention,
    )

    torch.manual_seed(0)
    cfg = GroundingDinoConfig(d_model=32, encoder_ffn_dim=64, encoder_attention_heads=4)
    mod = GroundingDinoBiMultiHeadAttention(cfg).eval()
    with torch.no_grad():
        for p in mod.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # biases not zero
    vision, text = torch.randn(2, 53, 32), torch.randn(2, 9, 32)
    text_mask = torch.zeros(2, 9, dtype=torch.bool)
    text_mask[0, 5:] = True
    vision_mask = torch.zeros(2, 53, dtype=torch.bool)
    vision_mask[1, 7] = True
    with torch.no_grad():
        ref = mod(vision, text, vision_mask, text_mask)
        out = accel_gdino.fusion_attention(mod, vision, text, vision_mask, text_mask)
    for a, b in zip([*ref[0], *ref[1]], [*out[0], *out[1]]):
        assert a.shape == b.shape
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)


def test_gdino_export_writes_the_deformable_attention_without_stacking_samples(gdino_dir, home):
    """Every GridSample of the exported graph feeds a Mul (its level's weighted sum), none the
    Unsqueeze + Concat of transformers' stacked samples; the model itself is left as it was."""
    import onnx

    det = registry.load_detector(_det_profile(str(gdino_dir), "onnxruntime"), offline=True)
    det.detect(random_image(), ["dog"])
    (path,) = det.engine.paths.values()
    assert f"-g{accel_gdino.GRAPH}-" in path.parent.name
    graph = onnx.load(str(path)).graph
    users: dict = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node.op_type)
    samplers = [n for n in graph.node if n.op_type == "GridSample"]
    assert samplers  # levels x (1 encoder + 2 decoder layers)
    assert all(users[n.output[0]] == ["Mul"] for n in samplers), [users[n.output[0]]
                                                                  for n in samplers]
    attns = [m for m in det.model.modules() if type(m).__name__ == "MultiScaleDeformableAttention"]
    assert len(attns) == 3 and not any("forward" in m.__dict__ for m in attns)
    fusions = [m for m in det.model.modules()
               if type(m).__name__ == "GroundingDinoBiMultiHeadAttention"]  # fmt: skip
    assert fusions and not any("forward" in m.__dict__ for m in fusions)


def test_gdino_text_features_are_computed_once_per_caption(gdino_dir):
    for runtime in ("torch", "onnxruntime"):
        registry.clear_cache()
        det = registry.load_detector(_det_profile(str(gdino_dir), runtime), offline=True)
        stats = det.model.model.text_backbone.text_cache_stats
        before = dict(stats)
        for seed in range(4):  # four keyframes of one video, one caption
            det.detect(random_image(seed=seed), ["dog", "red ball"])
        assert stats["misses"] - before["misses"] == 1, runtime
        assert stats["hits"] - before["hits"] == 3, runtime
        det.detect(random_image(), ["cat"])  # a new caption computes its own
        assert stats["misses"] - before["misses"] == 2, runtime


def test_gdino_falls_back_to_pytorch_when_export_fails(gdino_dir, own_home, monkeypatch, caplog):
    def refuse(*a):
        raise RuntimeError("exporter refused")

    monkeypatch.setattr(accel_gdino, "export_image_side", refuse)
    det = registry.load_detector(_det_profile(str(gdino_dir), "onnxruntime"), offline=True)
    image = random_image()
    with caplog.at_level(logging.WARNING):
        fast = det.detect(image, ["dog"], box_threshold=0.3, text_threshold=0.0)
    assert det.engine.failed and det.engine.ort_calls == 0
    assert "back to PyTorch" in caplog.text
    det.engine = None
    slow = det.detect(image, ["dog"], box_threshold=0.3, text_threshold=0.0)
    np.testing.assert_array_equal(fast.boxes, slow.boxes)
    assert not any(p.name.startswith("gdino-") for p in export_root().glob("*"))


def test_runtime_missing_or_unknown(gdino_dir, monkeypatch, caplog):
    from vidagent.models import accelerate

    monkeypatch.setattr(accelerate, "onnxruntime_available", lambda: False)
    with caplog.at_level(logging.WARNING):
        det = registry.load_detector(_det_profile(str(gdino_dir), "onnxruntime"), offline=True)
    assert det.engine is None and "not installed" in caplog.text
    assert len(det.detect(random_image(), ["dog"], box_threshold=0.0)) > 0
    registry.clear_cache()
    with pytest.raises(ValueError, match="unknown runtime"):
        registry.load_detector(_det_profile(str(gdino_dir), "tensorrt"), offline=True)


def test_sam_onnx_encoder_matches_pytorch_embedding_and_masks(sam_ckpt, monkeypatch):
    seg = registry.load_segmenter(_sam_profile(sam_ckpt, "onnxruntime", monkeypatch), offline=True)
    enc = seg.model.image_encoder
    assert isinstance(enc, OrtSamImageEncoder) and seg.input_size == 256
    image = random_image(120, 160, seed=3)
    boxes = np.array([[10, 10, 90, 80], [60, 30, 150, 110], [0, 0, 159, 119]], np.float32)
    seg.set_image(image)
    assert enc.ort_calls == 1
    fast_emb = seg.predictor.features.clone()
    fast, fast_q = seg.predict(boxes=boxes)

    seg.model.image_encoder = enc.torch_encoder  # the same segmenter on PyTorch
    seg.set_image(image)
    np.testing.assert_allclose(fast_emb.numpy(), seg.predictor.features.numpy(), atol=1e-4)
    slow, slow_q = seg.predict(boxes=boxes)
    np.testing.assert_allclose(fast_q, slow_q, atol=1e-4)
    for a, b in zip(fast, slow):
        inter, union = np.logical_and(a, b).sum(), np.logical_or(a, b).sum()
        assert union > 0 and inter / union > 0.99
    seg.model.image_encoder = enc


def test_sam_falls_back_when_a_run_fails(sam_ckpt, monkeypatch, caplog):
    seg = registry.load_segmenter(_sam_profile(sam_ckpt, "onnxruntime", monkeypatch), offline=True)
    enc = seg.model.image_encoder

    class Broken:
        def run(self, *a, **k):
            raise RuntimeError("bad session")

    enc.session = Broken()
    image = random_image(seed=1)
    with caplog.at_level(logging.WARNING):
        seg.set_image(image)
    assert enc.session is None and "back to PyTorch" in caplog.text
    masks, _ = seg.predict(boxes=np.array([[10, 10, 90, 80]], np.float32))
    assert masks.shape == (1, 120, 160)


def test_sam_export_failure_keeps_pytorch(sam_ckpt, own_home, monkeypatch, caplog):
    def refuse(*a):
        raise RuntimeError("exporter refused")

    monkeypatch.setattr(accel_sam, "export_encoder", refuse)
    with caplog.at_level(logging.WARNING):
        seg = registry.load_segmenter(
            _sam_profile(sam_ckpt, "onnxruntime", monkeypatch), offline=True
        )
    assert not isinstance(seg.model.image_encoder, OrtSamImageEncoder)
    assert "stays on PyTorch" in caplog.text
    seg.set_image(random_image())
    assert seg.is_image_set


def test_a_first_export_says_so_on_stderr(own_home, capsys):
    """A first run exports for minutes on a CPU: the user is told, on stderr (stdout stays
    clean for --json), and a second call finds the cached file without a word."""
    from vidagent.models.export_cache import cached_export

    def export(path):
        path.write_bytes(b"model")

    first = cached_export("tiny-test-export", export)
    err = capsys.readouterr().err
    assert first.read_bytes() == b"model"
    assert "exporting tiny-test-export" in err and "exported tiny-test-export in" in err
    assert cached_export("tiny-test-export", export) == first
    assert capsys.readouterr().err == ""


# int8 parity tolerances (fixed before the first int8 measurement, scripts/int8_speed.py): masks of
# the PyTorch decoder on the same boxes, IoU mean >= 0.97 and min >= 0.90 against fp32; SAM's
# predicted IoU within 0.02
INT8_MASK_IOU_MEAN, INT8_MASK_IOU_MIN, INT8_PRED_IOU = 0.97, 0.90, 0.02


def _engine_vs_pytorch(seg, enc, seed: int):
    """One random image through ``seg`` with its encoder engine ``enc`` and with the PyTorch encoder
    behind it, the same four boxes decoded by each: (engine embedding, PyTorch embedding, mask IoU
    per box, max predicted-IoU difference). Leaves ``enc`` in place."""
    boxes = np.array([[10, 10, 90, 80], [60, 30, 150, 110], [40, 40, 120, 100],
                      [0, 0, 159, 119]], np.float32)  # fmt: skip
    image = random_image(120, 160, seed=seed)
    seg.model.image_encoder = enc
    seg.set_image(image)
    fast_emb = seg.predictor.features.clone()
    fast, fast_q = seg.predict(boxes=boxes)
    seg.model.image_encoder = enc.torch_encoder
    seg.set_image(image)
    slow_emb = seg.predictor.features.clone()
    slow, slow_q = seg.predict(boxes=boxes)
    seg.model.image_encoder = enc
    ious = [np.logical_and(a, b).sum() / max(1, np.logical_or(a, b).sum())
            for a, b in zip(fast, slow)]  # fmt: skip
    return fast_emb, slow_emb, ious, float(np.abs(fast_q - slow_q).max())


def test_sam_int8_encoder_holds_mask_parity_with_pytorch(sam_ckpt, monkeypatch):
    import onnx

    profile = _sam_profile(sam_ckpt, "onnxruntime", monkeypatch, "int8")
    seg = registry.load_segmenter(profile, offline=True)
    enc = seg.model.image_encoder
    assert isinstance(enc, OrtSamImageEncoder) and enc.precision == "int8"
    # a cached export of its own, with int8 matrix products (none left in fp32)
    assert "-int8q2-" in enc.path.parent.name and enc.path.parent.parent == export_root()
    ops = {n.op_type for n in onnx.load(str(enc.path)).graph.node}
    assert "DynamicQuantizeLinear" in ops and "MatMulInteger" in ops, ops
    ious, dq, differs = [], [], False
    for seed in range(3):
        fast_emb, slow_emb, seed_ious, q_diff = _engine_vs_pytorch(seg, enc, seed)
        differs |= not torch.allclose(fast_emb, slow_emb, atol=1e-4)
        dq.append(q_diff)
        ious += seed_ious
    assert enc.ort_calls == 3
    assert differs  # int8 ran: not the fp32 embedding to float tolerance
    assert np.mean(ious) >= INT8_MASK_IOU_MEAN and min(ious) >= INT8_MASK_IOU_MIN, ious
    assert max(dq) <= INT8_PRED_IOU, dq


def test_onnxruntime_sessions_do_not_spin(sam_ckpt, monkeypatch):
    # the cpu profile's SAM encoder session: its intra-op threads sleep between the graph's
    # parallel sections instead of spinning (spinning burnt ~25% more CPU per call of the
    # full-size int8 encoder on the loaded 2 cores, CPU the tracker's threads needed)
    seg = registry.load_segmenter(_sam_profile(sam_ckpt, "onnxruntime", monkeypatch, "int8"),
                                  offline=True)  # fmt: skip
    opts = seg.model.image_encoder.session.get_session_options()
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert opts.intra_op_num_threads == torch.get_num_threads()


def test_sam_int8_quantisation_failure_keeps_pytorch(sam_ckpt, own_home, monkeypatch, caplog):
    def refuse(*a, **k):
        raise RuntimeError("quantiser refused")

    monkeypatch.setattr(accel_sam, "quantize_int8", refuse)
    profile = _sam_profile(sam_ckpt, "onnxruntime", monkeypatch, "int8")
    with caplog.at_level(logging.WARNING):
        seg = registry.load_segmenter(profile, offline=True)
    assert not isinstance(seg.model.image_encoder, OrtSamImageEncoder)
    assert "stays on PyTorch" in caplog.text
    assert not any("int8" in p.name for p in export_root().iterdir() if p.is_dir())
    registry.clear_cache()
    with pytest.raises(ValueError, match="unknown precision"):
        bad = dataclasses.replace(profile, segmenter=dataclasses.replace(
            profile.segmenter, precision="int4"))  # fmt: skip
        registry.load_segmenter(bad, offline=True)


# OpenVINO reads the same ONNX files. Tolerances fixed before measuring (scripts/openvino_speed.py):
# fp32 as ONNX Runtime above; bf16: SAM embedding within 2% of its largest magnitude, mask IoU
# >= 0.98 each (Grounding DINO: boxes within 1 px and the same detections, which bf16 misses)
BF16_EMB_REL, BF16_MASK_IOU = 2e-2, 0.98


def _ov(profile, precision: str):
    """``profile`` on OpenVINO in ``precision`` (detector and segmenter alike)."""
    return dataclasses.replace(
        profile,
        detector=dataclasses.replace(profile.detector, runtime="openvino", precision=precision),
        segmenter=dataclasses.replace(profile.segmenter, runtime="openvino", precision=precision),
    )


def _need_openvino(precision: str = "fp32"):
    pytest.importorskip("openvino")
    from vidagent.models.ort_session import openvino_bf16_supported

    if precision == "bf16" and not openvino_bf16_supported():
        pytest.skip("this CPU has no bf16 for OpenVINO")


def test_gdino_openvino_matches_pytorch(gdino_dir):
    """fp32 only: in bf16 the tiny model's detections change labels and boxes (scripts/
    openvino_speed.py), so no profile runs Grounding DINO in bf16."""
    from vidagent.models.ort_session import OpenVinoSession

    _need_openvino()
    det = registry.load_detector(_ov(_det_profile(str(gdino_dir), "openvino"), "fp32"),
                                 offline=True)  # fmt: skip
    assert isinstance(det.engine, OrtGroundingDino) and det.engine.runtime == "openvino"
    image = random_image()
    inputs = det.preprocess(image, "dog. red ball.")
    with torch.inference_mode():
        ref = det.model(**inputs)
        ov = det.engine(**inputs)
    (sess, _), = det.engine.sessions.values()
    assert isinstance(sess, OpenVinoSession) and sess.precision == "fp32"
    assert det.engine.ort_calls == 1 and not det.engine.failed
    # the tolerances of ONNX Runtime (above)
    np.testing.assert_allclose(_finite(ov.logits.numpy()), _finite(ref.logits.numpy()), atol=1e-4)
    np.testing.assert_allclose(ov.pred_boxes.numpy(), ref.pred_boxes.numpy(), atol=1e-5)
    fast = det.detect(image, ["dog", "red ball"], box_threshold=0.3, text_threshold=0.0)
    det.engine = None
    slow = det.detect(image, ["dog", "red ball"], box_threshold=0.3, text_threshold=0.0)
    assert len(slow) > 3 and list(fast.labels) == list(slow.labels)
    np.testing.assert_allclose(fast.boxes, slow.boxes, atol=1e-3)
    np.testing.assert_allclose(fast.scores, slow.scores, atol=1e-4)


def test_openvino_keeps_its_compiled_model_beside_the_export(gdino_dir, own_home):
    """OpenVINO's compiled model goes to a cache folder in the export's folder; a second session
    of the file (a later run) loads it from there, with the same outputs; ``cache=False`` keeps
    nothing."""
    from vidagent.models.ort_session import OPENVINO_CACHE, OpenVinoSession

    _need_openvino()
    det = registry.load_detector(_ov(_det_profile(str(gdino_dir), "openvino"), "fp32"),
                                 offline=True)  # fmt: skip
    image = random_image()
    first = det.detect(image, ["dog", "red ball"], box_threshold=0.3, text_threshold=0.0)
    (path,) = det.engine.paths.values()
    cache = path.parent / OPENVINO_CACHE
    blobs = sorted(cache.glob("*.blob"))
    assert len(blobs) == 1, list(cache.iterdir()) if cache.exists() else "no cache folder"
    stamp = blobs[0].stat().st_mtime_ns
    registry.clear_cache()
    det = registry.load_detector(_ov(_det_profile(str(gdino_dir), "openvino"), "fp32"),
                                 offline=True)  # fmt: skip
    again = det.detect(image, ["dog", "red ball"], box_threshold=0.3, text_threshold=0.0)
    assert det.engine.ort_calls == 1 and not det.engine.failed
    assert sorted(cache.glob("*.blob")) == blobs and blobs[0].stat().st_mtime_ns == stamp
    assert list(again.labels) == list(first.labels)
    np.testing.assert_array_equal(again.boxes, first.boxes)
    other = own_home / "copy" / "model.onnx"
    other.parent.mkdir()
    other.write_bytes(path.read_bytes())
    OpenVinoSession(other, 1, cache=False)
    assert list(other.parent.iterdir()) == [other]


def test_openvino_compiles_without_a_cache_folder_it_cannot_make(tmp_path, caplog):
    """A cache folder that cannot be created (here: a link into a file) costs the cache, not
    OpenVINO: the session compiles without it, with a warning, and gives the same outputs."""
    from vidagent.models import ort_session
    from vidagent.models.ort_session import OpenVinoSession

    _need_openvino()
    torch.manual_seed(0)
    layer = torch.nn.Linear(4, 3)
    path = tmp_path / "model.onnx"
    torch.onnx.export(layer, torch.zeros(1, 4), str(path), input_names=["x"], dynamo=False)
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / ort_session.OPENVINO_CACHE).symlink_to(tmp_path / "a-file" / "cache")
    with caplog.at_level("WARNING", logger=ort_session.log.name):
        session = OpenVinoSession(path, 1)
    assert "compiling without the cache" in caplog.text
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    (out,) = session.run(None, {"x": x[:1]})
    np.testing.assert_allclose(out, layer(torch.from_numpy(x[:1])).detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_sam_openvino_encoder_matches_pytorch(sam_ckpt, monkeypatch, precision):
    from vidagent.models.ort_session import OpenVinoSession

    _need_openvino(precision)
    profile = _ov(_sam_profile(sam_ckpt, "openvino", monkeypatch), precision)
    seg = registry.load_segmenter(profile, offline=True)
    enc = seg.model.image_encoder
    assert isinstance(enc, OrtSamImageEncoder) and isinstance(enc.session, OpenVinoSession)
    assert enc.session.precision == precision
    for seed in range(2):
        fast_emb, slow_emb, ious, _ = _engine_vs_pytorch(seg, enc, seed)
        diff = float((fast_emb - slow_emb).abs().max())
        if precision == "fp32":
            assert diff <= 1e-4 and min(ious) > 0.99, (diff, ious)
        else:
            assert 1e-4 < diff <= BF16_EMB_REL * float(slow_emb.abs().max()), diff  # bf16 ran
            assert min(ious) >= BF16_MASK_IOU, ious
    assert enc.ort_calls == 2


def test_openvino_missing_or_failing_falls_back_to_onnxruntime(gdino_dir, sam_ckpt, monkeypatch,
                                                               caplog):  # fmt: skip
    from vidagent.models import accelerate, ort_session

    # not installed: ONNX Runtime runs the engine
    with pytest.MonkeyPatch.context() as mp, caplog.at_level(logging.WARNING):
        mp.setattr(accelerate, "openvino_available", lambda: False)
        det = registry.load_detector(_ov(_det_profile(str(gdino_dir), "openvino"), "bf16"),
                                     offline=True)  # fmt: skip
    assert "openvino is not installed" in caplog.text
    assert det.engine.runtime == "onnxruntime"
    det.detect(random_image(), ["dog"])
    (sess, _), = det.engine.sessions.values()
    assert ort_session.session_runtime(sess) == "onnxruntime" and det.engine.ort_calls == 1
    registry.clear_cache()
    caplog.clear()

    # installed, but the graph does not compile: ONNX Runtime runs it
    pytest.importorskip("openvino")

    class Refuses:
        def __init__(self, *a, **k):
            raise RuntimeError("compile refused")

    monkeypatch.setattr(ort_session, "OpenVinoSession", Refuses)
    with caplog.at_level(logging.WARNING):
        seg = registry.load_segmenter(_ov(_sam_profile(sam_ckpt, "openvino", monkeypatch), "fp32"),
                                      offline=True)  # fmt: skip
    enc = seg.model.image_encoder
    assert isinstance(enc, OrtSamImageEncoder) and enc.runtime == "onnxruntime"
    assert "OpenVINO could not compile" in caplog.text
    seg.set_image(random_image())
    assert enc.ort_calls == 1


def test_openvino_run_failure_falls_back_to_pytorch(gdino_dir, monkeypatch, caplog):
    pytest.importorskip("openvino")
    det = registry.load_detector(_ov(_det_profile(str(gdino_dir), "openvino"), "fp32"),
                                 offline=True)  # fmt: skip
    image = random_image()
    ok = det.detect(image, ["dog"], box_threshold=0.3, text_threshold=0.0)
    (sess, _), = det.engine.sessions.values()

    def broken(*a, **k):
        raise RuntimeError("infer failed")

    monkeypatch.setattr(sess, "request", SimpleNamespace(infer=broken))
    with caplog.at_level(logging.WARNING):
        again = det.detect(image, ["dog"], box_threshold=0.3, text_threshold=0.0)
    assert det.engine.failed and "openvino failed" in caplog.text and "back to PyTorch" in caplog.text
    assert list(again.labels) == list(ok.labels)
    np.testing.assert_allclose(again.boxes, ok.boxes, atol=1e-3)


def test_unknown_precision_is_refused(gdino_dir):
    with pytest.raises(ValueError, match="unknown precision"):
        registry.load_detector(_ov(_det_profile(str(gdino_dir), "openvino"), "fp8"), offline=True)


def test_sam_bf16_without_bf16_runs_int8_on_onnxruntime(sam_ckpt, monkeypatch, caplog):
    """A CPU without bf16 instructions (or no OpenVINO): the encoder's int8 on ONNX Runtime, not a
    slow fp32 OpenVINO."""
    from vidagent.models import ort_session

    monkeypatch.setattr(ort_session, "openvino_bf16_supported", lambda: False)
    profile = _ov(_sam_profile(sam_ckpt, "openvino", monkeypatch), "bf16")
    with caplog.at_level(logging.INFO):
        seg = registry.load_segmenter(profile, offline=True)
    enc = seg.model.image_encoder
    assert isinstance(enc, OrtSamImageEncoder) and "no bf16" in caplog.text
    assert enc.runtime == "onnxruntime" and enc.precision == "int8"
    seg.set_image(random_image())
    assert enc.ort_calls == 1
