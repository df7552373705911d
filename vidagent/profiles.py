"""Model profiles: every model id, input size, threshold and interval in one place.

A profile names the detector, the segmenter, the video propagator, the tracker settings and the
language model that one run uses. ``cpu`` (the default without CUDA) is sized so that a 10 s clip
is answerable in about a minute on 2 cores; ``gpu`` takes the strongest models.

Timings in the comments are CPU seconds of one thread on this project's 2-core machine (random
weights of the real architecture, same cost as trained ones; 854x480 frame), from
``python scripts/speed.py models --threads 1``, which prints the full table. They were taken while
other jobs loaded the machine, so CPU seconds (steady) rather than wall seconds are quoted. On a
quieter run with torch's default 2 threads, DINO-T at 480 px took 3 s wall and the ViT-B encoder
at 1024 px 11-15 s wall, i.e. about 0.45-0.85x the one-thread CPU seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from vidagent.errors import InputError

DetectorBackend = str  # a key of vidagent.models.registry.DETECTORS ("hf", "groundingdino")
SegmenterBackend = str  # a key of vidagent.models.registry.SEGMENTERS ("segment_anything", "hf")
PropagatorKind = str  # a tracking engine's name (``vidagent.tracking.engines.ENGINES``)


@dataclass(frozen=True)
class DetectorSpec:
    """Which open-vocabulary detector to load and how to run it."""

    backend: (
        DetectorBackend  # "hf" = transformers Grounding DINO; "groundingdino" = groundingdino-py
    )
    model: str  # hub id or local dir ("hf"); hub repo of the .pth or a .pth path ("groundingdino")
    checkpoint: str | None = None  # "groundingdino" only: checkpoint file name inside ``model``
    config: str | None = None  # "groundingdino" only: model config .py (None = the package's own)
    text_encoder: str = (
        "bert-base-uncased"  # "groundingdino" only: tokenizer/BERT config hub id or dir
    )
    short_side: int = 800  # frame resized so its short side is this many pixels before detection
    max_side: int = 1333  # ... unless its long side would exceed this (then the long side is this)
    box_threshold: float = 0.35  # keep a box when its best token probability exceeds this
    text_threshold: float = 0.25  # ... and its phrase's best token probability exceeds this
    max_boxes: int = 20  # at most this many boxes per frame (highest scores first)
    nms_iou: float | None = 0.7  # per-phrase NMS IoU (None = no NMS; DINO emits near-duplicates)
    # "torch" (eager PyTorch), "onnxruntime" or "openvino" (CPU only, "hf" backend; exported once
    # from the same weights, falls back to ONNX Runtime / PyTorch when it cannot be used; see
    # models/accelerate.py)
    runtime: str = "torch"
    # "fp32", or "bf16": OpenVINO computing in bfloat16 on CPUs with bf16 instructions (fp32 on
    # the others and on the other runtimes); within the bf16 tolerances of the parity tests
    precision: str = "fp32"


@dataclass(frozen=True)
class SegmenterSpec:
    """Which promptable image segmenter to load and at what resolution."""

    backend: (
        SegmenterBackend  # "segment_anything" = original SAM code; "hf" = transformers SAM family
    )
    model: str  # "vit_b" | "vit_l" | "vit_h" (segment_anything) or hub id / local dir (hf)
    checkpoint: str | None = None  # .pth path; None = VIDAGENT_HOME/sam/<official file name>
    input_size: int = 1024  # long side fed to the image encoder (SAM was trained at 1024)
    # box prompts: SAM's single-mask output (False; a box is unambiguous: SAM's README and the
    # Grounded-SAM pipelines) or the best of its three masks by predicted IoU (True)
    box_multimask: bool = False
    # of the image encoder: "torch", "onnxruntime" or "openvino" (as DetectorSpec)
    runtime: str = "torch"
    # of the image encoder: "fp32", "bf16" (as DetectorSpec; where OpenVINO has no bf16: "int8" on
    # ONNX Runtime), or "int8" (ONNX Runtime: dynamic quantisation of its MatMul/Gemm weights,
    # models/quantize.py; ignored with runtime "torch")
    precision: str = "fp32"


@dataclass(frozen=True)
class Profile:
    """One complete model configuration; see the module docstring."""

    name: str  # the name users pass to --profile
    description: str  # one line shown by `vidagent models list`
    detector: DetectorSpec  # open-vocabulary box detector
    segmenter: SegmenterSpec  # boxes -> masks on detection frames
    propagator: PropagatorKind  # how masks travel between detection frames (tracking engineer)
    video_model: str | None  # hub id of the SAM 2 family video model when propagator="sam2_video"
    tracker: dict = field(
        default_factory=dict
    )  # kwargs of the tracker's config (detect_every, ...)
    llm: str = "smollm2-135m"  # language model: embedded GGUF name or a hub id of an instruct model
    # the rule parser's task confidence below which the language model picks the task
    # (vidagent.query.parser.QueryParser's rules_sure); 0.0: the rules always decide
    llm_task_below: float = 0.6

    def to_json(self) -> dict:
        """Plain-data view (for `vidagent models list --json`)."""
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "cpu": Profile(
        name="cpu",
        description=(
            "small, fast models for CPU: Grounding DINO-T at 360x640 for 16:9 frames (short side"
            " 384, long side at most 640), SAM ViT-B at 512 px, flow between keyframes"
        ),
        detector=DetectorSpec(
            backend="hf",
            model="IDEA-Research/grounding-dino-tiny",
            # DINO-T per frame: 800 px 17.6 CPU s, 480 px 6.5, 384 px 3.6; +0.06 s per extra
            # phrase. 384 (on keyframes only) is what fits a 10 s clip in about a minute. The
            # long-side cap wins for frames wider than 5:3: 854x480 -> 640x360 (4:3 -> 512x384)
            short_side=384,
            max_side=640,
            box_threshold=0.35,
            text_threshold=0.25,
            max_boxes=20,
            # OpenVINO fp32 reads the ONNX Runtime export: 1.26x ONNX Runtime per call (full-size
            # DINO-T at 360x640, 8 interleaved rounds under load), same detections (1e-4 px,
            # same labels); bf16 changes the detections (scripts/openvino_speed.py)
            runtime="openvino",
        ),
        segmenter=SegmenterSpec(
            backend="segment_anything",
            model="vit_b",
            # OpenVINO bf16 (precision="bf16") is not enough faster to replace it: against this
            # int8 encoder, full-size ViT-B 512 px, interleaved, 1.17x under load (3.22 vs 3.65
            # s/call) but 1.04x at load ~1.5 (0.89 vs 0.91); masks IoU against PyTorch fp32 mean
            # 0.992, min 0.990 (int8: 0.982 / 0.975); scripts/openvino_speed.py
            runtime="onnxruntime",
            # int8 encoder (MatMul/Gemm weights per channel in 7 bits, activations per call;
            # models/accel_sam.py): scripts/int8_speed.py, ViT-B 512 px, interleaved on the
            # loaded 2 cores: 12.3 -> 6.3-7.4 s/call (0.52-0.61x); masks of the same decoder
            # on the same boxes against fp32: IoU mean 0.981, min 0.972 (tolerance 0.97 / 0.90),
            # predicted IoU within 0.0007 (0.02); tiny model 0.990 / 0.986. Random weights only:
            # trained ViTs' activation outliers (which per-tensor int8 activations clip) are not
            # tested here. Grounding DINO stays fp32: int8 moves its boxes by 80+ px (tiny model;
            # query selection changes), even with only the Swin backbone in int8
            precision="int8",
            # ViT-B encoder: 1024 px 17.7 CPU s, 640 3.7, 512 2.4, 384 1.05; decoder 0.05 s for a
            # box at 512 (0.48 s at 1024, mostly upsampling). Positional embeddings are
            # interpolated from the 1024 checkpoint; masks get coarser (32x32 embedding grid
            # instead of 64x64); the quality cost is not measurable here without real weights
            input_size=512,
        ),
        propagator="flow",
        video_model=None,
        # frames counted in video frames: detector + SAM on every 30th frame (1 s at 30 fps),
        # optical flow in between -> a 10 s clip has 10 keyframes x ~6 CPU s = ~60 CPU s of models
        # (scripts/quality.py --table levers, row 10: mean J 0.886 against 0.931 for detector +
        # SAM on every frame on the synthetic ground truth, seeds 0-1)
        # no SAM refresh on the last frame (the fixed schedule's 11th embedding for 10
        # keyframes): flow carries the last 29 frames as it carries the 29 before each keyframe.
        # scripts/quality.py --table levers, rows 10 and 13: mean J 0.8934 -> 0.8942 on dev seeds
        # 0-3, 0.8927 -> 0.8938 on held-out seeds 100-104. Mask reuse on keyframes
        # (TrackerConfig.reuse_box_iou) stays off: at box IoU 0.85 it saves 3 of 11 embeddings
        # on those scenes (none on the bench clip, whose random-weight detector's boxes jump
        # between keyframes) for mean J +0.004 on the dev seeds but -0.009 on the held-out ones
        # The colour snap between anchors (snap_reach, a tracker default for the low-frame-rate
        # regime without a segmenter) is off here: on these 30 fps scenes with SAM keyframes it
        # changes no mean J (0.8942 / 0.8938 on dev / held-out seeds with and without it) and
        # it doubled the tracker's CPU time on the bench clip (5.4 -> 11.0 CPU s with stand-in
        # models, under load)
        tracker={"detect_every": 30, "stride": 30, "refresh_last": False, "snap_reach": 0.0},
        llm="smollm2-135m",
        # SmolLM2-135M does not pick tasks better than the rules' own guess where the rules are
        # unsure (scripts/eval_language.py, tuning splits, rules vs model asked below 0.6: task
        # accuracy dev 1.000 vs 0.997, dev2 0.990 vs 0.988; on the 6 dev/dev2 questions it was
        # asked about, the rules' guess was right 6 times, the model's 3), so here the rules decide
        llm_task_below=0.0,
    ),
    "gpu": Profile(
        name="gpu",
        description="strongest models for CUDA: DINO-B at 800 px, SAM ViT-H, SAM 2.1 video",
        detector=DetectorSpec(
            backend="hf",
            model="IDEA-Research/grounding-dino-base",
            short_side=800,  # the resolution Grounding DINO was trained and evaluated at
            max_side=1333,
            box_threshold=0.35,
            text_threshold=0.25,
            max_boxes=50,
        ),
        segmenter=SegmenterSpec(
            backend="segment_anything",
            model="vit_h",
            input_size=1024,  # SAM's native resolution
        ),
        propagator="sam2_video",
        video_model="facebook/sam2.1-hiera-large",
        tracker={"detect_every": 15, "stride": 1},
        llm="Qwen/Qwen2.5-7B-Instruct",
    ),
    "gpu-small": Profile(
        name="gpu-small",
        description="smaller GPU set (<8 GB): DINO-T, SAM ViT-B, EdgeTAM video propagation",
        detector=DetectorSpec(
            backend="hf",
            model="IDEA-Research/grounding-dino-tiny",
            short_side=800,
            max_side=1333,
        ),
        segmenter=SegmenterSpec(backend="segment_anything", model="vit_b", input_size=1024),
        propagator="sam2_video",
        video_model="yonigozlan/EdgeTAM-hf",
        tracker={"detect_every": 15, "stride": 1},
        llm="Qwen/Qwen2.5-1.5B-Instruct",
    ),
    "original": Profile(
        name="original",
        description="the original code: groundingdino-py SwinT-OGC + segment-anything ViT-H",
        detector=DetectorSpec(
            backend="groundingdino",
            model="ShilongLiu/GroundingDINO",  # hub repo holding the original checkpoints
            checkpoint="groundingdino_swint_ogc.pth",
            config=None,  # groundingdino/config/GroundingDINO_SwinT_OGC.py from the package
            text_encoder="bert-base-uncased",
            short_side=800,
            max_side=1333,
        ),
        segmenter=SegmenterSpec(backend="segment_anything", model="vit_h", input_size=1024),
        propagator="flow",
        video_model=None,
        tracker={"detect_every": 15, "stride": 1},
        llm="smollm2-135m",
        llm_task_below=0.0,  # the same small model as the cpu profile: the rules decide
    ),
}


def _cuda_available(device: str | None) -> bool:
    if device is not None:
        return str(device).startswith("cuda")
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency
        return False
    return bool(torch.cuda.is_available())


def get_profile(name: str | None = None, device: str | None = None) -> Profile:
    """The profile called ``name``; None picks ``gpu`` when CUDA is available (or ``device``
    says cuda) and ``cpu`` otherwise.

    Raises:
        InputError: unknown profile name (lists the known ones).
    """
    if name is None:
        name = "gpu" if _cuda_available(device) else "cpu"
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise InputError(f"unknown profile {name!r}; choose one of: {known}") from None
