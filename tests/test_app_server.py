"""The web app served on 127.0.0.1 and driven end to end with ``gradio_client`` and headless Chromium.

Perception is skipped with uploaded tracks (a zip of a tracks folder made here), and the language
model is replaced by the deterministic rules parser, so these tests need no weights. The app code
itself calls the real ``Agent`` API.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from vidagent.app import MODE_ASK, MODE_FIND, build_app, serve, zip_tracks
from vidagent.errors import WeightsMissingError
from vidagent.io.tracks import TracksWriter, open_tracks
from vidagent.testing import web
from vidagent.testing.doubles import RulesAgent
from vidagent.testing.web import free_port
from vidagent.types import ObjectInfo
from vidagent.video import open_video, write_video

pytestmark = pytest.mark.app

CHROMIUM = Path("/usr/bin/chromium")
T, W, H, FPS = 20, 96, 64, 10.0


def rules_factory(profile: str):
    return RulesAgent(profile=profile, device="cpu", offline=True, progress=False)


def make_clip(
    folder: Path, name: str, objects: list[tuple[int, str, int, range]]
) -> tuple[Path, Path]:
    """A video and a zip of its tracks: each object (id, label, x, frames) is a 12x12 square at
    column ``x`` (moving 1 px per frame to the right) on the frames it is visible."""
    frames, maps = [], []
    colors = {1: (220, 30, 30), 2: (30, 80, 220), 3: (40, 170, 60), 4: (250, 220, 30)}
    for t in range(T):
        img = np.full((H, W, 3), 110, np.uint8)
        lm = np.zeros((H, W), np.uint8)
        for i, _, x, visible in objects:
            if t in visible:
                img[20:32, x + t : x + t + 12] = colors[i]
                lm[20:32, x + t : x + t + 12] = i
        frames.append(img)
        maps.append(lm)
    video = Path(write_video(folder / f"{name}.mp4", frames, FPS))
    with TracksWriter(folder / f"{name}_tracks", FPS, W, H, T) as w:
        for t, lm in enumerate(maps):
            w.write(t, lm)
        w.close([ObjectInfo(i, label) for i, label, _, _ in objects])
    return video, zip_tracks(
        folder / f"{name}_tracks", folder / f"{name}_tracks.zip", f"{name}_tracks"
    )


@contextlib.contextmanager
def running_app(root: Path, factory=rules_factory, **serve_kw):
    demo = build_app(factory, profile="cpu", device="cpu", root=root / "app")
    _, url = serve(demo, "127.0.0.1", free_port(), block=False, **serve_kw)
    try:
        yield demo, url
    finally:
        demo.close()
        demo.vidagent_sessions.close_all()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return {
        # two balls (left and right) and a box that leaves at frame 9
        "a": make_clip(
            d, "a", [(1, "ball", 2, range(T)), (2, "ball", 60, range(T)), (3, "box", 30, range(10))]
        ),
        # three balls, one of them only from frame 12 on
        "b": make_clip(
            d,
            "b",
            [(1, "ball", 2, range(T)), (2, "ball", 30, range(T)), (3, "ball", 60, range(12, T))],
        ),
    }


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("server")) as served:
        yield served


def client(url: str, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    return gradio_client.Client(url, verbose=False, download_files=str(folder))


def run(c, video, tracks, mode, text, profile="cpu"):
    h = gradio_client.handle_file
    return c.predict(
        h(str(video)), h(str(tracks)) if tracks else None, mode, text, profile, api_name="/run"
    )


def unpack(result) -> dict:
    """Name the outputs and read the downloaded result JSON."""
    answer, details, evidence, overlay, timeline, plan, files = result
    files = [Path(f) for f in files]
    js = next(f for f in files if f.suffix == ".json")
    overlay = overlay["video"] if isinstance(overlay, dict) else overlay
    return {
        "answer": answer,
        "details": details,
        "evidence": evidence,
        "overlay": overlay,
        "timeline": timeline,
        "plan": json.loads(plan),
        "zip": next(f for f in files if f.suffix == ".zip"),
        "json": json.loads(js.read_text()),
    }


def test_ask_end_to_end_and_second_question_reuses_the_scene(app, clips, tmp_path):
    _, url = app
    video, tracks = clips["a"]
    c = client(url, tmp_path / "dl")
    r = unpack(run(c, video, tracks, MODE_ASK, "how many balls are there?"))
    assert r["json"]["value"] == 2 and r["json"]["plan"]["task"] == "count"
    assert r["plan"]["targets"] == ["ball"]
    assert "2" in r["answer"]
    assert sorted(row[0] for row in r["evidence"]["data"]) == [1, 2]
    assert "read the uploaded tracks" in r["details"]
    # the overlay video has every frame; the timeline is a picture with the objects' colours
    assert open_video(r["overlay"]).info.num_frames == T
    from PIL import Image

    assert np.asarray(Image.open(r["timeline"]).convert("RGB")).std() > 10
    # the tracks zip is the tracks format and holds what the scene holds
    with zipfile.ZipFile(r["zip"]) as zf:
        zf.extractall(tmp_path / "unz")
    (folder,) = [p for p in (tmp_path / "unz").iterdir() if p.is_dir()]
    reader = open_tracks(folder, open_video(video))
    assert reader.meta.labels() == {1: "ball", 2: "ball", 3: "box"}

    r2 = unpack(run(c, video, tracks, MODE_ASK, "when does the box leave?"))
    assert "re-used the scene" in r2["details"]
    assert r2["json"]["plan"]["task"] == "when"
    assert r2["json"]["value"] == pytest.approx(9 / FPS)


def test_find_mode_writes_only_the_referred_object(app, clips, tmp_path):
    _, url = app
    video, tracks = clips["a"]
    c = client(url, tmp_path / "dl")
    r = unpack(run(c, video, tracks, MODE_FIND, "the ball on the left"))
    assert r["json"]["ids"] == [1]
    assert r["answer"] == "Found 1 object: #1 ball."
    assert [row[:2] for row in r["evidence"]["data"]] == [[1, "ball"]]
    assert open_video(r["overlay"]).info.num_frames == T
    with zipfile.ZipFile(r["zip"]) as zf:
        meta = json.loads(next(zf.read(n) for n in zf.namelist() if n.endswith("objects.json")))
    assert meta["objects"] == [{"id": 1, "label": "ball"}]


def detections_file(folder: Path, tracks_dir: Path, every: int = 5) -> Path:
    """A detections JSON (boxes + RLE masks, every ``every``-th frame) read off a tracks folder."""
    from vidagent.io.masks import encode_rle

    reader = open_tracks(tracks_dir)
    frames = {}
    for t, lm in reader.label_maps():
        if t % every:
            continue
        items = []
        for i in np.unique(lm)[1:]:
            m = lm == i
            ys, xs = np.nonzero(m)
            box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
            label = reader.meta.labels()[int(i)]
            items.append({"box": box, "label": label, "score": 0.9, "rle": encode_rle(m)})
        frames[str(t)] = items
    path = folder / "detections.json"
    path.write_text(json.dumps({"frames": frames}))
    return path


def test_detections_are_tracked_once_per_target_set(app, clips, tmp_path, monkeypatch):
    """With the user's detections (masks given, so no model weights), the app runs the real
    tracker; a second question about targets already tracked does not run it again."""
    from vidagent.tracking import Tracker

    _, url = app
    video, _ = clips["a"]
    dets = detections_file(tmp_path, Path(str(clips["a"][1]).replace(".zip", "")))
    runs = []
    original = Tracker.stream

    def counting_stream(self, *a, **k):
        runs.append(1)
        return original(self, *a, **k)

    progress = []
    perceive = RulesAgent.perceive

    def recording_perceive(self, video, targets=(), tracks=None, detections=None, on_progress=None):
        def record(fraction, stage):
            progress.append((fraction, stage))
            on_progress(fraction, stage)

        return perceive(self, video, targets, tracks, detections, record if on_progress else None)

    monkeypatch.setattr(Tracker, "stream", counting_stream)
    monkeypatch.setattr(RulesAgent, "perceive", recording_perceive)
    c = client(url, tmp_path / "dl")
    r = unpack(run(c, video, dets, MODE_ASK, "how many balls are there?"))
    assert r["json"]["value"] == 2 and "tracked the uploaded detections" in r["details"]
    assert len(runs) == 1 and open_video(r["overlay"]).info.num_frames == T
    # the app handed the agent a progress callback (it drives the page's progress bar)
    assert progress and progress[-1] == (1.0, "tracking")
    r = unpack(run(c, video, dets, MODE_FIND, "the ball on the right"))
    assert len(runs) == 1 and "re-used" in r["details"]
    assert [row[1] for row in r["evidence"]["data"]] == ["ball"]
    r = unpack(run(c, video, dets, MODE_ASK, "how many boxes are there?"))  # a new target
    assert len(runs) == 2 and r["json"]["value"] == 1


def test_two_concurrent_sessions_do_not_see_each_other(app, clips, tmp_path):
    demo, url = app
    ca, cb = client(url, tmp_path / "a"), client(url, tmp_path / "b")
    results = {}

    def go(name, c, clip, question):
        results[name] = unpack(run(c, *clip, MODE_ASK, question))

    threads = [
        threading.Thread(target=go, args=("a", ca, clips["a"], "how many balls are there?")),
        threading.Thread(target=go, args=("b", cb, clips["b"], "how many balls are there?")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results["a"]["json"]["value"] == 2 and results["b"]["json"]["value"] == 3
    # the same video in the other session is perceived afresh, not taken from session a
    rb = unpack(run(cb, *clips["a"], MODE_ASK, "how many balls are there?"))
    assert "re-used" not in rb["details"] and rb["json"]["value"] == 2
    ra = unpack(run(ca, *clips["a"], MODE_ASK, "how many boxes are there?"))
    assert "re-used" in ra["details"] and ra["json"]["value"] == 1
    # each session has its own folder; no file of one is inside the other's
    sessions = demo.vidagent_sessions
    dirs = {s.dir for s in sessions._by_id.values()}
    assert len(dirs) == len(sessions) >= 2
    for s in sessions._by_id.values():
        assert all(str(p).startswith(str(s.dir)) for p in s.videos.values())


def test_errors_are_one_line(app, clips, tmp_path):
    _, url = app
    video, tracks = clips["a"]
    c = client(url, tmp_path / "dl")
    with pytest.raises(Exception) as e:
        run(c, video, tracks, MODE_ASK, "   ")
    assert "empty text" in str(e.value) and "Traceback" not in str(e.value)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(Exception) as e:
        run(c, video, bad, MODE_ASK, "how many balls are there?")
    assert "not a zip file" in str(e.value)
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"this is not a video" * 100)
    with pytest.raises(Exception) as e:
        run(c, fake, None, MODE_ASK, "how many balls are there?")
    assert "fake.mp4" in str(e.value) and "\n" not in str(e.value).strip()
    # tracks of another size than the video: the tracks format's check, as one line
    with TracksWriter(tmp_path / "small", FPS, 48, 32, T) as w:
        for t in range(T):
            w.write(t, np.zeros((32, 48), np.uint8))
        w.close([])
    small = zip_tracks(tmp_path / "small", tmp_path / "small.zip", "small")
    with pytest.raises(Exception) as e:
        run(c, video, small, MODE_ASK, "how many balls are there?")
    assert "tracks are 48x32 but the video is 96x64" in str(e.value)
    with pytest.raises(Exception) as e:
        run(c, video, tracks, MODE_ASK, "how many balls are there?", profile="nope")
    assert "nope" in str(e.value) and "Traceback" not in str(e.value)


class NoWeightsAgent(RulesAgent):
    """Perception needs detector weights that are not there (as offline without a download)."""

    def _detector(self):
        raise WeightsMissingError(
            "Grounding DINO weights (IDEA-Research/grounding-dino-tiny)",
            "vidagent models download --profile cpu",
        )


class BrokenAgent(RulesAgent):
    def ask(self, *a, **k):
        raise RuntimeError("boom\nsecond line of a traceback-like message")


def test_missing_weights_and_unexpected_errors_show_one_line(clips, tmp_path):
    video, _ = clips["a"]
    no_weights = running_app(
        tmp_path, lambda p: NoWeightsAgent(profile=p, device="cpu", offline=True, progress=False)
    )
    with no_weights as (_, url), pytest.raises(Exception) as e:
        run(client(url, tmp_path / "dl"), video, None, MODE_ASK, "how many balls are there?")
    msg = str(e.value)
    assert "vidagent models download --profile cpu" in msg and "\n" not in msg.strip()
    broken = running_app(tmp_path, lambda p: BrokenAgent(profile=p, device="cpu", progress=False))
    with broken as (_, url), pytest.raises(Exception) as e:
        run(client(url, tmp_path / "dl2"), video, None, MODE_ASK, "how many balls are there?")
    assert "unexpected error (RuntimeError): boom second line" in str(e.value)


def test_safe_defaults_and_upload_limit(tmp_path):
    import httpx

    with running_app(tmp_path, max_file_size="1kb") as (demo, url):
        assert url.startswith("http://127.0.0.1:") and demo.share_url is None
        small = httpx.post(f"{url}gradio_api/upload", files={"files": ("s.txt", b"x" * 100)})
        big = httpx.post(f"{url}gradio_api/upload", files={"files": ("b.txt", b"x" * 5000)})
        assert small.status_code == 200 and big.status_code == 413
        # one queue; the Run button and Enter in the text box share one concurrency group of 1
        runs = [f for f in demo.fns.values() if f.name == "run"]
        assert len(runs) == 2 and len({f.concurrency_id for f in runs}) == 1
        assert all(f.concurrency_limit == "default" for f in runs)
        assert demo._queue.default_concurrency_limit == 1 and demo._queue.max_size > 0


def test_sessions_removed_when_the_app_closes(clips, tmp_path):
    with running_app(tmp_path) as (demo, url):
        unpack(
            run(client(url, tmp_path / "dl"), *clips["a"], MODE_ASK, "how many balls are there?")
        )
        dirs = [s.dir for s in demo.vidagent_sessions._by_id.values()]
        assert dirs and all(d.is_dir() for d in dirs)
    assert not any(d.exists() for d in dirs)


MAIN_LABELS = [
    "Video",
    "Tracks zip or detections JSON (optional)",
    "Mode",
    "Question or referring expression",
    "Profile",
    "Answer",
    "Evidence",
    "Overlay (masks, ids, labels)",
    "Timeline (which object is visible when)",
    "Downloads (tracks zip, result JSON)",
]


def chromium(url: str, profile_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium on ``url`` with a fresh profile and no network services of its own."""
    profile_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile_dir}",
        "--window-size=1280,1600",
        "--virtual-time-budget=15000",
        "--hide-scrollbars",
        *args,
        url,
    ]
    return subprocess.run(cmd, capture_output=True, timeout=90, check=False, text=True)


