"""Where model weights come from, and loading them strictly.

Three sources, tried in this order for a model reference:

1. a local directory or file path (``/data/gdino``, ``~/ckpt/sam_vit_b_01ec64.pth``);
2. the Hugging Face hub cache (``IDEA-Research/grounding-dino-tiny``), downloading into it unless
   ``offline``;
3. ``VIDAGENT_HOME`` (default ``~/.cache/vidagent``) for checkpoints that are not on the hub
   (the original SAM ``.pth`` files, fetched from their official URLs).

``offline=True`` never touches the network (``local_files_only=True`` everywhere); anything
missing then raises :class:`~vidagent.errors.WeightsMissingError` naming the
``vidagent models download --profile NAME`` command. Checkpoints are read from safetensors or with
``torch.load(weights_only=True)`` and loaded strictly: every missing, unexpected and mis-shaped
key is listed in the error.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import urllib.request
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vidagent.errors import InputError, WeightsMissingError

log = logging.getLogger(__name__)

# files of a hub model repo that loading needs (weights as safetensors, never pickles)
HUB_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model"]


def download_command(profile: str | None) -> str:
    """The command that fetches a profile's weights (quoted in WeightsMissingError)."""
    return f"vidagent models download --profile {profile or 'cpu'}"


def vidagent_home() -> Path:
    """Folder for weights that are not on the hub: ``$VIDAGENT_HOME`` or ``~/.cache/vidagent``."""
    return Path(os.environ.get("VIDAGENT_HOME") or Path.home() / ".cache" / "vidagent").expanduser()


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache folder in use (honours ``HF_HOME`` / ``HF_HUB_CACHE``)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


@contextmanager
def hub_offline():
    """huggingface_hub in offline mode for the duration: even with ``local_files_only=True`` it
    otherwise builds request headers, which fetches an agent registry from the hub."""
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = saved


class CheckpointError(InputError):
    """A checkpoint does not match the model it is loaded into (lists every offending key)."""


@dataclass(frozen=True)
class UrlWeight:
    """A checkpoint published at a URL (not on the hub), stored under ``VIDAGENT_HOME/subdir``.

    ``md5`` is the published checksum where one is documented; None means none is known and only
    presence (and size, when ``size`` is given) can be checked.
    """

    url: str
    subdir: str
    md5: str | None = None
    size: int | None = None

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def path(self) -> Path:
        return vidagent_home() / self.subdir / self.filename


def resolve_hub_dir(
    ref: str,
    *,
    offline: bool,
    what: str,
    profile: str | None,
    allow_patterns: Iterable[str] | None = None,
) -> Path:
    """A local folder holding the model ``ref``: ``ref`` itself when it is a directory, else its
    snapshot in the hub cache (downloaded first unless ``offline``).

    Raises:
        WeightsMissingError: not available (offline and not cached, or the download failed).
    """
    p = Path(ref).expanduser()
    if p.is_dir():
        return p
    from huggingface_hub import snapshot_download

    patterns = list(allow_patterns) if allow_patterns is not None else HUB_PATTERNS
    try:  # the cache first: a cached model never costs a network round trip
        with hub_offline():
            local = Path(snapshot_download(ref, allow_patterns=patterns, local_files_only=True))
        if (local / "config.json").is_file():
            return local
    except (OSError, ValueError):  # not cached (LocalEntryNotFoundError) or not a valid repo id
        local = None
    if offline:
        raise WeightsMissingError(what, download_command(profile))
    try:
        return Path(snapshot_download(ref, allow_patterns=patterns))
    except Exception as e:
        raise WeightsMissingError(
            f"{what} ({ref}: {type(e).__name__})", download_command(profile)
        ) from e


def resolve_hub_file(
    repo: str, filename: str, *, offline: bool, what: str, profile: str | None
) -> Path:
    """A local copy of ``filename`` from hub repo ``repo`` (or ``repo`` itself when it is a file,
    or ``repo/filename`` when ``repo`` is a directory).

    Raises:
        WeightsMissingError: not available.
    """
    p = Path(repo).expanduser()
    if p.is_file():
        return p
    if p.is_dir():
        if (p / filename).is_file():
            return p / filename
        raise WeightsMissingError(f"{what} ({p / filename})", download_command(profile))
    from huggingface_hub import hf_hub_download

    try:  # the cache first: a cached file never costs a network round trip
        with hub_offline():
            return Path(hf_hub_download(repo, filename, local_files_only=True))
    except (OSError, ValueError):  # not cached (LocalEntryNotFoundError) or not a valid repo id
        if offline:
            raise WeightsMissingError(what, download_command(profile)) from None
    try:
        return Path(hf_hub_download(repo, filename))
    except Exception as e:
        raise WeightsMissingError(what, download_command(profile)) from e


