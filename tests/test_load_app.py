"""The web app under load: 4 concurrent ``gradio_client`` sessions against a server on loopback
(``vidagent.testing.app_load``; ``scripts/load_test.py`` prints it): isolation, one run at a time,
every request served, memory back near its baseline, session folders and the app's folder
removed."""

from __future__ import annotations

import pytest

pytest.importorskip("gradio")
pytest.importorskip("gradio_client")

from vidagent.testing import app_load  # noqa: E402

pytestmark = [pytest.mark.hostile, pytest.mark.app]

RSS_GROWTH_MB = 150  # server RSS after the sessions end, above its warmed-up baseline


@pytest.mark.slow
def test_four_concurrent_sessions(tmp_path):
    r = app_load.run_load(sessions=4, requests=3, workdir=tmp_path, idle_s=3.0, timeout=400)
    assert (
        r["errors"] == [] and r["wrong_answers"] == []
    )  # isolation: each session got its own clip
    assert r["served"] == r["expected"] == 12
    assert r["server_runs"] == 12 and r["overlapping_runs"] == 0  # queued, one run at a time
    assert r["sessions_during_load"] >= 1
    assert r["session_dirs_left"] == 0  # idle sessions closed, their folders removed
    assert r["rss_growth_mb"] < RSS_GROWTH_MB, r
    assert r["server_exit"] == 0 and not r["app_root_left"]
    assert r["uploads_left_after_stop"] == []  # Gradio's copies of the uploads are gone
    print("\n" + "\n".join(f"{k}: {v}" for k, v in r.items()))
