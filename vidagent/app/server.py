"""Serving the app: queue and launch settings (local address by default, no share link, upload
size limit, one run at a time) and ``launch``, which builds, serves and cleans up."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile

import gradio as gr

from vidagent.app.sessions import AgentFactory
from vidagent.app.ui import EXAMPLES_DIR, build_app
from vidagent.errors import InputError

log = logging.getLogger("vidagent.app")

MAX_UPLOAD = "500mb"  # largest file a browser may upload (video or tracks zip)
CONCURRENCY = 1  # runs at once over all sessions: the models fill the CPU/GPU and are shared
QUEUE_SIZE = 32  # runs waiting in the queue before new ones are refused


def _theme():
    # system fonts only: the page loads nothing from the internet (works offline)
    system = ["ui-sans-serif", "system-ui", "sans-serif"]
    return gr.themes.Default(font=system, font_mono=["ui-monospace", "monospace"])


def serve(
    demo,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    block: bool = True,
    concurrency: int = CONCURRENCY,
    max_file_size: str | int = MAX_UPLOAD,
):
    """Queue and launch ``demo``; ``block=False`` returns ``(app, local_url)`` with the server running."""
    if not 0 < int(port) < 65536:
        raise InputError(f"port {port} is out of range; use 1-65535")
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("the app listens on %s: anyone who can reach this address can use it", host)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo.queue(default_concurrency_limit=concurrency, max_size=QUEUE_SIZE)
    try:
        app, local_url, _ = demo.launch(
            server_name=host,
            server_port=int(port),
            share=bool(share),
            max_file_size=max_file_size,
            show_error=False,
            prevent_thread_lock=not block,
            quiet=not block,
            theme=_theme(),
            allowed_paths=[str(EXAMPLES_DIR)],
            ssr_mode=False,
        )
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc}); choose another --port") from None
    return app, local_url


def launch(
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    profile: str | None = None,
    device: str | None = None,
    offline: bool = False,
    *,
    agent_factory: AgentFactory | None = None,
    block: bool = True,
):
    """Build and serve the app (``vidagent app`` / ``python app.py``); blocks until stopped unless
    ``block=False``, which returns ``(demo, local_url)``."""
    gradio_tmp = None
    if not os.environ.get("GRADIO_TEMP_DIR"):
        # Gradio's own upload/cache files go to a folder of ours, removed when the app stops
        gradio_tmp = tempfile.mkdtemp(prefix="vidagent-gradio-")
        os.environ["GRADIO_TEMP_DIR"] = gradio_tmp
        atexit.register(shutil.rmtree, gradio_tmp, True)
    demo = build_app(agent_factory, profile=profile, device=device, offline=offline)
    url = None
    try:
        _, url = serve(demo, host, port, share, block)
    except KeyboardInterrupt:  # Ctrl-C is how a served app stops: not an error
        pass
    finally:
        if block:
            demo.close()
            demo.vidagent_sessions.close_all()
            if gradio_tmp is not None:
                shutil.rmtree(gradio_tmp, ignore_errors=True)
                os.environ.pop("GRADIO_TEMP_DIR", None)
    return demo, url
