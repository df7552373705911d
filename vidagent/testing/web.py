"""Driving the web app from tests and scripts: a free local port, ``Browser`` (a minimal Chrome
DevTools Protocol client over ``--remote-debugging-pipe``, no extra Python package; needs Debian's
``chromium``) and ``ask_in_page``, which uses the page as a user does."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
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
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
