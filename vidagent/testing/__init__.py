"""Test support shipped with the package: synthetic scenes with exact ground truth
(``scenes``), questions about them (``questions``) and simulated models (``doubles``)."""
