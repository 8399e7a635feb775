"""3xx redirections: the Contacts offered and whether anyone tried them (the caller or a
recursing proxy), in the same Call-ID or a new one."""

from __future__ import annotations

from collections.abc import Iterator

from ...correlate import Message
from ...sip import Uri
from ..context import Context
from ..model import Finding
from ..rule import Rule


def _target(uri: Uri | None) -> tuple[str | None, str, int | None] | None:
    """What identifies a redirect target: user, host and port (parameters ignored)."""
    if uri is None or not uri.host:
        return None
    return (uri.user, uri.host.lower(), uri.port)


_Target = tuple[str | None, str, int | None]


def _requests_by_target(ctx: Context) -> dict[_Target, list[Message]]:
    """Out-of-dialog requests (not ACK/CANCEL) per Request-URI target, in capture order."""
    index: dict[_Target, list[Message]] = {}
    for i in ctx.messages.requests():
        m = ctx.messages[i]
        if m.method in ("ACK", "CANCEL") or m.to_tag or ctx.is_retransmission(m):
            continue
        key = _target(m.sip.request_uri)
        if key is not None:
            index.setdefault(key, []).append(m)
    return index


def _followed(
    by_target: dict[_Target, list[Message]], resp: Message, targets: set[_Target]
) -> Message | None:
    """The first later request to one of the Contacts, by the caller or in the same Call-ID."""
    found = [
        m
        for t in targets
        for m in by_target.get(t, ())
        if m.index > resp.index and (m.call_id == resp.call_id or m.src == resp.dst)
    ]
    return min(found, key=lambda m: m.index, default=None)


def _redirects(ctx: Context) -> Iterator[Finding]:
    by_target: dict[_Target, list[Message]] | None = None
    for resp in ctx.origin_responses(*range(300, 400)):
        if by_target is None:
            by_target = _requests_by_target(ctx)
        req = ctx.request_of(resp)
        contacts = resp.sip.contacts
        uris = [c.uri_text for c in contacts]
        targets = {t for c in contacts if (t := _target(c.uri)) is not None}
        follow = _followed(by_target, resp, targets) if targets else None
        method = req.method if req is not None else (resp.cseq.method if resp.cseq else "?")
        frames = [req.frame] if req is not None else []
        frames.append(resp.frame)
        offered = ", ".join(uris[:5]) or "no Contact"
        if follow is not None:
            frames.append(follow.frame)
            final = ctx.origin_final(follow)
            if final is not None:
                frames.append(final.frame)
            by = "the caller" if follow.call_id == resp.call_id else f"{follow.src} (new Call-ID)"
            yield Finding(
                "redirect.followed",
                "info",
                f"{resp.label} from {resp.src} followed to {follow.uri}",
                f"{resp.src} redirected the {method} with {resp.label} (frame {resp.frame}) to "
                f"{offered}; {by} sent the {follow.method} to {follow.uri} (frame "
                f"{follow.frame})" + (f", answered {final.label}." if final is not None else "."),
                "Nothing to fix.",
                tuple(frames),
                resp.status,
                resp.call_id,
                "RFC 3261 §8.1.3.4, §21.3",
            )
            continue
        reason = (
            "the 3xx carried no Contact to try (RFC 3261 §21.3 expects one)"
            if not contacts
            else "no request to any of them follows in the capture"
        )
        yield Finding(
            "redirect.not-followed",
            "warning",
            f"{resp.label} from {resp.src} not followed",
            f"{resp.src} redirected the {method} with {resp.label} (frame {resp.frame}) to "
            f"{offered}, but {reason}: the call ended at the redirect.",
            "Enable redirect handling on the caller (UA: follow 3xx; proxy: recurse on 3xx, "
            "e.g. kamailio `uac_redirect` `get_redirects()` in a failure_route), or make the "
            "redirecting server proxy the request instead."
            if contacts
            else f"Make {resp.src} list the new target in Contact.",
            tuple(frames),
            resp.status,
            resp.call_id,
            "RFC 3261 §8.1.3.4, §16.7, §21.3",
        )


RULES = (
    Rule(
        "redirect.*",
        "RFC 3261 §8.1.3.4, §21.3",
        "3xx: the Contacts offered and whether a later request tried one "
        "(`redirect.followed`, info) or none did (`redirect.not-followed`).",
        _redirects,
    ),
)
