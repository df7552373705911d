"""Test support shipped with the package: synthetic scenes with exact ground truth
(``scenes``), questions about them (``questions``), simulated models (``doubles``) and tracks
built for referring by time and motion, with expressions and questions (``motion``)."""
