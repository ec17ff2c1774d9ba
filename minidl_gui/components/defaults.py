"""The app's set-up at launch (and after *Restore defaults*), Qt-free."""

from __future__ import annotations

from minidl.configs import REPORT

LAUNCH_SPEC = REPORT.replace(init="default")
"""The report's experiment (disk data, 2-25-25-25-2 Tanh, MSE, SGD lr 0.01), from PyTorch's
default initial weights, with which the disk shows within the first ~25 epochs."""
