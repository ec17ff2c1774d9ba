"""The window's centre: the run buttons and the big epoch, a lesson's caption, the banner, and
the plots (the decision boundary beside the loss and accuracy curves)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from minidl_gui._qt.widgets.banner import Banner
from minidl_gui._qt.widgets.boundary_plot import BoundaryPlot
from minidl_gui._qt.widgets.metric_plot import MetricPlot
from minidl_gui.components.look import Look

LEAST_PLOT_SIZE = (200, 110)  # titles and axes stay readable; the window still fits 1024x768


def _control_button(name: str, text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays the Play shortcut
    return button


class CentralArea(QWidget):
    """Buttons, caption, banner and plots; the window connects the buttons."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.play_button = _control_button("playButton", "Play", "Play / Pause training (Space)")
        self.show_playing(False)
        self.step_button = _control_button("stepButton", "Step epoch", "Train one epoch (Right arrow or S)")
        self.reset_button = _control_button("resetButton", "Reset", "Start again from the initial weights (R)")
        controls = QHBoxLayout()
        for button in self.buttons:
            controls.addWidget(button)
        controls.addStretch(1)
        self.epoch_big = QLabel("Epoch 0")
        self.epoch_big.setObjectName("epochBig")
        controls.addWidget(self.epoch_big)

        self.caption = QLabel()
        self.caption.setObjectName("lessonCaption")
        self.caption.setWordWrap(True)
        self.caption_close = QToolButton()
        self.caption_close.setText("✕")
        self.caption_close.setToolTip("Hide the lesson's caption")
        self.caption_close.setAutoRaise(True)
        self.caption_close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.caption_bar = QWidget()
        self.caption_bar.setObjectName("captionBar")
        caption_row = QHBoxLayout(self.caption_bar)
        caption_row.setContentsMargins(10, 4, 4, 4)
        caption_row.addWidget(self.caption, 1)
        caption_row.addWidget(self.caption_close, 0, Qt.AlignmentFlag.AlignTop)
        self.caption_bar.hide()

        self.banner = Banner()
        self.mistake_banner = Banner(name="mistakeBanner", colours="notice")  # a backprop mistake is in
        self.boundary_plot = BoundaryPlot()
        self.loss_plot = MetricPlot("lossPlot", "Loss", "per sample")
        self.accuracy_plot = MetricPlot("accuracyPlot", "Accuracy", "%", percent=True)
        self.log_y = QCheckBox("Log-scale loss")
        self.log_y.setObjectName("logLossCheck")
        self.log_y.toggled.connect(self.loss_plot.set_log_y)
        self.log_y.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.plots = {"boundary": self.boundary_plot, "loss": self.loss_plot, "accuracy": self.accuracy_plot}
        for plot in self.plots.values():
            plot.setMinimumSize(*LEAST_PLOT_SIZE)

        right = self.curves_panel = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.loss_plot, 1)
        right_layout.addWidget(self.log_y)
        right_layout.addWidget(self.accuracy_plot, 1)
        splitter = self.plots_splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.boundary_plot)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addLayout(controls)
        layout.addWidget(self.caption_bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.mistake_banner)
        layout.addWidget(splitter, 1)

    @property
    def buttons(self) -> tuple[QPushButton, ...]:
        return self.play_button, self.step_button, self.reset_button

    def show_playing(self, playing: bool) -> None:
        if self.play_button.text() == ("Pause" if playing else "Play"):
            return  # an icon set again repaints the button: not at every frame
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")

    def show_caption(self, text: str | None) -> None:
        """A lesson's one-line caption over the plots (None hides it)."""
        self.caption.setText(text or "")
        self.caption_bar.setVisible(text is not None)

    def show_plot(self, name: str, visible: bool) -> None:
        """Show or hide one of the plots ("boundary", "loss", "accuracy"); the log check box goes with the loss."""
        self.plots[name].setVisible(visible)
        loss, accuracy = (not self.plots[n].isHidden() for n in ("loss", "accuracy"))
        self.log_y.setVisible(loss)
        self.curves_panel.setVisible(loss or accuracy)

    def recorded(self) -> list[QWidget]:
        """What a recording grabs: the decision boundary, and the curves where shown."""
        return [self.boundary_plot] + ([self.curves_panel] if not self.curves_panel.isHidden() else [])

    def apply_look(self, look: Look) -> None:
        for plot in self.plots.values():
            plot.apply_look(look)
        for button in self.buttons:
            button.setStyleSheet(f"font-size: {look.pt(14)}pt; font-weight: 600; padding: 4px 10px;")
            button.setMinimumHeight(round(40 * look.zoom))
        self.epoch_big.setStyleSheet(f"font-size: {look.pt(22)}pt; font-weight: 700;")
        background = "#3a3320" if look.theme == "dark" else "#fff4d6"
        self.caption_bar.setStyleSheet(
            f"#captionBar {{ background: {background}; border-left: 5px solid #d08f00; }}"
            f"#lessonCaption {{ font-size: {look.pt(13)}pt; font-weight: 600; color: {look.text}; }}"
        )
