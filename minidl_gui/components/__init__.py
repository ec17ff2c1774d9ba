"""The app's models, free of Qt (importable without PySide6 or pyqtgraph, tested headless): the
session that owns training, the snapshots it publishes, painted points, set-ups and their undo,
lessons, the look, limits and the set-up as text. The Qt views in `minidl_gui._qt` draw them."""
