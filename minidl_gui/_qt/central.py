"""The window's centre: the run buttons and the big epoch, a lesson's caption, the banner, and
the plots (the decision boundary beside the loss and accuracy curves).

No plot is laid out with a data area below `LEAST_DATA_HEIGHT` (see `plot_style.keep_data_area`):
where the loss and accuracy curves would have less, one above the other, they are shown one
at a time behind two tabs (a short screen, a view open below), and the tabs say so."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStyle,
    QTabBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from minidl_gui._qt.widgets.banner import Banner
from minidl_gui._qt.widgets.boundary_plot import BoundaryPlot
from minidl_gui._qt.widgets.metric_plot import MetricPlot
from minidl_gui._qt.widgets.plot_style import keep_data_area, least_height
from minidl_gui.components.look import Look

LEAST_PLOT_WIDTH = 200  # titles and axes stay readable; the window still fits 1024x768 (the height: plot_style)
CURVES = ("loss", "accuracy")


def _control_button(name: str, text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays the Play shortcut
    return button


class CurvesPanel(QWidget):
    """The loss curves above the accuracy curves, or, where the two would leave either a data area
    below `LEAST_DATA_HEIGHT`, one of them at a time behind tabs ("Loss", "Accuracy"). Its least
    height is that of one plot and the tabs, so the window fits a small screen with a view open."""

    def __init__(self, loss: MetricPlot, accuracy: MetricPlot, log_y: QCheckBox) -> None:
        super().__init__()
        self.setObjectName("curvesPanel")
        self.curves, self.log_y = {"loss": loss, "accuracy": accuracy}, log_y
        self.tabs = QTabBar()
        self.tabs.setObjectName("curvesTabs")
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays the Play shortcut
        self.tabs.setDrawBase(False)
        for name in CURVES:
            self.tabs.addTab(self.curves[name].title)
        self.tabs.setToolTip("The window is too short for both curves: one at a time")
        self.tabs.currentChanged.connect(self._arrange)
        self.wanted = dict.fromkeys(CURVES, True)  # as the View menu asks, whatever room there is
        self.one_at_a_time = False
        header = QHBoxLayout()  # the tabs where one is shown at a time, and the loss's log check box
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.tabs)
        header.addStretch(1)
        header.addWidget(log_y)
        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        for plot in self.curves.values():
            keep_data_area(plot)
            layout.addWidget(plot, 1)
            plot.getPlotItem().vb.sigResized.connect(self._arrange)  # its axes grew: more room needed

    def show_curve(self, name: str, visible: bool) -> None:
        self.wanted[name] = visible
        self._arrange()

    def minimumSizeHint(self) -> QSize:
        """One plot's least height and the header's: never two plots' (they take turns instead)."""
        hint = super().minimumSizeHint()
        header = max(self.tabs.sizeHint().height(), self.log_y.sizeHint().height())
        plot = max(least_height(plot) for plot in self.curves.values())
        return QSize(hint.width(), header + self._layout.spacing() + plot)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self, *_) -> None:
        """Both curves where both have room, else the tab's one; the tabs only then."""
        wanted = [name for name in CURVES if self.wanted[name]]
        spacing = self._layout.spacing()
        header = self.log_y.sizeHint().height() + spacing if self.wanted["loss"] else 0
        both = header + sum(least_height(plot) + spacing for plot in self.curves.values())
        self.one_at_a_time = len(wanted) == 2 and self.height() < both
        self.tabs.setVisible(self.one_at_a_time)
        front = CURVES[self.tabs.currentIndex()]
        for name, plot in self.curves.items():
            plot.setVisible(name in wanted and (not self.one_at_a_time or name == front))
        self.log_y.setVisible(not self.curves["loss"].isHidden())


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
            plot.setMinimumWidth(LEAST_PLOT_WIDTH)
        keep_data_area(self.boundary_plot)

        right = self.curves_panel = CurvesPanel(self.loss_plot, self.accuracy_plot, self.log_y)
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
        if name == "boundary":
            self.boundary_plot.setVisible(visible)
            return
        self.curves_panel.show_curve(name, visible)
        self.curves_panel.setVisible(any(self.curves_panel.wanted.values()))

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
