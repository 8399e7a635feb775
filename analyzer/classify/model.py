"""Records of the classify stage."""

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
        frames = " ".join(str(f) for f in sorted(set(self.frames)))
        return f"frame.number in {{{frames}}}" if frames else ""


@dataclass(frozen=True, slots=True)
class ReasonNote:
    """A Reason header (RFC 3326) read with the catalogue: SIP causes from the response
    catalogue, Q.850 causes from the Q.850 table."""

    protocol: str
    """`SIP`, `Q.850` or another protocol token, as written."""
    cause: int | None
    """The cause parameter."""
    text: str | None
    """The text parameter, as written (untrusted)."""
    name: str | None
    """Registered name of the cause (SIP reason phrase or Q.850 cause name); None if unknown."""
    meaning: str | None
    """What the cause means, in the analysis language; None if unknown."""
    sip_status: int | None
    """For Q.850: the SIP status RFC 3398 §7.2.4.1 maps it to."""


@dataclass(frozen=True, slots=True)
class WarningNote:
    """A Warning header value (RFC 3261 §20.43) read with the warn-code table."""

    code: int | None
    """warn-code, None when unreadable."""
    agent: str
    """warn-agent, as written (untrusted)."""
    text: str
    """warn-text, as written (untrusted)."""
    registered_text: str | None
    """The registered warn-text of the code; None if not registered."""
    meaning: str | None
    """What the code means, in the analysis language; None if not registered."""
