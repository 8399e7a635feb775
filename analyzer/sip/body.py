"""Message bodies: multipart splitting (RFC 2046 §5.1, RFC 5621) and part lookup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .errors import BodyError
from .headers import MediaType, parse_media_type

MAX_DEPTH = 4
"""Nested multiparts followed this deep; deeper parts are kept whole."""


@dataclass(frozen=True, slots=True)
class BodyPart:
    """One body part: its MIME headers and content."""

    content_type: MediaType | None
    headers: Mapping[str, str]
    """Part headers, names lower-cased (`content-type`, `content-id`, ...)."""
    body: bytes


def split_multipart(body: bytes, boundary: str) -> tuple[BodyPart, ...]:
    """Split a multipart body at `--boundary` lines (RFC 2046 §5.1.1).

    Raises `BodyError` when the boundary never occurs. A missing close
    delimiter (`--boundary--`) is tolerated: the last part runs to the end.
    """
    if not boundary:
        raise BodyError("missing_boundary", "multipart Content-Type without a boundary")
    delim = b"--" + boundary.encode("utf-8", "replace")
    # The delimiter is CRLF "--" boundary; the first may start the body.
    starts: list[int] = []
    pos = 0
    while (i := body.find(delim, pos)) >= 0:
        if i == 0 or body[i - 1 : i] == b"\n":
            starts.append(i)
        pos = i + len(delim)
    if not starts:
        raise BodyError("boundary_not_found", f"boundary {boundary[:40]!r} not in body")
    parts: list[BodyPart] = []
    for n, start in enumerate(starts):
        after = start + len(delim)
        if body[after : after + 2] == b"--":
            break  # close delimiter
        line_end = body.find(b"\n", after)
        if line_end < 0:
            break
        end = starts[n + 1] if n + 1 < len(starts) else len(body)
        chunk = body[line_end + 1 : end]
        # The CRLF before the next delimiter belongs to the delimiter.
        if n + 1 < len(starts):
            chunk = chunk[:-2] if chunk.endswith(b"\r\n") else chunk.removesuffix(b"\n")
        parts.append(_part(chunk))
    return tuple(parts)


def _part(chunk: bytes) -> BodyPart:
    sep = chunk.find(b"\r\n\r\n")
    skip = 4
    if sep < 0:
        sep, skip = chunk.find(b"\n\n"), 2
    if chunk.startswith((b"\r\n", b"\n")):
        # No part headers: RFC 2046 §5.1.1 defaults to text/plain.
        sep, skip = 0, 2 if chunk.startswith(b"\r\n") else 1
    elif sep < 0:
        return BodyPart(None, MappingProxyType({}), chunk)
    headers: dict[str, str] = {}
    last = ""
    for line in chunk[:sep].decode("utf-8", "replace").splitlines():
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if colon:
            last = name.strip().lower()
            headers[last] = value.strip()
    ctype = headers.get("content-type")
    return BodyPart(
        parse_media_type(ctype) if ctype else None,
        MappingProxyType(headers),
        chunk[sep + skip :],
    )


def body_parts(content_type: MediaType | None, body: bytes, depth: int = 0) -> tuple[BodyPart, ...]:
    """The leaf parts of a body: itself, or its multipart parts flattened."""
    if content_type is None or content_type.type != "multipart" or depth >= MAX_DEPTH:
        return (BodyPart(content_type, MappingProxyType({}), body),)
    out: list[BodyPart] = []
    for part in split_multipart(body, content_type.params.get("boundary", "")):
        out.extend(body_parts(part.content_type, part.body, depth + 1))
    return tuple(out)


__all__ = ["BodyPart", "body_parts", "split_multipart"]