def screenshot(url: str, out: Path, profile_dir: Path) -> Path:
    """Headless Chromium screenshot of ``url`` (1280x1600) to ``out``."""
    chromium(url, profile_dir, f"--screenshot={out}")
    return out


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (/usr/bin/chromium)"
)
def test_page_renders_main_controls_in_chromium(app, tmp_path):
    import httpx
    from PIL import Image

    _, url = app
    config = httpx.get(f"{url}config").json()
    labels = {c.get("props", {}).get("label") for c in config["components"]}
    values = {
        c.get("props", {}).get("value") for c in config["components"] if c.get("type") == "button"
    }
    assert set(MAIN_LABELS) <= labels and "Run" in values
    shot = screenshot(url, tmp_path / "app.png", tmp_path / "chrome")
    blank_html = tmp_path / "blank.html"
    blank_html.write_text("<html><body></body></html>")
    blank = screenshot(blank_html.as_uri(), tmp_path / "blank.png", tmp_path / "chrome2")
    page = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    empty = np.asarray(Image.open(blank).convert("L"), dtype=np.float32)
    assert page.shape == (1600, 1280)
    assert empty.std() < 1.0  # a blank page is flat
    assert page.std() > 10.0  # the app drew controls, text and borders
    # something is drawn in each quarter of the upper page (inputs left, outputs right)
    for part in (page[:800, :640], page[:800, 640:], page[800:, :640]):
        assert part.std() > 5.0
    # the page's DOM after the scripts ran: the controls were rendered by the frontend
    dom = chromium(url, tmp_path / "chrome3", "--dump-dom").stdout
    infos = {m.strip() for m in re.findall(r'data-testid="block-info"[^>]*>([^<]+)<', dom)}
    assert {"Mode", "Question or referring expression", "Profile", "Answer"} <= infos
    buttons = [
        re.sub(r"<[^>]+>", "", b).strip()
        for b in re.findall(r"<button[^>]*>(.*?)</button>", dom, re.DOTALL)
    ]
    assert "Run" in buttons
    assert "Drop Video Here" in dom and "<textarea" in dom
    # the Run button (the app's primary colour, orange) is on the page
    rgb = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int32)
    orange = (rgb[..., 0] > 200) & (rgb[..., 1] > 90) & (rgb[..., 1] < 160) & (rgb[..., 2] < 80)
    assert orange.sum() > 2000


