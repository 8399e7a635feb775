"""Records of the classify stage."""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import SEVERITIES, Finding

__all__ = ["SEVERITIES", "Finding", "ReasonNote", "WarningNote"]


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
