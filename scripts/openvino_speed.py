"""ONNX Runtime vs OpenVINO (fp32 and bf16 inference precision) on the cpu profile's full-size
image models (random weights): per-call seconds and parity with PyTorch, side by side.

Tolerances (fixed 2026-12-02 12:47 UTC, before any OpenVINO run was measured):

  fp32 (full-size random and tiny models alike):
    Grounding DINO: pred_boxes within 0.5 px of PyTorch at the 854x480 frame (tiny: the ORT
      tests' atol 1e-5 normalised, logits 1e-4), and the same queries pass the cpu profile's
      thresholds (box 0.35, text 0.25) and a threshold that admits PyTorch's top 20 queries.
    SAM: embedding max abs diff <= 1e-3 x max |embedding| (tiny: atol 1e-4), masks of the real
      decoder on the same boxes IoU >= 0.99 each.
  bf16 (OpenVINO INFERENCE_PRECISION_HINT=bf16; adopted only where all of these hold):
    Grounding DINO: pred_boxes within 1 px of PyTorch at 854x480, and exactly the same queries
      pass the thresholds above (no flip).
    SAM: embedding max abs diff <= 2e-2 x max |embedding|, mask IoU >= 0.98 each.
  A runtime is adopted for a model only if it is >10% faster per call than ONNX Runtime (medians
  of interleaved runs) with its parity holding on the tiny models and the full-size ones.
"""
