"""Redaction for reports attached to tickets: credentials out, identities pseudonymised.

Applied to every SIP message as it is read (before parsing), so nothing
downstream (the store, findings, ladders, every report) ever holds the
originals. Replacements are stable within a run: the same nonce, user or
address always gets the same stand-in, so the analysis (nonce re-use,
dialogs, hops) is unchanged.

* Credentials (`--redact`): the values of the digest parameters `response`,
  `nonce`, `cnonce`, `nextnonce`, `rspauth` and `auts`, Basic credentials,
  and passwords in URIs (`sip:alice:secret@host`). Stand-ins have the same
  length (`REDACTED3xxxx…`), so the same function can scrub packets in an
  exported pcap without touching lengths or TCP sequence numbers.
* Identities (`--redact-identities`, implies credentials): user parts of
  SIP/SIPS/tel URIs and digest `username`s (`user1`, numbers `+5550001`),
  display names (`Name 1`), SDP `o=` user names, and IP addresses, in
  packet headers and in SIP text (IPv4 → 192.0.2.0/24 and other
  documentation ranges, IPv6 → 2001:db8::/32). The unspecified addresses
  (0.0.0.0, ::) stay: in SDP they mean "on hold". Host names and domains
  stay: they say which system is involved, not who called whom.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import replace

from .ingest import SipPacket

_CRED = re.compile(
    rb'(?i)(?<![\w-])(response|nonce|cnonce|nextnonce|rspauth|auts)(\s*=\s*)(?:"([^"\r\n]*)"|([^\s,;"]+))'
)
_BASIC = re.compile(rb"(?i)(\bBasic\s+)([A-Za-z0-9+/=]{4,})")
_URI_PASSWORD = re.compile(rb'(?i)(?<![\w.+-])(sips?:[^:@\s;>"<,?]+:)([^@\s;>"<]+)(@)')

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:.])"
)
_SIP_USER = re.compile(r'(?i)(?<![\w.+-])(sips?:)([^@\s;>"<:,?]+)((?::[^@\s;>"<]*)?@)')
_TEL = re.compile(r"(?i)(?<![\w.+-])(tel:)(\+?[\d\-.()]*\d)")
_USERNAME = re.compile(r'(?i)(\busername\s*=\s*")([^"\r\n]*)(")')
_NAMED = re.compile(
    r"(?im)^((?:from|f|to|t|contact|m|reply-to|p-asserted-identity|p-preferred-identity"
    r"|remote-party-id|referred-by|b|refer-to|r|diversion|history-info)[ \t]*:[ \t]*)"
    r'("(?:[^"\\\r\n]|\\.)*"|[^<"\r\n,]*?)([ \t]*<)'
)
_SDP_ORIGIN = re.compile(r"(?m)^(o=)(\S+)")
_CONTENT_LENGTH = re.compile(r"(?im)^((?:content-length|l)[ \t]*:[ \t]*)\d+")
_NUMBER = re.compile(r"\+?[\d\-.()]+")


class Redactor:
    """Rewrites SIP messages; one per run, so stand-ins are stable across captures."""

    def __init__(self, identities: bool = False) -> None:
        self.identities = identities
        self._secrets: dict[bytes, bytes] = {}
        self._users: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._ips: dict[str, str] = {}
        self._ip_count = {4: 0, 6: 0}
        self._numbers = 0

    # -- credentials (same length) --------------------------------------------

    def _token(self, value: bytes) -> bytes:
        token = self._secrets.get(value)
        if token is None:
            n = len(self._secrets) + 1
            for label in (f"REDACTED{n}", f"R{n}"):
                if len(label) <= len(value):
                    token = label.encode() + b"x" * (len(value) - len(label))
                    break
            else:
                token = b"*" * len(value)
            self._secrets[value] = token
        return token

    def credentials(self, data: bytes) -> bytes:
        """`data` with credential values replaced by stand-ins of the same length."""

        def param(m: re.Match[bytes]) -> bytes:
            value = m.group(3) if m.group(3) is not None else m.group(4)
            if not value:
                return m.group(0)
            token = self._token(value)
            quoted = m.group(3) is not None
            return m.group(1) + m.group(2) + (b'"' + token + b'"' if quoted else token)

        out = _CRED.sub(param, data)
        out = _BASIC.sub(lambda m: m.group(1) + self._token(m.group(2)), out)
        return _URI_PASSWORD.sub(lambda m: m.group(1) + self._token(m.group(2)) + m.group(3), out)

    @property
    def secrets(self) -> dict[bytes, bytes]:
        """Every credential value replaced so far, with its stand-in."""
        return dict(self._secrets)

    # -- identities -------------------------------------------------------------

    def address(self, ip: str) -> str:
        """The stand-in of an IP address (itself when identities are kept)."""
        if not self.identities:
            return ip
        pseudo = self._ips.get(ip)
        if pseudo is not None:
            return pseudo
        try:
            parsed = ipaddress.ip_address(ip)
        except ValueError:
            return ip
        if parsed.is_unspecified:
            return ip
        self._ip_count[parsed.version] += 1
        n = self._ip_count[parsed.version]
        if parsed.version == 6:
            pseudo = f"2001:db8::{n:x}"
        elif n <= 254:
            pseudo = f"192.0.2.{n}"
        elif n <= 508:
            pseudo = f"198.51.100.{n - 254}"
        elif n <= 762:
            pseudo = f"203.0.113.{n - 508}"
        else:
            k = n - 762
            pseudo = f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"
        self._ips[ip] = pseudo
        return pseudo

    def user(self, user: str) -> str:
        """The stand-in of a user part or number."""
        pseudo = self._users.get(user)
        if pseudo is None:
            if _NUMBER.fullmatch(user) and any(c.isdigit() for c in user):
                self._numbers += 1
                pseudo = ("+" if user.startswith("+") else "") + f"555{self._numbers:04d}"
            else:
                pseudo = f"user{len(self._users) - self._numbers + 1}"
            self._users[user] = pseudo
        return pseudo

    def _name(self, name: str) -> str:
        bare = name.strip().strip('"').strip()
        if not bare:
            return name
        pseudo = self._names.setdefault(bare, f"Name {len(self._names) + 1}")
        return f'"{pseudo}"'

    def _ip_text(self, text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            try:
                ipaddress.ip_address(m.group(0))
            except ValueError:
                return m.group(0)
            return self.address(m.group(0))

        return _IPV6.sub(sub, _IPV4.sub(sub, text))

    def _identities_text(self, text: str) -> str:
        text = _NAMED.sub(lambda m: m.group(1) + self._name(m.group(2)) + m.group(3), text)
        text = _SIP_USER.sub(lambda m: m.group(1) + self.user(m.group(2)) + m.group(3), text)
        text = _TEL.sub(lambda m: m.group(1) + self.user(m.group(2)), text)
        text = _USERNAME.sub(lambda m: m.group(1) + self.user(m.group(2)) + m.group(3), text)
        text = _SDP_ORIGIN.sub(lambda m: m.group(1) + "-", text)
        return self._ip_text(text)

    # -- whole messages -----------------------------------------------------------

    def message(self, data: bytes) -> bytes:
        """A SIP message with credentials (and, if asked, identities) replaced; with
        identities the body may change length and Content-Length follows it."""
        data = self.credentials(data)
        if not self.identities:
            return data
        cut = data.find(b"\r\n\r\n")
        sep = 4
        if cut < 0:
            cut, sep = data.find(b"\n\n"), 2
        if cut < 0:
            cut, sep = len(data), 0
        head = data[:cut].decode("utf-8", "surrogateescape")
        body = data[cut + sep :].decode("utf-8", "surrogateescape")
        new_head = self._identities_text(head)
        new_body = self._identities_text(body)
        if len(new_body.encode("utf-8", "surrogateescape")) != len(data) - cut - sep:
            size = len(new_body.encode("utf-8", "surrogateescape"))
            new_head = _CONTENT_LENGTH.sub(lambda m: f"{m.group(1)}{size}", new_head)
        return (new_head + data[cut : cut + sep].decode() + new_body).encode(
            "utf-8", "surrogateescape"
        )

    def packet(self, pkt: SipPacket) -> SipPacket:
        """`pkt` with its message redacted and, with identities, its addresses replaced."""
        return replace(
            pkt,
            data=self.message(pkt.data),
            src=self.address(pkt.src),
            dst=self.address(pkt.dst),
        )

    def text(self, text: str) -> str:
        """Free text about the capture (reader warnings): addresses replaced and known
        credential values blanked."""
        for value, token in self._secrets.items():
            if len(value) >= 6:
                text = text.replace(value.decode("latin-1"), token.decode("latin-1"))
        return self._ip_text(text) if self.identities else text


Scrub = Callable[[bytes], bytes]
"""Same-length byte rewriting, as `export_pcap` applies it to packets."""
