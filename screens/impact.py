"""The impact of a save in its confirmation (issue 19, point 2): "3 users gain, 1 loses".

``ImpactConfirmScreen`` is the yes/no question of ``ConfirmScreen`` (Cancel focused, Esc
cancels) with one more line: while the question is read, a worker asks the store for the
change's impact (``session.impact.preview``: the change made, measured and rolled back) and
the line then says how many users gain and lose, or that the change affects nobody. Enter on
that line, or ``i`` anywhere in the dialog, lists the users and what each gains and loses. A
change the store would refuse says so on the line: the refusal is the preview's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from screens.confirm import ConfirmScreen
from screens.errors import record, short_message
from screens.insight_detail import InsightDetailScreen
from screens.text import literal, printable
from store import StoreError
from store.impact import Impact, Touches

if TYPE_CHECKING:
    from screens.base import ConsoleScreen

T = TypeVar("T")

LISTED = 300
"""Users the list shows at most; the rest are counted (``--dry-run --json`` lists them all)."""


class ImpactConfirmScreen(ConfirmScreen):
    """A confirmation that also says who gains and who loses what if the change is made."""

    CSS_PATH = ["confirm.tcss", "impact.tcss"]
    BINDINGS = [Binding("i", "show_impact", "Who is affected")]

    def __init__(
        self, question: str, action_label: str, preview: Callable[[], Impact] | Impact
    ) -> None:
        """``preview`` is worked out in a worker; an ``Impact`` (a form that previewed its
        save to show a refusal in place) is shown as it is."""
        super().__init__(question, action_label)
        self.preview = preview
        self.impact: Impact | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(literal(self.question, lines=True), id="confirm-question")
            yield Button("Impact: working it out…", id="confirm-impact", disabled=True)
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(literal(self.action_label), id="confirm-action", variant="error")

    def on_mount(self) -> None:
        super().on_mount()
        if isinstance(self.preview, Impact):
            self._known(self.preview)
        else:
            self.run_worker(self._work_out, thread=True, group="impact", exclusive=True)

    def _work_out(self) -> None:
        assert not isinstance(self.preview, Impact)
        try:
            impact = self.preview()
        except StoreError as error:
            self.app.call_from_thread(self._not_known, str(error))
            return
        except Exception as error:  # a bug: logged; the line says so without its text
            self.app.call_from_thread(
                self._not_known, short_message(error, record(error, "impact preview"))
            )
            return
        self.app.call_from_thread(self._known, impact)

    def _known(self, impact: Impact) -> None:
        self.impact = impact
        if not self.is_attached:  # answered before the preview was done
            return
        line = self.query_one("#confirm-impact", Button)
        if impact.affects_nobody:  # "affects nobody", and what was not told, if anything
            line.label = literal(f"Impact: {impact.summary()}")
            return
        line.label = literal(f"Impact: {impact.summary()} · i lists them")
        line.disabled = False

    def _not_known(self, message: str) -> None:
        if not self.is_attached:
            return
        self.query_one("#confirm-impact", Button).label = literal(f"Impact not known: {message}")

    @on(Button.Pressed, "#confirm-impact")
    def action_show_impact(self) -> None:
        if self.impact is not None and not self.impact.affects_nobody:
            self.app.push_screen(
                InsightDetailScreen(f"Impact: {self.impact.summary()}", impact_text(self.impact))
            )


def ask_with_impact(
    screen: ConsoleScreen,
    question: str,
    action_label: str,
    touches: Touches,
    change: Callable[[], T],
    done: Callable[[T], None],
    failed: Callable[[str], None],
    cancelled: Callable[[], None] | None = None,
    previewed_change: Callable[[], object] | None = None,
) -> None:
    """Preview ``change`` in a worker; a refusal goes to ``failed`` at once (nothing asked),
    an accepted change is asked with its impact and made (``done``) only on a yes.

    ``previewed_change`` is the change for the preview when ``change`` reports a refusal in
    its result instead of raising it (the preview needs the ``StoreError``).

    The preview is the change itself, made and rolled back by the same services, so the form
    learns of a refusal exactly as a save would tell it, before anyone is asked anything.
    """
    session = screen.session

    def answered(yes: bool | None) -> None:
        if yes:
            screen.call_store(change, done, failed=failed, group="write", exclusive=False)
        elif cancelled is not None:
            cancelled()

    def previewed(impact: Impact) -> None:
        screen.app.push_screen(ImpactConfirmScreen(question, action_label, impact), answered)

    screen.call_store(
        lambda: session.impact.preview(touches, previewed_change or change),
        previewed,
        failed=failed,
        group="write",
        exclusive=False,
    )


def impact_text(impact: Impact, limit: int = LISTED) -> Text:
    """Each user (name and id) and what they gain and lose, departments by name."""
    text = Text()
    names = impact.department_names

    def departments(gained: tuple[int, ...], lost: tuple[int, ...]) -> str:
        return ", ".join(
            [
                *(f"+{names.get(d, '?')} (#{d})" for d in gained),
                *(f"-{names.get(d, '?')} (#{d})" for d in lost),
            ]
        )

    for entry in impact.entries[:limit]:
        text.append(f"{printable(entry.username)} (#{entry.user_id})\n", style="bold")
        for label, value, style in (
            ("gains", ", ".join(entry.gains), "green"),
            ("loses", ", ".join(entry.loses), "red"),
            ("reads", departments(entry.reads_gained, entry.reads_lost), ""),
            ("writes", departments(entry.writes_gained, entry.writes_lost), ""),
            ("limitation changes", ", ".join(entry.limitations_changed), "yellow"),
        ):
            if value:
                text.append(f"  {label} ", style=style)
                text.append(f"{printable(value)}\n")
    more = len(impact.entries) - limit
    if more > 0:
        text.append(f"… and {more:,} more users (lhc-console … --dry-run --json lists all)\n")
    if impact.hidden:
        text.append(f"{impact.hidden:,} affected users you do not see are not listed\n")
    text.rstrip()
    return text
