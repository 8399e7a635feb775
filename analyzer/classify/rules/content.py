"""415 Unsupported Media Type: the request's Content-Type / Content-Encoding /
Content-Language against the response's Accept, Accept-Encoding and Accept-Language."""

from __future__ import annotations

from collections.abc import Iterator

from ...sip.message import split_comma_values
from ..context import Context
from ..model import Finding
from ..rule import Rule


def _values(raw: list[str]) -> list[str]:
    return [v.split(";", 1)[0].strip().lower() for r in raw for v in split_comma_values(r)]


def _unsupported_media(ctx: Context) -> Iterator[Finding]:
    for resp in ctx.origin_responses(415):
        req = ctx.request_of(resp)
        rsip = resp.sip
        accept = [m.mime for m in rsip.accept]
        encodings = _values(rsip.get_all("accept-encoding"))
        languages = _values(rsip.get_all("accept-language"))
        frames = (req.frame, resp.frame) if req is not None else (resp.frame,)
        facts, fixes = [], []
        if req is not None:
            sip = req.sip
            ctype = sip.content_type.mime if sip.content_type else None
            encoding = _values(sip.get_all("content-encoding"))
            language = _values(sip.get_all("content-language"))
            facts.append(f"the {req.method} carried `Content-Type: {ctype or 'none'}`")
            if accept and ctype and ctype not in accept and "*/*" not in accept:
                fixes.append(f"send the body as {' or '.join(accept)}")
            if encoding:
                facts.append(f"`Content-Encoding: {', '.join(encoding)}`")
                if encodings and not set(encoding) <= set(encodings) | {"identity"}:
                    fixes.append("send the body without that encoding (identity)")
            if language:
                facts.append(f"`Content-Language: {', '.join(language)}`")
                if languages and not set(language) & set(languages):
                    fixes.append(f"use a language among {', '.join(languages)}")
        accepts = (
            ([f"`Accept: {', '.join(accept)}`"] if accept else [])
            + ([f"`Accept-Encoding: {', '.join(encodings)}`"] if encodings else [])
            + ([f"`Accept-Language: {', '.join(languages)}`"] if languages else [])
        )
        if not accepts:
            facts.append(
                "the 415 lists no Accept, Accept-Encoding or Accept-Language, which RFC 3261 "
                "§21.4.13 requires"
            )
        else:
            facts.append(f"{resp.src} accepts {'; '.join(accepts)}")
        fix = (
            f"Make the client {' and '.join(fixes)}, or enable that body type on {resp.src}."
            if fixes
            else f"Enable the body type on {resp.src}, or send a type it lists in Accept."
        )
        yield Finding(
            "content.unsupported-media-type",
            "error",
            f"415: {resp.src} cannot handle the body"
            + (f" ({', '.join(accept)} accepted)" if accept else ""),
            f"{resp.src} answered with {resp.label} (frame {resp.frame}): "
            + "; ".join(facts)
            + ".",
            fix,
            frames,
            415,
            resp.call_id,
            "RFC 3261 §21.4.13, §20.1, §20.2",
        )


RULES = (
    Rule(
        "content.unsupported-media-type",
        "RFC 3261 §21.4.13",
        "415: the request body's type, encoding and language against Accept, "
        "Accept-Encoding and Accept-Language.",
        _unsupported_media,
    ),
)
