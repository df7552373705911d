"""Drive the web app in headless Chromium and save a screenshot of the result (for the README).

    python scripts/app_screenshot.py [--out vidagent/examples/app.png] [--question "how many balls are there?"]
                                     [--mode ask|find] [--warmup Q] [--rules] [--full-colour]

Serves the app on 127.0.0.1 (a free port), opens it in headless Chromium (Debian ``chromium``),
uploads ``vidagent/examples/shapes.mp4`` and its bundled tracks (zipped) through the page's file
inputs, types the question, presses Run and waits for the answer, as a user would; then saves a
screenshot of the page. The real Agent and language model answer (``--rules``: the deterministic
parser). A warm-up question first loads the model, so the shown question has its own timings.
Prints the seconds each step took.

``Browser`` is a minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (no
extra Python package); the app's tests use it too.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_BINARY = "/usr/lib/chromium/chromium"  # the Debian wrapper script execs this


class Browser:
    """Headless Chromium driven through the DevTools protocol on pipes (fds 3 and 4).

    ``open(url)`` makes a page; ``js(expr)`` evaluates JavaScript in it and returns the value;
    ``wait(expr)`` polls until ``expr`` is truthy; ``set_files(selector, paths)`` fills a file
    input; ``screenshot(path)`` saves a PNG; ``close()`` ends Chromium and removes its fresh
    profile folder (use ``contextlib.closing``).
    """

    def __init__(self, window: str = "1280,1600") -> None:
        binary = CHROMIUM_BINARY if Path(CHROMIUM_BINARY).exists() else CHROMIUM
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()
        self.profile = tempfile.mkdtemp(prefix="vidagent-chromium-")

        def child_fds() -> None:  # the protocol expects to read fd 3 and write fd 4
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        cmd = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", f"--user-data-dir={self.profile}",
            f"--window-size={window}", "--remote-debugging-pipe", "about:blank",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            preexec_fn=child_fds,  # noqa: PLW1509 - only fcntl/dup2 run between fork and exec
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.session: str | None = None

    def send(
        self, method: str, params: dict | None = None, timeout: float = 60.0, page: bool = True
    ) -> dict:
        """Send one protocol command and return its result (events in between are dropped)."""
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if page and self.session:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\0" not in self._buf:
                chunk = os.read(self._r, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buf += chunk
            raw, self._buf = self._buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
        raise TimeoutError(method)

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": url}, page=False)["targetId"]
        attached = self.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}, page=False
        )
        self.session = attached["sessionId"]

    def js(self, expression: str, timeout: float = 60.0):
        r = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            timeout=timeout,
        )
        if "exceptionDetails" in r:
            raise RuntimeError(
                f"javascript failed: {r['exceptionDetails'].get('text')}: {expression[:80]}"
            )
        return r["result"].get("value")

    def wait(self, expression: str, timeout: float = 60.0, every: float = 0.25):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(every)
        raise TimeoutError(f"waited {timeout:g} s for: {expression[:120]}")

    def set_files(self, selector: str, paths: list[str]) -> None:
        root = self.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        if not node:
            raise RuntimeError(f"no element matches {selector!r}")
        self.send("DOM.setFileInputFiles", {"nodeId": node, "files": [str(p) for p in paths]})

    def screenshot(self, path: str | os.PathLike) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=10, page=False)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._r, self._w):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


# JavaScript helpers for the app's page (labels are the component labels of vidagent.app)
def textbox_value(label: str) -> str:
    return (
        "(() => { const l = Array.from(document.querySelectorAll('label'))"
        f".find(l => l.textContent.trim().startsWith({json.dumps(label)}));"
        " const t = l && l.querySelector('textarea'); return t ? t.value : null; })()"
    )


def ask_in_page(
    browser: Browser, video: str, side: str | None, mode: str, text: str, timeout: float = 300
) -> str:
    """Upload, choose the mode, type ``text``, press Run; returns the Answer box's new text.

    Files are uploaded only where the page still shows an upload area. The answer is recognised
    by its change, so it must differ from the one shown before. Raises RuntimeError with the
    page's error message when the app reports an error.
    """
    browser.wait(
        "!!document.querySelector('input[type=file]') && document.querySelectorAll('textarea').length > 0"
    )
    before = browser.js(textbox_value("Answer")) or ""
    # upload where the page still shows an upload area (after a run the same files stay loaded)
    if browser.js("""!!document.querySelector('input[accept*="video"]')"""):
        browser.set_files('input[accept*="video"]', [video])
    if side and browser.js("""!!document.querySelector('input[accept*=".zip"]')"""):
        browser.set_files('input[accept*=".zip"]', [side])
    browser.wait("!!document.querySelector('video')")
    browser.js(
        "Array.from(document.querySelectorAll('input[type=radio]'))"
        f".find(r => r.value === {json.dumps(mode)}).click()"
    )
    browser.js(
        "(() => { const l = Array.from(document.querySelectorAll('label'))"
        ".find(l => l.textContent.includes('Question or referring expression'));"
        f" const t = l.querySelector('textarea'); t.value = {json.dumps(text)};"
        " t.dispatchEvent(new Event('input', {bubbles: true})); return true; })()"
    )
    time.sleep(0.5)  # let the page register the uploads and the text before the click
    browser.js(
        "Array.from(document.querySelectorAll('button')).find(b => b.textContent.trim() === 'Run').click()"
    )
    answer_js = textbox_value("Answer")
    check = (
        f"(() => {{ const a = {answer_js};"
        f" if (a && a !== {json.dumps(before)}) return 'ok:' + a;"
        " const e = document.querySelector('[data-testid=\"toast-text\"]');"
        " return e ? 'error:' + e.textContent.trim() : null; })()"
    )
    result = browser.wait(check, timeout)
    if result.startswith("error:"):
        raise RuntimeError(result[len("error:") :])
    return result[len("ok:") :]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    from vidagent.testing.doubles import RulesParser

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
