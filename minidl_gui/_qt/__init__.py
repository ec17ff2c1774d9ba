"""The app's Qt side: the window that builds and wires, the views that draw snapshots, the
worker thread, the file menu, the recorder, settings, theme and the widgets (one per file)."""
