#!/usr/bin/env python3
"""A TLS leg for the lab: plain TCP in, TLS across, plain TCP out, on loopback.

The Debian SIPp is built without TLS, so SIP over TLS is made by relaying
SIPp's TCP connection through a TLS hop (see ``tls.py``)::

    SIPp UAC --tcp--> client end --TLS--> server end --tcp--> SIPp UAS
             127.0.0.1:5072     127.0.0.1:5061      127.0.0.1:5070

Each connection accepted by the client end gets its own TLS connection to the
server end, and that its own TCP connection to the upstream; bytes are relayed
both ways unchanged, and when one side closes, the whole chain closes (the TLS
hop with a close_notify each way). The server end writes the TLS secrets of
every session to ``--keylog`` (NSS key log format, as SSLKEYLOGFILE), so that
Wireshark/tshark can decrypt the TLS leg of a capture.

The certificate is a throwaway, self-signed for ``lab.test`` (``make_cert``),
made at run time into a temp dir and never committed; the client end trusts
exactly that certificate.

Usage:
    python3 captures/lab/tls_relay.py --cert CERT --key KEY --keylog FILE
        [--listen 127.0.0.1:5072] [--tls 127.0.0.1:5061] [--upstream 127.0.0.1:5070]

Runs until SIGTERM or SIGINT. Standard library only; one thread per relayed
connection, which alone touches its TLS socket (an OpenSSL connection must not
be read and written from two threads at once).
"""

from __future__ import annotations

import argparse
import contextlib
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

SERVER_NAME = "lab.test"
CONNECT_TIMEOUT_S = 5.0  # TCP connect and TLS handshake
CLOSE_TIMEOUT_S = 1.0  # waiting for the peer's close_notify
IO_TIMEOUT_S = 5.0  # a send that cannot proceed for this long fails the connection
CHUNK = 65536


def log(message: str) -> None:
    print(f"tls_relay: {message}", flush=True)