def resolve_url_file(
    weight: UrlWeight, *, offline: bool, what: str, profile: str | None, progress: bool = False
) -> Path:
    """The local path of ``weight``, downloading it into ``VIDAGENT_HOME`` unless ``offline``.

    Raises:
        WeightsMissingError: not present and offline, or the download failed.
    """
    if weight.path.is_file():
        return weight.path
    if offline:
        raise WeightsMissingError(f"{what} ({weight.path})", download_command(profile))
    try:
        download_url(weight, progress=progress)
    except (OSError, ValueError) as e:
        raise WeightsMissingError(f"{what} ({weight.url}: {e})", download_command(profile)) from e
    return weight.path


def download_url(weight: UrlWeight, *, progress: bool = True) -> Path:
    """Download ``weight.url`` to ``weight.path`` atomically, checking the MD5 when known.

    Raises:
        OSError: network or disk failure; ValueError: checksum mismatch (the file is discarded).
    """
    from tqdm.auto import tqdm

    dest = weight.path
    dest.parent.mkdir(parents=True, exist_ok=True)
    md5 = hashlib.md5()
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with urllib.request.urlopen(weight.url, timeout=60) as r, os.fdopen(fd, "wb") as out:
            total = int(r.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress
            ) as bar:
                while chunk := r.read(1 << 20):
                    out.write(chunk)
                    md5.update(chunk)
                    bar.update(len(chunk))
        if weight.md5 is not None and md5.hexdigest() != weight.md5:
            raise ValueError(
                f"MD5 {md5.hexdigest()} of {weight.url} is not the published {weight.md5}"
            )
        shutil.move(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def file_digest(path: str | Path, algorithm: str) -> str:
    """Hex digest (``md5``, ``sha1``, ``sha256``) of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def read_state_dict(path: str | Path, key: str | None = None) -> dict:
    """Tensors of a checkpoint: safetensors, or a torch pickle read with ``weights_only=True``.

    ``key`` picks a sub-dict (``"model"`` in GroundingDINO's ``.pth``) when present.

    Raises:
        CheckpointError: unreadable, or not a mapping of tensors.
    """
    import torch

    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            sd = load_file(str(path))
        else:
            sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {type(e).__name__}: {e}") from e
    if key is not None and isinstance(sd, Mapping) and key in sd:
        sd = sd[key]
    if not isinstance(sd, Mapping) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(f"{path} is not a state dict of tensors")
    return dict(sd)


def load_strict(
    module,
    state_dict: Mapping,
    *,
    what: str,
    ignore_unexpected: Iterable[str] = (),
) -> None:
    """``module.load_state_dict(state_dict)`` that refuses any mismatch.

    ``ignore_unexpected`` names keys the checkpoint is known to carry that the module does not
    use (e.g. training-only embeddings); they are dropped before the check. Everything else must
    match exactly.

    Raises:
        CheckpointError: listing every missing, unexpected and mis-shaped key.
    """
    ignore = set(ignore_unexpected)
    sd = {k: v for k, v in state_dict.items() if k not in ignore}
    own = module.state_dict()
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    shapes = sorted(
        f"{k} {tuple(sd[k].shape)} vs {tuple(own[k].shape)}"
        for k in set(own) & set(sd)
        if tuple(sd[k].shape) != tuple(own[k].shape)
    )
    raise_mismatch(what, missing, unexpected, shapes)
    module.load_state_dict(sd, strict=True)


def raise_mismatch(what: str, missing, unexpected, mismatched=()) -> None:
    """Raise CheckpointError listing every key when any list is non-empty."""
    parts = []
    if missing:
        parts.append(f"missing keys ({len(missing)}): {', '.join(missing)}")
    if unexpected:
        parts.append(f"unexpected keys ({len(unexpected)}): {', '.join(unexpected)}")
    if mismatched:
        parts.append(f"mis-shaped keys ({len(mismatched)}): {', '.join(mismatched)}")
    if parts:
        raise CheckpointError(f"checkpoint of {what} does not match the model: " + "; ".join(parts))


def checkpoint_keys(folder: str | Path) -> list[str]:
    """Tensor names stored in the safetensors files of a model folder (headers only)."""
    from safetensors import safe_open

    keys: list[str] = []
    for f in sorted(Path(folder).glob("*.safetensors")):
        with safe_open(str(f), framework="pt") as h:
            keys.extend(h.keys())
    return keys


def declared_ignorable(model) -> re.Pattern | None:
    """The patterns of checkpoint keys a transformers model declares it does not load
    (``_keys_to_ignore_on_load_unexpected``, gathered from every submodule, plus the buffers
    transformers itself drops: ``rotary_emb.inv_freq``, ``position_ids``)."""
    pats = set(getattr(model, "_keys_to_ignore_on_load_unexpected", None) or ())
    buffers = [name for name, _ in model.named_buffers()]
    if any(b.endswith("rotary_emb.inv_freq") for b in buffers):
        pats.add(r"rotary_emb\.inv_freq")
    if any(b.endswith("position_ids") for b in buffers):
        pats.add(r"(^|\.)position_ids$")
    return re.compile("|".join(f"({p})" for p in sorted(pats))) if pats else None


def declared_absent(model, key: str) -> bool:
    """True when ``key`` belongs to a submodule the model class builds as ``None`` on purpose
    (e.g. Grounding DINO's text backbone is a BERT built with ``add_pooling_layer=False``, so a
    checkpoint's ``model.text_backbone.pooler.*`` has nowhere to go)."""
    parts = key.split(".")
    module = model
    for name in parts[:-1]:
        child = getattr(module, "_modules", {}).get(name)
        if child is not None:
            module = child
            continue
        # an attribute the class set to None (nn.Module keeps it in _modules or __dict__)
        return name in getattr(module, "_modules", {}) or (
            name in vars(module) and vars(module)[name] is None
        )
    return False


def from_pretrained_strict(cls, path: str | Path, *, what: str, **kwargs):
    """``cls.from_pretrained(path)`` that refuses missing or mis-shaped weights (they would
    silently stay random) and unexpected keys, except the ones the model class declares it does
    not use: keys matching its ``_keys_to_ignore_on_load_unexpected`` patterns, and keys of
    submodules it builds as ``None``. The ignored keys are logged and kept on the model as
    ``vidagent_ignored_keys``.

    Raises:
        CheckpointError: listing every offending key; also for a pickle that would run code.
    """
    import pickle

    kwargs.setdefault("ignore_mismatched_sizes", True)  # report them (below) instead of raising
    try:
        model, info = cls.from_pretrained(str(path), output_loading_info=True, **kwargs)
    except (pickle.UnpicklingError, EOFError) as exc:
        # torch's weights-only loader refused a pickle that would run code (or a broken file)
        raise CheckpointError(
            f"{what}: refused an unsafe or corrupt checkpoint in {path} ({type(exc).__name__}); "
            "use safetensors weights"
        ) from None
    unexpected = sorted(info.get("unexpected_keys") or [])
    absent = [k for k in unexpected if declared_absent(model, k)]
    raise_mismatch(
        what,
        sorted(info.get("missing_keys") or []),
        [k for k in unexpected if k not in absent],
        sorted(_mismatch_text(m) for m in (info.get("mismatched_keys") or [])),
    )
    pattern = declared_ignorable(model)
    own = set(model.state_dict())
    declared = [
        k
        for k in (checkpoint_keys(path) if Path(path).is_dir() else [])
        if k not in own and pattern is not None and pattern.search(k)
    ]
    ignored = sorted(set(declared) | set(absent))
    if ignored:
        log.info(
            "%s: ignored %d checkpoint keys the model declares unused: %s",
            what,
            len(ignored),
            ", ".join(ignored),
        )
    model.vidagent_ignored_keys = ignored
    return model


def _mismatch_text(m) -> str:
    if isinstance(m, (tuple, list)) and len(m) == 3:
        key, a, b = m
        return f"{key} {tuple(a)} vs {tuple(b)}"
    return str(m)
