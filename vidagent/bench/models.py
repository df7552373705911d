"""The models the bench times: full-size architectures with random weights (no download; the
cost of a forward pass does not depend on the weights), as factories tests swap for tiny ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vidagent.models.base import Detector, Segmenter

# vocabulary of the random-weight Grounding DINO's tokenizer (the bench's prompts and no more)
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "?", "ball", "box", "balls", "a"]


@dataclass
class BenchModels:
    """Factories of the random-weight models the bench times (swap them for tiny ones in tests).

    detector(short_side, max_side) -> Detector; segmenter(arch, input_size) -> Segmenter;
    video_model() -> (Sam2VideoModel, Sam2VideoProcessor); parser() -> QueryParser.
    """

    detector: Callable[[int, int], Detector]
    segmenter: Callable[[str, int], Segmenter]
    video_model: Callable[[], tuple]
    parser: Callable[[], object]
    description: str = ""


def tokenizer(words: Sequence[str] | None = None):
    """A BERT tokenizer over ``words`` (default ``WORDS``): Grounding DINO's text side without
    a download."""
    from transformers import BertTokenizerFast

    return BertTokenizerFast(vocab={w: i for i, w in enumerate(words or WORDS)})


def full_size_models(llm: str = "smollm2-135m") -> BenchModels:
    """Grounding DINO-T (transformers default config: Swin-T + BERT-base), SAM (segment_anything
    ViT-B/L/H), SAM 2.1 hiera-tiny video (transformers default config), all random weights;
    the language model is the real one (``llm``, parse latency counts)."""
    import torch

    cache: dict = {}

    def detector(short_side: int, max_side: int) -> Detector:
        from transformers import (
            GroundingDinoConfig,
            GroundingDinoForObjectDetection,
            GroundingDinoImageProcessor,
            GroundingDinoProcessor,
        )

        from vidagent.models.detector_hf import HFGroundingDino

        if "dino" not in cache:
            torch.manual_seed(0)
            model = GroundingDinoForObjectDetection(GroundingDinoConfig()).eval()
            proc = GroundingDinoProcessor(image_processor=GroundingDinoImageProcessor(),
                                          tokenizer=tokenizer())
            cache["dino"] = (model, proc)
        model, proc = cache["dino"]
        return HFGroundingDino(model, proc, short_side=short_side, max_side=max_side)

    def segmenter(arch: str, input_size: int) -> Segmenter:
        from vidagent.models.segmenter_sam import SamSegmenter, build_sam

        torch.manual_seed(0)
        return SamSegmenter(build_sam(arch, input_size))

    def video_model():
        from transformers import (
            Sam2ImageProcessor,
            Sam2VideoConfig,
            Sam2VideoModel,
            Sam2VideoProcessor,
            Sam2VideoVideoProcessor,
        )

        torch.manual_seed(0)
        model = Sam2VideoModel(Sam2VideoConfig()).eval()
        proc = Sam2VideoProcessor(image_processor=Sam2ImageProcessor(),
                                  video_processor=Sam2VideoVideoProcessor())
        return model, proc

    def parser():
        from vidagent.models.llm import load_language_model
        from vidagent.query.parser import QueryParser

        return QueryParser(load_language_model(llm, offline=True))

    return BenchModels(detector, segmenter, video_model, parser,
                       "Grounding DINO-T, SAM ViT-B, SAM 2.1 hiera-tiny: full size, random weights; "
                       f"language model {llm} (real weights)")
