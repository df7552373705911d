"""SAM 2-family video propagation (SAM 2.1, EdgeTAM) through transformers, streaming.

``Sam2VideoPropagator`` keeps one transformers inference session per video, opened without a
video (``init_video_session()``), and feeds it the tracker's key frames one at a time. Objects
are added mid-video as mask prompts on the frame where the tracker found them (a new object,
or a detection that corrected a track), and removed when the tracker deletes or loses them.

Memory is bounded in video length: after each frame the session keeps only the last
``window`` non-conditioning outputs per object, the last ``max_cond_frames`` conditioning
outputs (prompted frames) per object, and no raw frames but the current one.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from vidagent.tracking.labels import paint
from vidagent.tracking.propagators import Propagator

_MODEL_CLASSES = {"sam2_video": "Sam2VideoModel", "edgetam_video": "EdgeTamVideoModel"}


class Sam2VideoPropagator(Propagator):
    """Streaming SAM 2 / EdgeTAM video propagation.

    Args:
        model: a ``Sam2VideoModel`` or ``EdgeTamVideoModel`` (eval mode).
        processor: the matching ``Sam2VideoProcessor``.
        device: torch device string.
        window: non-conditioning frames of memory kept per object; raised to what the model
            reads back (``num_maskmem`` mask memories, ``max_object_pointers_in_encoder``
            object pointers), so pruning never changes its output.
        max_cond_frames: prompted frames kept per object (the most recent).
    """

    def __init__(
        self, model, processor, device: str = "cpu", window: int = 16, max_cond_frames: int = 4
    ) -> None:
        self.model = model.eval().to(device)
        self.processor = processor
        self.device = device
        cfg = model.config
        self.window = max(
            int(window),
            int(getattr(cfg, "num_maskmem", 7)),
            int(getattr(cfg, "max_object_pointers_in_encoder", 16)),
        )
        self.max_cond_frames = max(int(max_cond_frames), 1)
        self.session = None
        self._k = 0  # session-local frame index (key frames are fed as consecutive frames)
        self._shape: tuple[int, int] | None = None
        self.last_output = None  # the model's output on the last key frame (for inspection)

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str = "cpu", **kwargs
    ) -> Sam2VideoPropagator:
        """Load a SAM 2.1 / EdgeTAM video checkpoint from a local folder (no network), strictly
        (see :func:`~vidagent.models.weights.from_pretrained_strict`).

        Raises:
            CheckpointError: missing, mis-shaped or unexpected weights.
        """
        import transformers
        from transformers import AutoConfig, AutoProcessor

        from vidagent.models.weights import from_pretrained_strict

        config = AutoConfig.from_pretrained(path, local_files_only=True)
        name = _MODEL_CLASSES.get(config.model_type)
        if name is None:
            raise ValueError(
                f"{path} holds a {config.model_type!r} model, not a SAM 2 / EdgeTAM video model"
            )
        model = from_pretrained_strict(
            getattr(transformers, name), path, what=f"{config.model_type} {path}",
            local_files_only=True,
        )
        processor = AutoProcessor.from_pretrained(path, local_files_only=True)
        return cls(model, processor, device=device, **kwargs)

    # ------------------------------------------------------------------ Propagator

    def reset(self, height: int, width: int) -> None:
        import torch

        self.session = self.processor.init_video_session(
            inference_device=self.device, dtype=torch.float32
        )
        self.session.video_height, self.session.video_width = height, width
        self._k = 0
        self._shape = (height, width)

    def step(self, index, frame, labels, seeds):
        import torch

        if self.session is None:
            self.reset(*frame.shape[:2])
        h, w = frame.shape[:2]
        session = self.session
        inputs = dict(seeds)
        for i in np.unique(labels):  # live objects the session does not know yet
            i = int(i)
            if i and i not in inputs and i not in session._obj_id_to_idx:
                inputs[i] = labels == i
        if not inputs and session.get_obj_num() == 0:
            return labels
        k = self._k
        self._k += 1
        with torch.inference_mode():
            pixels = self.processor(images=frame, return_tensors="pt").pixel_values[0]
            if inputs:
                ids = list(inputs)
                self.processor.add_inputs_to_inference_session(
                    session,
                    frame_idx=k,
                    obj_ids=ids,
                    input_masks=[np.asarray(inputs[i], bool) for i in ids],
                )
            out = self.model(inference_session=session, frame=pixels, frame_idx=k)
            masks = self.processor.post_process_masks(
                [out.pred_masks], original_sizes=[[h, w]], binarize=True
            )[0]
        self.last_output = out
        present = (out.object_score_logits.reshape(-1) > 0).cpu().numpy()
        masks = masks[:, 0].cpu().numpy().astype(bool)
        found = {int(oid): masks[n] & bool(present[n]) for n, oid in enumerate(out.object_ids)}
        self._prune(k)
        result = paint(np.zeros_like(labels), {i: m for i, m in found.items() if m.any()})
        return paint(result, seeds) if seeds else result

    def remove(self, ids: list[int]) -> None:
        """Drop objects from the session (re-indexing the per-object state)."""
        s = self.session
        if s is None:
            return
        drop = {int(i) for i in ids} & set(s._obj_id_to_idx)
        if not drop:
            return
        keep = [oid for oid in s.obj_ids if oid not in drop]
        old = {oid: s._obj_id_to_idx[oid] for oid in keep}
        per_obj = (
            "point_inputs_per_obj",
            "mask_inputs_per_obj",
            "output_dict_per_obj",
            "frames_tracked_per_obj",
        )
        for name in per_obj:
            table = getattr(s, name)
            setattr(s, name, {n: table[old[oid]] for n, oid in enumerate(keep)})
        s._obj_id_to_idx = OrderedDict((oid, n) for n, oid in enumerate(keep))
        s._obj_idx_to_id = OrderedDict((n, oid) for n, oid in enumerate(keep))
        s.obj_ids = list(keep)
        s.obj_with_new_inputs = [oid for oid in s.obj_with_new_inputs if oid not in drop]

    # ------------------------------------------------------------------ memory bound

    def _prune(self, k: int) -> None:
        s = self.session
        oldest = k - self.window + 1  # the next frame reads back at most window - 1 frames
        for n in range(s.get_obj_num()):
            outs = s.output_dict_per_obj[n]
            for f in [f for f in outs["non_cond_frame_outputs"] if f < oldest]:
                del outs["non_cond_frame_outputs"][f]
            cond = sorted(outs["cond_frame_outputs"])
            for f in cond[: max(len(cond) - self.max_cond_frames, 0)]:
                del outs["cond_frame_outputs"][f]
            for table in (s.point_inputs_per_obj[n], s.mask_inputs_per_obj[n]):
                for f in [f for f in table if f < k]:
                    del table[f]
            tracked = s.frames_tracked_per_obj[n]
            for f in [f for f in tracked if f < oldest]:
                del tracked[f]
        if s.processed_frames:
            for f in [f for f in s.processed_frames if f != k]:
                del s.processed_frames[f]
