"""What ``vidagent models list|where|download|verify`` does.

* :func:`list_profiles`: the profiles with their models, sizes and thresholds;
* :func:`cache_report`: every weight of a profile, where it lives, whether it is present;
* :func:`download`: fetch a profile's weights (hub files through huggingface_hub, the original SAM
  checkpoints from their official URLs into ``VIDAGENT_HOME``), with progress bars on stderr;
* :func:`verify`: check what is present without the network: hub files against the content hash
  the hub cache names them by (SHA-256 of large files, git blob SHA-1 of small ones), SAM
  checkpoints against their published MD5.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from pathlib import Path

from vidagent.models.registry import WeightRef, profile_weights
from vidagent.models.weights import (
    download_url,
    file_digest,
    hub_cache_dir,
    hub_offline,
    vidagent_home,
)
from vidagent.profiles import PROFILES, get_profile


def list_profiles() -> list[dict]:
    """One dict per profile: name, description, detector, segmenter, propagator, video model,
    tracker settings and language model (plain data, JSON-ready)."""
    return [p.to_json() for p in PROFILES.values()]


def locations() -> dict:
    """The cache folders in use: hub cache and VIDAGENT_HOME."""
    return {"hub_cache": str(hub_cache_dir()), "vidagent_home": str(vidagent_home())}


def _hub_snapshot(ref: WeightRef) -> Path | None:
    """The cached snapshot folder of a hub repo (no network), or None."""
    from huggingface_hub import snapshot_download

    try:
        with hub_offline():
            return Path(
                snapshot_download(ref.ref, allow_patterns=list(ref.patterns), local_files_only=True)
            )
    except (OSError, ValueError):  # not cached, or not a valid repo id
        return None


def _has_required(folder: Path, required) -> bool:
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return all(
        any(fnmatch.fnmatch(n, g) for n in names for g in alts.split("|")) for alts in required
    )


def _locate(ref: WeightRef) -> tuple[str, bool]:
    """(where, present) for one weight, without the network."""
    if ref.kind in ("local", "package"):
        return ref.ref, Path(ref.ref).exists()
    if ref.kind == "url":
        return str(ref.url_weight.path), ref.url_weight.path.is_file()
    if ref.kind == "hub_file":
        from huggingface_hub import try_to_load_from_cache

        with hub_offline():
            hit = try_to_load_from_cache(ref.ref, ref.filename)
        if isinstance(hit, str):
            return hit, True
        return f"{hub_cache_dir()}/models--{ref.ref.replace('/', '--')}/.../{ref.filename}", False
    snap = _hub_snapshot(ref)
    if snap is None:
        return f"{hub_cache_dir()}/models--{ref.ref.replace('/', '--')}", False
    return str(snap), _has_required(snap, ref.required)


def cache_report(profile: str | None = None) -> list[dict]:
    """For each weight of ``profile``: ``{"what", "kind", "source", "where", "present"}``."""
    out = []
    for ref in profile_weights(get_profile(profile)):
        where, present = _locate(ref)
        out.append(
            {
                "what": ref.what,
                "kind": ref.kind,
                "source": ref.ref,
                "where": where,
                "present": present,
            }
        )
    return out


def download(profile_name: str | None = None, progress: bool = True) -> list[dict]:
    """Fetch every missing weight of a profile; returns per weight
    ``{"what", "where", "status": "present" | "downloaded" | "failed", "error"}``."""
    from huggingface_hub import hf_hub_download, snapshot_download
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    out = []
    if not progress:
        disable_progress_bars()
    try:
        for ref in profile_weights(get_profile(profile_name)):
            where, present = _locate(ref)
            row = {"what": ref.what, "where": where, "status": "present", "error": None}
            if not present:
                try:
                    if ref.kind == "hub_repo":
                        row["where"] = snapshot_download(ref.ref, allow_patterns=list(ref.patterns))
                    elif ref.kind == "hub_file":
                        row["where"] = hf_hub_download(ref.ref, ref.filename)
                    elif ref.kind == "url":
                        row["where"] = str(download_url(ref.url_weight, progress=progress))
                    else:
                        raise FileNotFoundError(
                            f"{ref.ref} does not exist (a local path: fix the profile)"
                        )
                    row["status"] = "downloaded"
                except Exception as e:  # noqa: BLE001 - report every weight, then let the caller decide
                    row["status"], row["error"] = "failed", f"{type(e).__name__}: {e}"
            out.append(row)
    finally:
        if not progress:
            enable_progress_bars()
    return out


def git_blob_sha1(path: str | Path) -> str:
    """Git's object id of a file (``sha1("blob <size>\\0" + content)``), the hub's id of a small
    (non-LFS) file."""
    data = Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHA1 = re.compile(r"[0-9a-f]{40}")


def _verify_hub_file(path: Path) -> tuple[bool | None, str]:
    """Compare a cached hub file with the content hash its blob is named by.

    huggingface_hub names a blob by the file's ETag (``file_download``: ``X-Linked-Etag`` or
    ``ETag``): the SHA-256 of the content for LFS files, the git blob SHA-1 for regular files. A
    snapshot file that is not a link into ``blobs/`` (a copy, where symlinks are unavailable) or
    a blob whose name is neither hash cannot be verified offline: ``None``.
    """
    blob = path.resolve()
    name = blob.name
    if blob.parent.name != "blobs":
        return None, "not a hub-cache blob; cannot verify"
    if _SHA256.fullmatch(name):
        ok = file_digest(blob, "sha256") == name
        return ok, "sha256 " + ("matches" if ok else "MISMATCH")
    if _SHA1.fullmatch(name):
        ok = git_blob_sha1(blob) == name
        return ok, "git sha1 " + ("matches" if ok else "MISMATCH")
    return None, f"unknown blob name {name}"


def verify(profile_name: str | None = None) -> list[dict]:
    """Check a profile's weights offline; per file ``{"what", "where", "ok", "detail"}`` where
    ``ok`` is True (hash matches), False (missing or mismatch) or None (present, no hash known)."""
    out = []
    for ref in profile_weights(get_profile(profile_name)):
        where, present = _locate(ref)
        if not present:
            out.append({"what": ref.what, "where": where, "ok": False, "detail": "missing"})
            continue
        if ref.kind == "url":
            w = ref.url_weight
            if w.md5 is None:
                size = w.path.stat().st_size
                ok = None if w.size is None else size == w.size
                out.append(
                    {
                        "what": ref.what,
                        "where": where,
                        "ok": ok,
                        "detail": f"{size} bytes; no checksum published",
                    }
                )
            else:
                ok = file_digest(w.path, "md5") == w.md5
                out.append(
                    {
                        "what": ref.what,
                        "where": where,
                        "ok": ok,
                        "detail": "md5 " + ("matches" if ok else "MISMATCH"),
                    }
                )
        elif ref.kind == "hub_file":
            ok, detail = _verify_hub_file(Path(where))
            out.append({"what": ref.what, "where": where, "ok": ok, "detail": detail})
        elif ref.kind == "hub_repo":
            for f in sorted(Path(where).rglob("*")):
                if f.is_file():
                    ok, detail = _verify_hub_file(f)
                    out.append(
                        {
                            "what": f"{ref.what}: {f.relative_to(where)}",
                            "where": str(f),
                            "ok": ok,
                            "detail": detail,
                        }
                    )
        else:
            out.append(
                {
                    "what": ref.what,
                    "where": where,
                    "ok": None,
                    "detail": "local path; no hash known",
                }
            )
    return out
