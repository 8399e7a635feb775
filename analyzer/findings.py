"""`Finding`: a diagnosis with its evidence, made by the correlate stage's transaction
checks and by the classify stage's rules."""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True, slots=True)
class Finding:
    """A diagnosis drawn from the evidence in the capture."""

    id: str
    """Stable identifier, e.g. `outbound.first-hop-lacks-support`."""
    severity: str
    """`info`, `warning` or `error`."""
    title: str
    """One line."""
    detail: str
    """What happened, written from the evidence."""
    fix: str
    """What to change."""
    frames: tuple[int, ...]
    """Frames that prove it."""
    status: int | None = None
    """The response status concerned, if any."""
    call_id: str | None = None
    """The call concerned, if any."""
    rfc: str | None = None
    """RFC section behind the rule."""

    @property
    def display_filter(self) -> str:
        """A Wireshark display filter showing the evidence frames."""
        # Wireshark 4 requires commas between set members (3.6+ accepts them).
        frames = ", ".join(str(f) for f in sorted(set(self.frames)))
        return f"frame.number in {{{frames}}}" if frames else ""