def make_cert(folder: Path, timeout: float = 30) -> tuple[Path, Path]:
    """A fresh self-signed EC certificate for lab.test, valid one day: (cert, key)."""
    cert, key = folder / "lab-cert.pem", folder / "lab-key.pem"
    argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    argv += ["-nodes", "-days", "1", "-subj", f"/CN={SERVER_NAME}"]
    argv += ["-addext", f"subjectAltName=DNS:{SERVER_NAME}"]
    argv += ["-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        argv,
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    return cert, key


def hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {text!r}")
    return host.strip("[]"), int(port)


# --------------------------------------------------------------------------
# Relaying one connection pair


def send_all(sock: socket.socket, data: bytes) -> None:
    """Write all of `data` to a non-blocking (TLS or plain) socket."""
    view = memoryview(data)
    while view:
        try:
            sent = sock.send(view)
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            with selectors.DefaultSelector() as sel:
                sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
                if not sel.select(IO_TIMEOUT_S):
                    raise TimeoutError("send stalled") from None
            continue
        view = view[sent:]


def receive(sock: socket.socket) -> bytes | None:
    """Bytes from a non-blocking socket; None when there are none yet, b"" at EOF.

    A TLS socket can be readable with no application data (a session ticket,
    a partial record): that is None, not EOF.
    """
    try:
        return sock.recv(CHUNK)
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        return None
    except ConnectionResetError:
        return b""


def close(sock: socket.socket) -> None:
    """Close a socket; a TLS one first sends (and briefly awaits) close_notify."""
    if isinstance(sock, ssl.SSLSocket):
        with contextlib.suppress(OSError, ValueError):
            sock.settimeout(CLOSE_TIMEOUT_S)
            sock.unwrap()
    with contextlib.suppress(OSError):
        sock.close()


def pump(name: str, a: socket.socket, b: socket.socket) -> None:
    """Relay bytes both ways between `a` and `b` until either side closes."""
    for sock in (a, b):
        sock.setblocking(False)
    peer = {a: b, b: a}
    counts = {a: 0, b: 0}
    with selectors.DefaultSelector() as sel:
        for sock in (a, b):
            sel.register(sock, selectors.EVENT_READ, sock)
        open_ = True
        while open_:
            # Bytes OpenSSL has already decrypted are not "readable" for select.
            ready: list[socket.socket] = [
                s for s in (a, b) if isinstance(s, ssl.SSLSocket) and s.pending()
            ]
            if not ready:
                ready = [key.data for key, _ in sel.select()]
            for sock in ready:
                data = receive(sock)
                if data is None:
                    continue
                if not data:
                    open_ = False
                    break
                counts[sock] += len(data)
                try:
                    send_all(peer[sock], data)
                except OSError as error:
                    log(f"{name}: send failed: {error}")
                    open_ = False
                    break
    log(f"{name}: closed after {counts[a]} bytes one way, {counts[b]} the other")
    close(a)
    close(b)


# --------------------------------------------------------------------------
# The two ends


def client_end(conn: socket.socket, name: str, tls_addr: tuple[str, int], cafile: Path) -> None:
    """A plain connection from the UAC, relayed over a new TLS connection."""
    ctx = ssl.create_default_context(cafile=str(cafile))
    try:
        raw = socket.create_connection(tls_addr, timeout=CONNECT_TIMEOUT_S)
        tls = ctx.wrap_socket(raw, server_hostname=SERVER_NAME)
    except OSError as error:
        log(f"{name}: TLS connection to {tls_addr} failed: {error}")
        close(conn)
        return
    log(f"{name}: {tls.version()} {tls.cipher()} to {tls_addr}")
    pump(name, conn, tls)


def server_end(
    conn: socket.socket, name: str, ctx: ssl.SSLContext, upstream: tuple[str, int]
) -> None:
    """A TLS connection from the client end, relayed over a new plain connection."""
    try:
        conn.settimeout(CONNECT_TIMEOUT_S)
        tls = ctx.wrap_socket(conn, server_side=True)
    except OSError as error:
        log(f"{name}: TLS handshake failed: {error}")
        close(conn)
        return
    try:
        out = socket.create_connection(upstream, timeout=CONNECT_TIMEOUT_S)
    except OSError as error:
        log(f"{name}: connection to {upstream} failed: {error}")
        close(tls)
        return
    log(f"{name}: {tls.version()} {tls.cipher()} from {tls.getpeername()}")
    pump(name, tls, out)


def listener(addr: tuple[str, int]) -> socket.socket:
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(addr)
    sock.listen(16)
    return sock


def stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cert", type=Path, required=True, help="PEM certificate (make_cert)")
    parser.add_argument("--key", type=Path, required=True, help="PEM private key")
    parser.add_argument("--keylog", type=Path, required=True, help="TLS key log to write")
    parser.add_argument("--listen", type=hostport, default=("127.0.0.1", 5072), metavar="HOST:PORT")
    parser.add_argument("--tls", type=hostport, default=("127.0.0.1", 5061), metavar="HOST:PORT")
    parser.add_argument(
        "--upstream", type=hostport, default=("127.0.0.1", 5070), metavar="HOST:PORT"
    )
    args = parser.parse_args(argv)

    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(args.cert, args.key)
    server_ctx.keylog_filename = str(args.keylog)  # NSS key log format, one line per secret

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    handlers: dict[socket.socket, Callable[[socket.socket, str], None]] = {}
    with selectors.DefaultSelector() as sel:
        plain, tls = listener(args.listen), listener(args.tls)
        handlers[plain] = lambda conn, name: client_end(conn, name, args.tls, args.cert)
        handlers[tls] = lambda conn, name: server_end(conn, name, server_ctx, args.upstream)
        for sock in handlers:
            sel.register(sock, selectors.EVENT_READ, sock)
        log(f"listening on {args.listen} (tcp) and {args.tls} (tls) -> {args.upstream}")
        count = 0
        try:
            while True:
                for key, _ in sel.select():
                    sock = key.data
                    conn, peer = sock.accept()
                    count += 1
                    end = "client" if sock is plain else "server"
                    name = f"{end} end #{count} from {peer[0]}:{peer[1]}"
                    threading.Thread(
                        target=handlers[sock], args=(conn, name), name=name, daemon=True
                    ).start()
        except SystemExit:
            log("stopped")
        finally:
            for sock in handlers:
                sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
