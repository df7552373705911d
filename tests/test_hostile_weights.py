"""Untrusted model files: a checkpoint whose unpickling runs code is refused, never executed;
downloaded weights are checked against their published hash; missing weights are exit 3, and bad
inputs are exit 2 before any weight is looked for."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch

from vidagent.errors import InputError
from vidagent.models.weights import CheckpointError, UrlWeight, download_url, read_state_dict

pytestmark = pytest.mark.hostile


class _Payload:
    """Unpickling this creates ``marker`` (``open(marker, "w")``): code run by the loader."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def malicious_checkpoint(path: Path, marker: Path, wrap: str | None = None) -> Path:
    """A torch pickle that looks like a state dict but runs code when fully unpickled."""
    sd = {"weight": torch.zeros(2, 2), "evil": _Payload(marker)}
    torch.save({wrap: sd} if wrap else sd, path)
    return path


def test_the_payload_really_runs_under_plain_pickle(tmp_path):
    # guard: proves the file is dangerous, so the tests below mean something
    marker = tmp_path / "pwned"
    ckpt = malicious_checkpoint(tmp_path / "evil.pth", marker)
    torch.load(ckpt, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize(
    "suffix,wrap", [(".pth", None), (".pt", "model"), (".bin", None), (".ckpt", "model")]
)
def test_read_state_dict_refuses_code(tmp_path, suffix, wrap):
    marker = tmp_path / "pwned"
    ckpt = malicious_checkpoint(tmp_path / f"evil{suffix}", marker, wrap)
    with pytest.raises(CheckpointError) as e:
        read_state_dict(ckpt, key=wrap)
    assert not marker.exists()
    msg = str(e.value)
    assert "\n" not in msg and "cannot read checkpoint" in msg and str(ckpt) in msg
    assert isinstance(e.value, InputError)  # exit 2 through the CLI


def test_sam_checkpoint_loader_refuses_code(tmp_path):
    from models_tiny import tiny_sam_arch

    from vidagent.models.segmenter_sam import load_sam

    marker = tmp_path / "pwned"
    ckpt = malicious_checkpoint(tmp_path / "sam_vit_b_01ec64.pth", marker)
    with pytest.raises(CheckpointError):
        load_sam(ckpt, tiny_sam_arch(), input_size=256)
    assert not marker.exists()


def test_groundingdino_checkpoint_path_refuses_code(tmp_path):
    # load_groundingdino reads its .pth through read_state_dict(key="model") before building
    marker = tmp_path / "pwned"
    ckpt = malicious_checkpoint(tmp_path / "groundingdino_swint_ogc.pth", marker, "model")
    with pytest.raises(CheckpointError):
        read_state_dict(ckpt, key="model")
    assert not marker.exists()


def test_not_a_state_dict_is_refused(tmp_path):
    p = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], p)
    with pytest.raises(CheckpointError, match="not a state dict"):
        read_state_dict(p)
    for name, data in (
        ("junk.pth", os.urandom(3000)),
        ("empty.pth", b""),
        ("t.safetensors", b"\x10" * 64),
    ):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(CheckpointError):
            read_state_dict(tmp_path / name)


def test_transformers_folder_with_a_pickled_bin_refuses_code(tmp_path):
    """A model folder (as a user might point a profile at) whose weights are a malicious
    ``pytorch_model.bin`` instead of safetensors: the code must not run."""
    from models_tiny import save_tiny_hf_sam

    from vidagent.models.segmenter_hf import HFSamSegmenter

    folder = save_tiny_hf_sam(tmp_path / "sam")
    for f in folder.glob("*.safetensors"):
        f.unlink()
    (folder / "model.safetensors.index.json").unlink(missing_ok=True)
    marker = tmp_path / "pwned"
    malicious_checkpoint(folder / "pytorch_model.bin", marker)
    from vidagent.models.weights import CheckpointError

    # refused by torch's weights-only unpickler inside transformers, reported in one line
    with pytest.raises(CheckpointError, match="unsafe or corrupt") as info:
        HFSamSegmenter.from_pretrained(folder)
    assert "\n" not in str(info.value)
    assert not marker.exists()


def _weight(tmp_path, monkeypatch, data: bytes, md5: str | None) -> UrlWeight:
    src = tmp_path / "served" / "sam_vit_b_01ec64.pth"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(data)
    monkeypatch.setenv("VIDAGENT_HOME", str(tmp_path / "home"))
    return UrlWeight(src.as_uri(), "sam", md5=md5)


