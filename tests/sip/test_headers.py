"""Typed header access: every header the analyzer reasons about."""

from __future__ import annotations

from analyzer.sip import parse, parse_address, parse_auth

REGISTER = (
    b"REGISTER sip:registrar.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKnashds7;rport=5061;received=198.51.100.7\r\n"
    b"Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKold\r\n"
    b"Max-Forwards: 69\r\n"
    b"From: <sip:bob@example.com>;tag=456248\r\n"
    b"To: <sip:bob@example.com>\r\n"
    b"Call-ID: 843817637684230@998sdasdh09\r\n"
    b"CSeq: 1826 REGISTER\r\n"
    b"Contact: <sip:bob@192.0.2.10;transport=tls;ob>;reg-id=1;"
    b'+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";expires=600;q=0.7\r\n'
    b"Supported: path, Outbound, gruu\r\n"
    b"Require: outbound\r\n"
    b"Proxy-Require: sec-agree\r\n"
    b"Path: <sip:edge.example.com;lr;ob>\r\n"
    b"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
    b"Record-Route: <sip:rr.example.com;lr>\r\n"
    b"Expires: 3600\r\n"
    b'Authorization: Digest username="bob", realm="example.com", nonce="ab,c", '
    b'uri="sip:registrar.example.com", response="0123", qop=auth, nc=00000001, cnonce="x"\r\n'
    b"User-Agent: Phone/1.0 (lab)\r\n"
    b'P-Asserted-Identity: "Bob" <sip:bob@example.com>, <tel:+15551234>\r\n'
    b"Allow: INVITE, ACK, BYE\r\n"
    b"Accept: application/sdp;level=1, text/plain\r\n"
    b"Content-Length: 0\r\n\r\n"
)

RESPONSE = (
    b"SIP/2.0 503 Service Unavailable\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
    b"From: <sip:a@example.com>;tag=1\r\n"
    b"To: <sip:b@example.com>;tag=2\r\n"
    b"Call-ID: c\r\n"
    b"CSeq: 2 INVITE\r\n"
    b"Retry-After: 120 (maintenance);duration=3600\r\n"
    b'Reason: SIP ;cause=503 ;text="Overloaded", Q.850;cause=34;text="No circuit, channel"\r\n'
    b'Warning: 399 proxy.example.com "Codec, not allowed", 370 gw "Insufficient bandwidth"\r\n'
    b"Min-Expires: 60\r\n"
    b"Min-SE: 90\r\n"
    b"x: 1800;refresher=uac\r\n"
    b"Flow-Timer: 120\r\n"
    b"Unsupported: foo, Bar\r\n"
    b"Server: Proxy/2\r\n"
    b'WWW-Authenticate: Digest realm="example.com", nonce="n1", stale=TRUE, '
    b'algorithm=MD5, qop="auth,auth-int"\r\n'
    b'Proxy-Authenticate: Digest realm="proxy.example.com", nonce="n2"\r\n'
    b"y: eyJhbGciOiJFUzI1NiJ9.e30.sig;info=<https://cert.example.org/cert.cer>;alg=ES256;ppt=shaken\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def test_request_typed_headers() -> None:
    m = parse(REGISTER)
    assert m.anomalies == ()
    top, old = m.vias
    assert (top.transport, top.host, top.port, top.rport, top.received) == (
        "TLS",
        "192.0.2.10",
        5061,
        5061,
        "198.51.100.7",
    )
    assert top.is_rfc3261_branch
    assert (old.host, old.port, old.has_rport) == ("2001:db8::1", 5060, False)
    assert m.max_forwards == 69
    assert m.expires == 3600
    (contact,) = m.contacts
    assert contact.reg_id == 1
    assert contact.instance == "urn:uuid:00000000-0000-1000-8000-000A95A0E128"
    assert (contact.expires, contact.q) == (600, 0.7)
    assert contact.uri is not None
    assert "ob" in contact.uri.params
    assert m.supported == ("path", "outbound", "gruu")
    assert m.require == ("outbound",)
    assert m.proxy_require == ("sec-agree",)
    (path,) = m.path
    assert path.uri is not None
    assert dict(path.uri.params) == {"lr": None, "ob": None}
    assert [r.uri_text for r in m.route] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert [r.uri_text for r in m.record_route] == ["sip:rr.example.com;lr"]
    (cred,) = m.authorization
    assert (cred.scheme, cred.username, cred.realm, cred.nonce) == (
        "Digest",
        "bob",
        "example.com",
        "ab,c",
    )
    assert cred.get("response") == "0123"
    assert cred.qop == ("auth",)
    assert m.user_agent == "Phone/1.0 (lab)"
    pai = m.p_asserted_identity
    assert [(a.display, a.uri_text) for a in pai] == [
        ("Bob", "sip:bob@example.com"),
        (None, "tel:+15551234"),
    ]
    assert m.allow == ("INVITE", "ACK", "BYE")
    assert [(a.mime, dict(a.params)) for a in m.accept] == [
        ("application/sdp", {"level": "1"}),
        ("text/plain", {}),
    ]
    assert m.content_length == 0
    assert m.sdp is None
    assert m.body_parts == ()


def test_response_typed_headers() -> None:
    m = parse(RESPONSE)
    assert m.anomalies == ()
    assert m.retry_after == 120
    sip, q850 = m.reasons
    assert (sip.protocol, sip.cause, sip.text) == ("SIP", 503, "Overloaded")
    assert (q850.protocol, q850.cause, q850.text) == ("Q.850", 34, "No circuit, channel")
    w1, w2 = m.warnings
    assert (w1.code, w1.agent, w1.text) == (399, "proxy.example.com", "Codec, not allowed")
    assert (w2.code, w2.agent, w2.text) == (370, "gw", "Insufficient bandwidth")
    assert (m.min_expires, m.min_se, m.flow_timer) == (60, 90, 120)
    se = m.session_expires
    assert se is not None
    assert (se.seconds, se.params["refresher"]) == (1800, "uac")
    assert m.unsupported == ("foo", "bar")
    assert m.server == "Proxy/2"
    (www,) = m.www_authenticate
    assert (www.stale, www.algorithm, www.qop) == (True, "MD5", ("auth", "auth-int"))
    (proxy,) = m.proxy_authenticate
    assert proxy.realm == "proxy.example.com"
    ident = m.identity
    assert ident is not None
    assert ident.value == "eyJhbGciOiJFUzI1NiJ9.e30.sig"
    assert ident.params["ppt"] == "shaken"
    assert ident.params["info"] == "<https://cert.example.org/cert.cer>"


def test_address_forms() -> None:
    star = parse_address("*")
    assert star.is_wildcard
    spec = parse_address("sip:alice@example.com;tag=1")
    assert (spec.bracketed, spec.tag, spec.display) == (False, "1", None)
    quoted = parse_address('"A \\"B\\" C" <sip:x@y>;tag=9')
    assert (quoted.display, quoted.tag) == ('A "B" C', "9")
    assert parse_address("<sip:x@y:70000>").defects == ("invalid_port",)
    assert parse_address("<sip:x@y>;;tag=1").defects == ("empty_parameter",)
    assert parse_address("<sip:x@y").defects == ("unterminated_angle_bracket",)


def test_unknown_auth_scheme_and_bare_scheme() -> None:
    assert parse_auth("Basic").scheme == "Basic"
    assert dict(parse_auth("Bearer token=abc").params) == {"token": "abc"}
