"""Tracking with stable ids: detection-driven tracker, optical-flow fill, propagation engines."""

from __future__ import annotations

from vidagent.tracking.config import TrackerConfig
from vidagent.tracking.tracker import Tracker

__all__ = ["Tracker", "TrackerConfig"]
