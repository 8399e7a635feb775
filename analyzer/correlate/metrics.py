"""RFC 6076 end-to-end performance metrics over the calls and registrations.

Units of counting, decided where the RFC is silent (docs/metrics.md says why):
- A session request is a call (Call-ID) whose caller's initial INVITE is in the
  capture; its retries after a challenge or a followed redirect are the same
  request (§5.3 puts authentication inside the attempt), and its result is the
  final response to the last retry. In-dialog re-INVITEs are not session requests.
- A registration attempt is an initial REGISTER with its challenge retries.
- Delays are capture timestamps at the capture point, first copy of each message.
- A ratio with a zero denominator, and a delay with no sample, is None.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import Call, Interval, Registration

# §4.7: responses that show the far user's own choice or state.
SEER_STATUSES = frozenset({480, 486, 600, 603})
# §4.8: the failure responses that "provide a guideline" for ineffective attempts; a Timer B
# expiry seen in the capture counts as the 408 it reports to the caller (RFC 3261 §17.1.1.2).
ISA_STATUSES = frozenset({408, 500, 503, 504})


@dataclass(frozen=True, slots=True)
class Ratio:
    """A ratio metric: numerator over denominator, as a percentage."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """Percentage, None when the denominator is 0."""
        return 100.0 * self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True, slots=True)
class Delay:
    """A delay metric over its samples (seconds)."""

    samples: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.samples)

    @property
    def mean(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile (p in 0-100)."""
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        rank = max(1, -(-len(ordered) * p // 100))  # ceil
        return ordered[int(rank) - 1]

    @property
    def minimum(self) -> float | None:
        return min(self.samples) if self.samples else None

    @property
    def maximum(self) -> float | None:
        return max(self.samples) if self.samples else None


def _delay(intervals: Iterable[Interval | None]) -> Delay:
    return Delay(tuple(i.seconds for i in intervals if i is not None))


@dataclass(frozen=True, slots=True)
class Metrics:
    """The nine RFC 6076 metrics, plus setup and ring time."""

    session_requests: int
    """Calls whose caller's initial INVITE is in the capture (the SER/SEER/ISA/SCR unit)."""
    rrd: Delay
    """§4.1 Registration Request Delay, successful attempts."""
    ira: Ratio
    """§4.2 Ineffective Registration Attempts: failed attempts / attempts."""
    srd: Delay
    """§4.3.1 Session Request Delay, successful setups."""
    srd_failed: Delay
    """§4.3.2 Session Request Delay, failed setups (never mixed with the above)."""
    sdd: Delay
    """§4.4 Session Disconnect Delay, BYEs answered with 2xx."""
    sdd_failed: int
    """§4.4 BYEs that got no response within Timer F."""
    sdt: Delay
    """§4.5 Session Duration Time, 2xx to BYE."""
    ser: Ratio
    """§4.6 Session Establishment Ratio: answered / (requests - redirected)."""
    seer: Ratio
    """§4.7 Session Establishment Effectiveness Ratio: 2xx, 480, 486, 600, 603 /
    (requests - redirected)."""
    isa: Ratio
    """§4.8 Ineffective Session Attempts: 408, 500, 503, 504 or Timer B / requests."""
    scr: Ratio
    """§4.9 Session Completion Ratio: established and ended by an answered BYE / requests."""
    setup: Delay
    """Setup time: first INVITE to 2xx."""
    ring: Delay
    """Ring time: first 18x to the final response."""


def session_requests(calls: Iterable[Call]) -> list[Call]:
    """The calls that count as session requests."""
    return [c for c in calls if c.method == "INVITE" and c.attempts > 0]


def is_established(call: Call) -> bool:
    """A 2xx answered the last attempt (§4.6 numerator)."""
    return call.final_status is not None and 200 <= call.final_status < 300


def is_effective(call: Call) -> bool:
    """§4.7 numerator: 2xx, or a response that shows the called user's choice."""
    return is_established(call) or call.final_status in SEER_STATUSES


def is_ineffective(call: Call) -> bool:
    """§4.8 numerator: a failure of the network, not the user (Timer B counts as 408)."""
    return call.final_status in ISA_STATUSES or call.outcome == "no_response"


def compute(calls: Sequence[Call], registrations: Sequence[Registration]) -> Metrics:
    """Every metric, from the calls and registrations of an analysis."""
    sessions = session_requests(calls)
    total = len(sessions)
    # §4.6/§4.7 remove INVITEs answered with 3xx from the denominator; a redirect followed
    # in the capture is a later attempt of the same request, so only unfollowed 3xx leave.
    not_redirected = total - sum(1 for c in sessions if c.outcome == "redirected")
    return Metrics(
        session_requests=total,
        rrd=_delay(i for r in registrations for i in r.rrd),
        ira=Ratio(
            sum(r.failed_attempts for r in registrations), sum(r.attempts for r in registrations)
        ),
        srd=_delay(c.srd for c in sessions if not c.srd_failed),
        srd_failed=_delay(c.srd for c in sessions if c.srd_failed),
        sdd=_delay(c.sdd for c in sessions if not c.sdd_failed),
        sdd_failed=sum(1 for c in sessions if c.sdd_failed),
        sdt=_delay(c.sdt for c in sessions),
        ser=Ratio(sum(1 for c in sessions if is_established(c)), not_redirected),
        seer=Ratio(sum(1 for c in sessions if is_effective(c)), not_redirected),
        isa=Ratio(sum(1 for c in sessions if is_ineffective(c)), total),
        scr=Ratio(sum(1 for c in sessions if c.completed), total),
        setup=_delay(c.setup for c in sessions),
        ring=_delay(c.ring for c in sessions),
    )
