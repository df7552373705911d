"""Screenshot of the web app after one question about the bundled example (for the README).

    python scripts/app_screenshot.py [--out vidagent/examples/app.png] [--question "how many balls are there?"]
                                     [--mode ask|find] [--warmup Q] [--rules] [--full-colour]

Serves the app on 127.0.0.1 (a free port), asks the question about ``vidagent/examples/shapes.mp4``
with its bundled tracks through ``gradio_client`` (the real Agent and language model; ``--rules``
uses the deterministic parser instead) after a warm-up question that loads the model, then opens the session's state in headless Chromium
(Debian ``chromium``) through Gradio's deep link and saves a 1280x1600 screenshot. Prints the
seconds each step took.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_screenshot(
    url: str, out: Path, size: str = "1280,1600", budget_ms: int = 15000
) -> None:
    """Headless Chromium screenshot of ``url``; a fresh throw-away profile, no network services."""
    profile = Path(tempfile.mkdtemp(prefix="vidagent-chromium-"))
    try:
        cmd = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={out}",
            f"--window-size={size}",
            f"--virtual-time-budget={budget_ms}",
            "--hide-scrollbars",
            url,
        ]
        subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="vidagent/examples/app.png")
    ap.add_argument("--question", default="how many balls are there?")
    ap.add_argument("--mode", choices=["ask", "find"], default="ask")
    ap.add_argument(
        "--warmup", default="is there a box?", help="a question asked first ('' for none)"
    )
    ap.add_argument(
        "--rules", action="store_true", help="use the deterministic parser, not the language model"
    )
    ap.add_argument(
        "--full-colour", action="store_true", help="keep the screenshot's colours (a larger PNG)"
    )
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2

    import httpx
    from gradio_client import Client, handle_file

    from vidagent import Agent
    from vidagent.app import EXAMPLES_DIR, MODE_ASK, MODE_FIND, build_app, serve, zip_tracks

    class RulesParser:
        def parse(self, text, expression=False):
            from vidagent.query.rules import parse_rules

            return parse_rules(text, expression=expression)

    class RulesAgent(Agent):
        @property
        def parser(self):
            return RulesParser()

    kind = RulesAgent if args.rules else Agent
    root = Path(tempfile.mkdtemp(prefix="vidagent-shot-"))
    try:
        t0 = time.perf_counter()
        demo = build_app(
            lambda p: kind(profile=p, device="cpu", offline=True, progress=False),
            profile="cpu",
            root=root,
        )
        _, url = serve(demo, "127.0.0.1", free_port(), block=False)
        print(f"serve: {time.perf_counter() - t0:.2f} s  {url}")
        tracks = zip_tracks(
            EXAMPLES_DIR / "shapes_tracks", root / "shapes_tracks.zip", "shapes_tracks"
        )
        client = Client(url, verbose=False, download_files=str(root / "client"))
        mode = MODE_ASK if args.mode == "ask" else MODE_FIND
        args_common = (handle_file(str(EXAMPLES_DIR / "shapes.mp4")), handle_file(str(tracks)))
        if args.warmup:  # loads the language model, so the shown question has its own timings
            t0 = time.perf_counter()
            client.predict(*args_common, MODE_ASK, args.warmup, "cpu", api_name="/run")
            print(f"warm-up run ({args.warmup!r}): {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        result = client.predict(*args_common, mode, args.question, "cpu", api_name="/run")
        print(f"run: {time.perf_counter() - t0:.2f} s  answer: {result[0]}")
        link = httpx.get(
            f"{url}gradio_api/deep_link", params={"session_hash": client.session_hash}
        ).json()
        t0 = time.perf_counter()
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        chromium_screenshot(f"{url}?deep_link={link}", out.resolve())
        if not args.full_colour:  # 256 colours: a third of the bytes, same look
            from PIL import Image

            Image.open(out).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(
                out, optimize=True
            )
        print(f"screenshot: {time.perf_counter() - t0:.2f} s  {out} ({out.stat().st_size} bytes)")
        demo.close()
        demo.vidagent_sessions.close_all()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
