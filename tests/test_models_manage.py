"""`vidagent models` logic: profile list, cache locations, verification, downloads that fail
cleanly without a network."""

from __future__ import annotations

import dataclasses

import models_tiny
import pytest
from models_tiny import put_in_hub_cache, save_tiny_hf_gdino

from vidagent.models import manage
from vidagent.models.segmenter_sam import SAM_CHECKPOINTS
from vidagent.profiles import PROFILES

no_network = models_tiny.no_network  # the fixture, shared by the model tests


@pytest.fixture
def caches(tmp_path, monkeypatch):
    hub = tmp_path / "hub"
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("VIDAGENT_HOME", str(tmp_path / "home"))
    return hub, tmp_path / "home"


def test_list_profiles_is_plain_data():
    rows = manage.list_profiles()
    assert [r["name"] for r in rows] == list(PROFILES)
    cpu = rows[0]
    assert cpu["detector"]["short_side"] == PROFILES["cpu"].detector.short_side
    assert cpu["segmenter"]["input_size"] == PROFILES["cpu"].segmenter.input_size
    # the SAM encoder's precision on ONNX Runtime (int8 where parity holds: the cpu profile);
    # Grounding DINO on OpenVINO fp32
    assert cpu["segmenter"]["runtime"] == "onnxruntime" and cpu["segmenter"]["precision"] == "int8"
    assert cpu["detector"]["runtime"] == "openvino" and cpu["detector"]["precision"] == "fp32"
    assert {r["segmenter"]["precision"] for r in rows[1:]} == {"fp32"}


def test_cache_report_of_an_empty_cache(caches, no_network):
    hub, home = caches
    rows = manage.cache_report("cpu")
    assert {r["kind"] for r in rows} == {"hub_repo", "url"}
    assert not any(r["present"] for r in rows)
    sam = next(r for r in rows if r["kind"] == "url")
    assert sam["where"] == str(home / "sam" / "sam_vit_b_01ec64.pth")
    assert manage.locations() == {"hub_cache": str(hub), "vidagent_home": str(home)}
    assert all(r["ok"] is False and r["detail"] == "missing" for r in manage.verify("cpu"))
    assert no_network == []


def test_report_and_verify_a_cached_profile(caches, tmp_path, monkeypatch, no_network):
    hub, _ = caches
    snap = put_in_hub_cache(
        save_tiny_hf_gdino(tmp_path / "g"), hub, "IDEA-Research/grounding-dino-tiny"
    )
    w = SAM_CHECKPOINTS["vit_b"]
    w.path.parent.mkdir(parents=True)
    w.path.write_bytes(b"not the real checkpoint")
    rows = {r["kind"]: r for r in manage.cache_report("cpu")}
    assert rows["hub_repo"]["present"] and rows["hub_repo"]["where"] == str(snap)
    assert rows["url"]["present"]

    checks = manage.verify("cpu")
    hub_checks = [c for c in checks if "grounding-dino-tiny" in c["what"]]
    assert len(hub_checks) == 5 and all(c["ok"] for c in hub_checks)
    assert {c["detail"].split()[0] for c in hub_checks} == {"sha256", "git"}
    sam = next(c for c in checks if "SAM" in c["what"])
    assert sam["ok"] is False and "MISMATCH" in sam["detail"]  # the published MD5 catches it

    blob = (snap / "model.safetensors").resolve()
    blob.write_bytes(blob.read_bytes()[:-1] + b"\0")  # corrupt one byte
    bad = next(c for c in manage.verify("cpu") if c["what"].endswith("model.safetensors"))
    assert bad["ok"] is False and "MISMATCH" in bad["detail"]
    assert no_network == []


def test_download_reports_failures_without_raising(caches, no_network):
    rows = manage.download("cpu", progress=False)
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert all(r["error"] for r in rows)


def test_download_skips_what_is_present(caches, tmp_path, no_network):
    hub, _ = caches
    put_in_hub_cache(save_tiny_hf_gdino(tmp_path / "g"), hub, "IDEA-Research/grounding-dino-tiny")
    rows = manage.download("cpu", progress=False)
    assert rows[0]["status"] == "present" and rows[1]["status"] == "failed"


def test_every_profile_lists_its_weights():
    from vidagent.models.registry import profile_weights

    gpu = profile_weights("gpu")
    assert any("sam2.1" in r.ref for r in gpu) and any("Qwen" in r.ref for r in gpu)
    orig = profile_weights("original")
    assert [r.kind for r in orig] == ["hub_file", "hub_repo", "url"]
    assert orig[0].filename == "groundingdino_swint_ogc.pth"
    local = dataclasses.replace(
        PROFILES["cpu"],
        segmenter=dataclasses.replace(PROFILES["cpu"].segmenter, checkpoint="/nonexistent/sam.pth"),
    )
    assert profile_weights(local)[-1].kind == "local"


def test_verify_hashes_as_huggingface_hub_names_its_blobs(tmp_path):
    """huggingface_hub names a cached blob by the file's ETag: the SHA-256 of the content for
    LFS files (``X-Linked-Etag``), the git blob SHA-1 for regular files; small files may be in
    LFS too. verify picks the hash by the name's form, computed as huggingface_hub's own helpers
    (``utils.sha.git_hash``, ``utils.sha.sha_fileobj``) do, and says when a file is no blob."""
    import hashlib

    from huggingface_hub.utils.sha import git_hash, sha_fileobj

    blobs = tmp_path / "models--o--r" / "blobs"
    blobs.mkdir(parents=True)
    small = b'{"model_type": "sam"}\n'
    with open(tmp_path / "x", "wb") as f:
        f.write(small)
    as_lfs = blobs / sha_fileobj(open(tmp_path / "x", "rb")).hex()  # a small file kept in LFS
    as_lfs.write_bytes(small)
    as_git = blobs / git_hash(small)
    as_git.write_bytes(small)
    assert manage.git_blob_sha1(as_git) == git_hash(small)
    assert manage._verify_hub_file(as_lfs) == (True, "sha256 matches")
    assert manage._verify_hub_file(as_git) == (True, "git sha1 matches")
    for blob in (as_lfs, as_git):
        blob.write_bytes(small.replace(b"sam", b"sab"))
        assert manage._verify_hub_file(blob)[0] is False
    copied = tmp_path / "snapshot-copy.json"  # no symlinks: huggingface_hub copies the file
    copied.write_bytes(small)
    assert manage._verify_hub_file(copied)[0] is None
    odd = blobs / ("z" * 64)  # a 64-character name that is no SHA-256
    odd.write_bytes(small)
    assert manage._verify_hub_file(odd)[0] is None
    assert hashlib.sha256(small).hexdigest() == as_lfs.name
