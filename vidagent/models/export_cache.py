"""On-disk cache of models exported for a faster CPU runtime (ONNX Runtime, OpenVINO).

Exports live under ``VIDAGENT_HOME/exported`` (beside the weights, never inside the package), one
folder per export, named by the model kind, the weights' content hash, the input shape and the
versions of torch, onnxruntime and this export format: new weights or a new runtime never reuse an
old export. A folder appears atomically (written under a temporary name, then renamed), so a
crash mid-export leaves nothing that a later run would load.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from vidagent.models.weights import file_digest, vidagent_home

FORMAT = 2  # bump when the exported graphs change meaning (inputs, outputs, wrappers)
MODEL_FILE = "model.onnx"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def export_root() -> Path:
    """``VIDAGENT_HOME/exported``."""
    return vidagent_home() / "exported"


def runtime_tag() -> str:
    """Versions an export depends on: torch (the exporter), onnxruntime (``none`` when it is not
    installed: OpenVINO reads the file), this format."""
    import torch

    try:
        import onnxruntime

        ort_v = onnxruntime.__version__
    except ImportError:
        ort_v = "none"
    torch_v = torch.__version__.split("+")[0]
    return f"torch{torch_v}-ort{ort_v}-f{FORMAT}"


def weights_digest(paths: Iterable[str | Path]) -> str:
    """SHA-256 over the contents of ``paths`` (files, or folders: their ``*.safetensors`` and
    ``*.json``), 16 hex digits.

    A file that is a hub-cache blob named by its SHA-256 is not read again; other files are hashed
    once and remembered by (path, size, mtime) in ``export_root()/digests.json``.
    """
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(
                f for f in p.iterdir() if f.suffix in (".safetensors", ".json") and f.is_file()
            )
        else:
            files.append(p)
    h = hashlib.sha256()
    memo_path = export_root() / "digests.json"
    memo = _read_json(memo_path)
    changed = False
    for f in files:
        real = f.resolve()
        if _HEX64.match(real.name):
            digest = real.name
        else:
            st = real.stat()
            key = f"{real}:{st.st_size}:{st.st_mtime_ns}"
            digest = memo.get(key)
            if digest is None:
                digest = memo[key] = file_digest(real, "sha256")
                changed = True
        h.update(f.name.encode() + b"\0" + digest.encode() + b"\n")
    if changed:
        _write_json(memo_path, memo)
    return h.hexdigest()[:16]


def module_digest(module) -> str:
    """SHA-256 over a module's state dict (names, shapes, bytes), 16 hex digits: the key of models
    that were not loaded from a file (built in memory)."""
    import torch

    h = hashlib.sha256()
    for name, t in module.state_dict().items():
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}\n".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


def digest_of(weights) -> str:
    """``weights`` as a cache key: a digest string as it is, or files/folders hashed."""
    return weights if isinstance(weights, str) else weights_digest(weights)


def cached_export(name: str, export: Callable[[Path], None]) -> Path:
    """The model file of export ``name``, calling ``export(path)`` to write it when absent.

    Concurrent processes wait on one lock per name; only one exports.
    """
    root = export_root()
    folder = root / name
    model = folder / MODEL_FILE
    if model.is_file():
        return model
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if model.is_file():
            return model
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}."))
        # a first run exports for minutes on a CPU: say so rather than look hung
        print(f"vidagent: exporting {name} for ONNX Runtime, once (this can take minutes; "
              f"kept in {folder})", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            export(tmp / MODEL_FILE)
            if not (tmp / MODEL_FILE).is_file():
                raise RuntimeError(f"export {name} wrote no {MODEL_FILE}")
            if folder.exists():  # a broken leftover without its model file
                shutil.rmtree(folder)
            os.replace(tmp, folder)
            print(f"vidagent: exported {name} in {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr, flush=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return model


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)
