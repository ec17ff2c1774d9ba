"""The side panel: the groups that edit the set-up (layers, training, run, data) and the paint tools.

Each group edits through `request(**changes)` and shows the spec back; after an edit only the
groups (and in them the controls) whose fields changed are shown again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

from minidl.spec import Spec
from minidl_gui._qt.widgets.data_settings import DataSettings
from minidl_gui._qt.widgets.layer_editor import LayerEditor
from minidl_gui._qt.widgets.paint_tools import PaintTools
from minidl_gui._qt.widgets.run_settings import RunSettings
from minidl_gui._qt.widgets.settings_group import Request
from minidl_gui._qt.widgets.training_settings import TrainingSettings


class SidePanel(QScrollArea):
    """The set-up's controls, scrolling vertically."""

    def __init__(
        self,
        spec: Spec,
        request: Request,
        on_pace: Callable[[float | None], None],
        on_stop: Callable[[bool, float | None], None],
        least_width: int,
    ) -> None:
        super().__init__()
        self.layer_editor = LayerEditor(spec.layers, request)
        self.training_settings = TrainingSettings(spec, request)
        self.run_settings = RunSettings(spec, request, on_pace, on_stop)
        self.data_settings = DataSettings(spec, request)
        self.paint_tools = PaintTools()
        panel = QWidget()
        layout = QVBoxLayout(panel)
        for group in (self.layer_editor, self.training_settings, self.run_settings, self.data_settings):
            layout.addWidget(group)
        layout.addWidget(self.paint_tools)
        layout.addStretch(1)
        self.setWidget(panel)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(least_width)

    def show_spec(self, spec: Spec, changed: Collection[str] | None = None) -> None:
        """Every control shows `spec` (or, given the names of the `changed` fields, those controls alone);
        nothing is emitted."""
        if changed is None or "layers" in changed:
            self.layer_editor.set_layers(spec.layers)
        if changed is None or self.training_settings.shows(changed):
            self.training_settings.set_spec(spec, changed)
        if changed is None or "epochs" in changed:
            self.run_settings.set_spec(spec)
        if changed is None or self.data_settings.shows(changed):
            self.data_settings.set_spec(spec)