def test_no_share_link_by_default():
    import inspect

    from vidagent.app import launch

    p = inspect.signature(launch).parameters
    assert p["host"].default == "127.0.0.1" and p["share"].default is False


@pytest.fixture(autouse=True)
def _no_leftover_chromium_profiles(tmp_path):
    yield
    shutil.rmtree(tmp_path / "chrome", ignore_errors=True)


def test_python_app_py_serves_on_loopback_and_cleans_up(tmp_path):
    """``python app.py --port P`` (the same as ``vidagent app``): serves on 127.0.0.1 only, stops on
    Ctrl-C and removes its temporary folder."""
    import os
    import signal
    import sys
    import time

    import httpx
    import psutil

    port = free_port()
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, TMPDIR=str(tmp_path), GRADIO_TEMP_DIR=str(tmp_path / "gradio"))
    proc = subprocess.Popen(
        [sys.executable, str(root / "app.py"), "--port", str(port), "--device", "cpu"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/config", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
        else:
            pytest.fail("the app did not answer within 90 s")
        listening = [
            c.laddr
            for c in psutil.Process(proc.pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
        assert listening and all(a.ip == "127.0.0.1" for a in listening), listening
        assert list(tmp_path.glob("vidagent-app-*"))
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) in (0, 130)  # 130: a second interrupt landed during shutdown
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not list(tmp_path.glob("vidagent-app-*"))


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (/usr/bin/chromium)"
)
def test_a_user_in_chromium_uploads_asks_and_sees_the_results(app, clips, tmp_path):
    """The page as a user drives it: upload the video and tracks zip through the file inputs,
    type, press Run; the answer, details, plan, overlay video, timeline and downloads appear;
    a second question in the other mode; an error shows as one line."""
    _, url = app
    video, tracks = clips["a"]
    with contextlib.closing(web.Browser()) as b:
        b.open(url)
        answer = web.ask_in_page(
            b, str(video), str(tracks), MODE_ASK, "how many balls are there?", 120
        )
        assert "2" in answer and "ball" in answer
        b.wait("Array.from(document.querySelectorAll('img')).some(i => i.naturalWidth === 800)", 30)
        texts = b.js(
            "Array.from(document.querySelectorAll('[data-testid=\"markdown\"], .cm-content'))"
            ".map(e => e.textContent)"
        )
        assert any("read the uploaded tracks" in t for t in texts)
        assert any('"task": "count"' in t for t in texts)
        videos = b.js("Array.from(document.querySelectorAll('video')).map(v => v.src)")
        assert any(v.endswith("overlay.mp4") for v in videos)
        links = b.js("Array.from(document.querySelectorAll('a[download]')).map(a => a.href)")
        assert any(h.endswith("result.json") for h in links) and any(
            h.endswith("_tracks.zip") for h in links
        )
        answer = web.ask_in_page(b, str(video), None, MODE_FIND, "the ball on the left", 120)
        assert answer == "Found 1 object: #1 ball."
        with pytest.raises(RuntimeError, match=r"^empty text: type a referring expression"):
            web.ask_in_page(b, str(video), None, MODE_FIND, "   ", 60)