def test_download_with_a_wrong_hash_is_discarded(tmp_path, monkeypatch):
    w = _weight(
        tmp_path, monkeypatch, b"tampered weights" * 1000, "01ec64d29a2fca3f0661936605ae66f8"
    )
    with pytest.raises(ValueError, match="MD5"):
        download_url(w, progress=False)
    assert not w.path.exists()
    assert list(w.path.parent.iterdir()) == []  # no .part file left behind


def test_download_with_the_right_hash_is_kept(tmp_path, monkeypatch):
    data = b"genuine weights" * 1000
    w = _weight(tmp_path, monkeypatch, data, hashlib.md5(data).hexdigest())
    assert download_url(w, progress=False) == w.path
    assert w.path.read_bytes() == data
    assert [p.name for p in w.path.parent.iterdir()] == [w.path.name]


def test_resolve_url_file_turns_a_bad_hash_into_exit_3(tmp_path, monkeypatch):
    from vidagent.errors import WeightsMissingError
    from vidagent.models.weights import resolve_url_file

    w = _weight(tmp_path, monkeypatch, b"tampered", "0" * 32)
    with pytest.raises(WeightsMissingError) as e:
        resolve_url_file(w, offline=False, what="SAM weights", profile="cpu")
    assert "vidagent models download --profile cpu" in str(e.value) and not w.path.exists()


def test_every_published_url_weight_has_a_hash():
    from vidagent.models.segmenter_sam import SAM_CHECKPOINTS

    assert SAM_CHECKPOINTS and all(w.md5 and len(w.md5) == 32 for w in SAM_CHECKPOINTS.values())


# ----------------------------------------------------------------------------- CLI: exit 3 / 2
@pytest.fixture
def empty_caches(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HF_HOME": str(home / "hf"),
        "HF_HUB_CACHE": str(home / "hf" / "hub"),
        "VIDAGENT_HOME": str(home / "vidagent"),
        "TORCH_HOME": str(home / "torch"),
    }


def test_track_offline_without_weights_is_exit_3(make_video, tmp_path, empty_caches):
    from test_cli import one_line_error, run_cli

    video = make_video()
    r = run_cli(
        "track",
        str(video),
        "dog . ball",
        "--out",
        str(tmp_path / "o"),
        "--offline",
        env=empty_caches,
    )
    assert r.returncode == 3, r.stderr
    line = one_line_error(r)
    assert "vidagent models download" in line and r.stdout == ""
    assert not (tmp_path / "o").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize(
    "detections,match",
    [('{"frames": {"0": [{"box": [5, 5, -3, 9]}]}}', "reversed"), ("[1, 2", "not valid JSON")],
)
def test_bad_input_is_exit_2_even_without_weights(
    make_video, tmp_path, empty_caches, detections, match
):
    """Inputs are checked before weights are looked for: a bad file is 2, never 3."""
    from test_cli import one_line_error, run_cli

    video = make_video()
    f = tmp_path / "d.json"
    f.write_text(detections)
    # boxes without masks would need the segmenter (weights absent): still exit 2 first
    r = run_cli(
        "track",
        str(video),
        "dog",
        "--detections",
        str(f),
        "--out",
        str(tmp_path / "o"),
        "--offline",
        env=empty_caches,
    )
    assert r.returncode == 2, r.stderr
    assert match in one_line_error(r)
    r = run_cli(
        "track", str(video), " . , ", "--out", str(tmp_path / "o"), "--offline", env=empty_caches
    )
    assert r.returncode == 2 and "prompt" in one_line_error(r)
    assert not (tmp_path / "o").exists()


def test_detections_without_masks_need_the_segmenter_exit_3(make_video, tmp_path, empty_caches):
    from test_cli import one_line_error, run_cli

    video = make_video()
    f = tmp_path / "d.json"
    f.write_text(json.dumps({"frames": {"0": [{"box": [4, 20, 24, 40], "label": "square"}]}}))
    r = run_cli(
        "track",
        str(video),
        "",
        "--detections",
        str(f),
        "--out",
        str(tmp_path / "o"),
        "--offline",
        env=empty_caches,
    )
    assert r.returncode == 3, r.stderr
    assert "vidagent models download" in one_line_error(r)
    assert not (tmp_path / "o").exists()
