"""Drive the web app in headless Chromium and save a screenshot of the result (for the README).

    python scripts/app_screenshot.py [--out vidagent/examples/app.png] [--question "how many balls are there?"]
                                     [--mode ask|find] [--warmup Q] [--rules] [--full-colour]

Serves the app on 127.0.0.1 (a free port), opens it in headless Chromium (Debian ``chromium``),
uploads ``vidagent/examples/shapes.mp4`` and its bundled tracks (zipped) through the page's file
inputs, types the question, presses Run and waits for the answer, as a user would; then saves a
screenshot of the page. The real Agent and language model answer (``--rules``: the deterministic
parser). A warm-up question first loads the model, so the shown question has its own timings.
Prints the seconds each step took.

The browser driver (``Browser``, ``ask_in_page``) is ``vidagent.testing.web``; the app's tests
use it too.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

from vidagent.testing.web import CHROMIUM, Browser, ask_in_page, free_port


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

    from vidagent import Agent
    from vidagent.app import EXAMPLES_DIR, MODE_ASK, MODE_FIND, build_app, serve, zip_tracks
    from vidagent.testing.doubles import RulesAgent

    kind = RulesAgent if args.rules else Agent
    root = Path(tempfile.mkdtemp(prefix="vidagent-shot-"))
    try:
        t0 = time.perf_counter()
        demo = build_app(
            lambda p: kind(profile=p, device="cpu", offline=True, progress=False),
            profile="cpu",
            root=root / "app",
        )
        _, url = serve(demo, "127.0.0.1", free_port(), block=False)
        print(f"serve: {time.perf_counter() - t0:.2f} s  {url}")
        video = str(EXAMPLES_DIR / "shapes.mp4")
        tracks = str(
            zip_tracks(EXAMPLES_DIR / "shapes_tracks", root / "shapes_tracks.zip", "shapes_tracks")
        )
        with contextlib.closing(Browser()) as browser:
            browser.open(url)
            if args.warmup:
                t0 = time.perf_counter()
                ask_in_page(browser, video, tracks, MODE_ASK, args.warmup)
                print(f"warm-up question ({args.warmup!r}): {time.perf_counter() - t0:.2f} s")
            t0 = time.perf_counter()
            mode = MODE_ASK if args.mode == "ask" else MODE_FIND
            answer = ask_in_page(browser, video, tracks, mode, args.question)
            print(f"question in the page: {time.perf_counter() - t0:.2f} s  answer: {answer}")
            time.sleep(1.0)  # let the overlay video and timeline image finish loading
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            browser.js("window.scrollTo(0, 0)")
            browser.screenshot(out)
        if not args.full_colour:  # 256 colours: a third of the bytes, same look
            from PIL import Image

            img = Image.open(out).convert("RGB")
            img.quantize(256, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
        print(f"screenshot: {out} ({out.stat().st_size} bytes)")
        demo.close()
        demo.vidagent_sessions.close_all()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
