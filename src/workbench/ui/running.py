"""How the panel runs an action: one at a time, in a background thread, with its elapsed time
(and runs done, for a profile) in the status line while it runs, a readable message when it
fails, and what Stop said when it was stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from workbench import formatting as fmt
from workbench.errors import WorkbenchError
from workbench.safe_html import escape
from workbench.ui import render

if TYPE_CHECKING:
    from workbench.ui.layout import Controls

__all__ = ["Runner"]

_TICK_S = 0.5


class Runner:
    """Runs the panel's actions and keeps its status line."""

    def __init__(
        self,
        controls: Controls,
        *,
        background: bool,
        busy: Callable[[bool, bool], None],
        finished: Callable[[], None],
    ) -> None:
        self.controls = controls
        self.background = background
        self.stopping = threading.Event()
        self._busy, self._finished = busy, finished
        self._thread: threading.Thread | None = None
        self._progress: tuple[int, int | None] | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(
        self,
        name: str,
        line: str,
        work: Callable[[], None],
        *,
        stoppable: bool = False,
        done_says: bool = True,
        failed: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.stopping.clear()
        self._progress = None
        self._busy(True, stoppable)
        started = time.perf_counter()
        self.say(f"Running {escape(name)}…", line)
        ticking = threading.Event()

        def tick() -> None:
            while not ticking.wait(_TICK_S):
                self.say(self._running_text(name, started), None)

        def guarded() -> None:
            if self.background:
                threading.Thread(target=tick, daemon=True).start()
            try:
                work()
            except WorkbenchError as exc:
                failed(exc.message)
                self.error(str(exc))
            except KeyboardInterrupt as stopped:
                reason = str(stopped) or "the statement was cancelled on the server"
                self.say(f"Stopped: {escape(reason)}; the panel is ready.", line)
            except Exception as exc:  # a bug must not kill the panel: say it, keep going
                self.error(f"{type(exc).__name__}: {exc}")
            else:
                if done_says:
                    took = fmt.milliseconds((time.perf_counter() - started) * 1000)
                    self.say(f"{escape(name)} done in {took}.", line)
            finally:
                ticking.set()
                self._busy(False, False)
                self._finished()

        if self.background:
            self._thread = threading.Thread(target=guarded, name=f"workbench-{name}", daemon=True)
            self._thread.start()
        else:
            guarded()

    def on_progress(self, done: int, total: int | None) -> None:
        """A profile's progress (runs done of runs planned), shown by the next tick."""
        self._progress = (done, total)

    def _running_text(self, name: str, started: float) -> str:
        text = f"Running {escape(name)}… {time.perf_counter() - started:,.1f} s"
        if self._progress is not None:
            done, total = self._progress
            text += f", {done:,} of {total:,} runs" if total else f", {done:,} runs"
        return text

    def stop(self, cancel: Callable[[], object]) -> None:
        """Stop the running action (its statement is cancelled on the server by ``cancel``)."""
        if not self.running:
            return
        self.stopping.set()
        self.controls.stop_button.disabled = True
        threading.Thread(target=cancel, name="workbench-cancel", daemon=True).start()

    def wait(self, timeout: float) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def say(self, html: str, line: str | None) -> None:
        c = self.controls
        c.status.value = f"<span style='color:var(--jp-ui-font-color2,#57606a)'>{html}</span>"
        if line:
            c.python.value = render.python_line(line)

    def error(self, message: str) -> None:
        text = escape(message).replace("\n", "<br>")
        self.controls.status.value = (
            f"<span style='color:var(--jp-error-color1,#cf222e)'>⚠ {text}</span>"
        )
