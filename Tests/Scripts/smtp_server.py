#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the SMTP adapter's tests.

Usage: smtp_server.py FOLDER [--tls starttls|implicit|none] [--user NAME --password SECRET]
       [--mechanisms PLAIN,LOGIN] [--reply ADDRESS=CODE TEXT]... [--drop-after N] [--busy-after N] [--mute]

Each received message is saved as FOLDER/NNNN.eml (the bytes after un-dot-stuffing) and FOLDER/NNNN.json (the
envelope, the connection number, and the message as Python's `email` package parses it). FOLDER/events.log gets one
line per connection and per command: "1 connect", "1 EHLO", "1 AUTH", ... (never an AUTH payload).

--tls starttls offers STARTTLS (a certificate made at start, signed by a CA made at start); implicit speaks TLS from
the first byte; none offers no TLS. AUTH is offered only over TLS. --reply answers RCPT TO for ADDRESS with the given
code and text (421 also closes the connection). --drop-after N closes a connection silently after its Nth message;
--busy-after N answers the MAIL FROM after the Nth message with 421 and closes. --inject answers STARTTLS with its
220 and the start of a forged line (a STARTTLS injection). --mute accepts connections and
never says a word (for timeouts).

When ready it prints one JSON line on stdout: {"port": PORT, "ca": CA_PEM_PATH or null}. It exits when stdin closes.
"""

import argparse
import asyncio
import datetime
import email
import email.policy
import ipaddress
import json
import os
import ssl
import sys
import threading

from aiosmtpd.smtp import SMTP, AuthResult


def make_certificates(folder):
    """A CA and a server certificate for localhost and 127.0.0.1, signed by it; returns (ca, cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nudge test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = [os.path.join(folder, name) for name in ("ca.pem", "server.pem", "server.key")]
    with open(paths[0], "wb") as file:
        file.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as file:
        file.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as file:
        file.write(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


class Recorder:
    """Numbers connections and messages and writes them to the folder."""

    def __init__(self, folder):
        self.folder = folder
        self.connections = 0
        self.messages = 0

    def event(self, connection, text):
        with open(os.path.join(self.folder, "events.log"), "a") as file:
            file.write(f"{connection} {text}\n")

    def save(self, connection, envelope):
        self.messages += 1
        raw = envelope.original_content
        stem = os.path.join(self.folder, f"{self.messages:04d}")
        with open(stem + ".eml", "wb") as file:
            file.write(raw)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        sender = parsed["From"]
        parts = []
        for part in parsed.iter_parts() if parsed.is_multipart() else []:
            parts.append({
                "type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "encoding": part["Content-Transfer-Encoding"],
                "content": part.get_content(),
                "defects": [str(defect) for defect in part.defects],
            })
        summary = {
            "connection": connection,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "type": parsed.get_content_type(),
            "subject": str(parsed["Subject"]),
            "from_name": sender.addresses[0].display_name if sender else None,
            "from_address": sender.addresses[0].addr_spec if sender else None,
            "to": str(parsed["To"]),
            "reply_to": str(parsed["Reply-To"]) if parsed["Reply-To"] else None,
            "date": str(parsed["Date"]),
            "message_id": parsed["Message-ID"],
            "headers": {name: str(value) for name, value in parsed.items()},
            "parts": parts,
            "defects": [str(defect) for defect in parsed.defects],
        }
        with open(stem + ".json.tmp", "w") as file:
            json.dump(summary, file)
        os.rename(stem + ".json.tmp", stem + ".json")


class Handler:
    def __init__(self, recorder, replies, busy_after, drop_after):
        self.recorder = recorder
        self.replies = replies
        self.busy_after = busy_after
        self.drop_after = drop_after

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.busy_after and session.delivered >= self.busy_after:
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.3.2 Service shutting down, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        reply = self.replies.get(address.lower())
        if reply:
            if reply.startswith("421"):
                asyncio.get_running_loop().call_soon(server.transport.close)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.recorder.save(session.connection, envelope)
        session.delivered += 1
        if self.drop_after and session.delivered >= self.drop_after:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return f"250 2.0.0 OK: queued as Q{self.recorder.messages:04d}"


class RecordingSMTP(SMTP):
    """aiosmtpd's server, numbering its connections and logging each command's verb."""

    def __init__(self, recorder, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recorder = recorder
        self.number = None
        for verb, method in list(self._smtp_methods.items()):
            self._smtp_methods[verb] = self._logged(verb, method)

    def _logged(self, verb, method):
        async def logged(arg):
            self.recorder.event(self.number, verb)
            return await method(arg)
        return logged

    def _create_session(self):
        session = super()._create_session()
        if self.number is None:
            self.recorder.connections += 1
            self.number = self.recorder.connections
            self.recorder.event(self.number, "connect")
        session.connection = self.number
        session.delivered = 0
        return session


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--tls", choices=["starttls", "implicit", "none"], default="starttls")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--mechanisms", default="PLAIN,LOGIN")
    parser.add_argument("--reply", action="append", default=[])
    parser.add_argument("--drop-after", type=int, default=0)
    parser.add_argument("--busy-after", type=int, default=0)
    parser.add_argument("--mute", action="store_true")
    parser.add_argument("--inject", action="store_true")
    options = parser.parse_args()

    os.makedirs(options.folder, exist_ok=True)
    ca = None
    context = None
    if options.tls != "none":
        ca, cert, key = make_certificates(options.folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (options.user is not None and auth_data.login.decode() == options.user
              and auth_data.password.decode() == options.password)
        return AuthResult(success=ok, handled=False)

    replies = {}
    for item in options.reply:
        address, _, reply = item.partition("=")
        replies[address.lower()] = reply
    recorder = Recorder(options.folder)
    handler = Handler(recorder, replies, options.busy_after, options.drop_after)
    excluded = [m for m in ("PLAIN", "LOGIN") if m not in options.mechanisms.split(",")]

    def factory():
        return RecordingSMTP(
            recorder, handler, hostname="smtp.test", ident="nudge-test ESMTP",
            tls_context=context if options.tls == "starttls" else None,
            # Implicit TLS is invisible to aiosmtpd, so it must not insist on STARTTLS before AUTH there.
            auth_require_tls=options.tls != "implicit",
            authenticator=authenticator if options.user else None,
            auth_exclude_mechanism=excluded if options.user else ["PLAIN", "LOGIN"],
            timeout=30)

    class Mute(asyncio.Protocol):
        def connection_made(self, transport):
            recorder.connections += 1
            recorder.event(recorder.connections, "connect")

    class Inject(asyncio.Protocol):
        """Offers STARTTLS, then answers it with its 220 followed by the start of a forged line (CVE-2011-0411 style)."""

        def connection_made(self, transport):
            recorder.connections += 1
            self.connection = recorder.connections
            recorder.event(self.connection, "connect")
            self.transport = transport
            self.buffer = b""
            transport.write(b"220 inject.test ESMTP\r\n")

        def data_received(self, data):
            self.buffer += data
            while b"\r\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\r\n", 1)
                verb = line.split(b" ")[0].decode().upper()
                recorder.event(self.connection, verb)
                if verb == "EHLO":
                    self.transport.write(b"250-inject.test\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n")
                elif verb == "STARTTLS":
                    self.transport.write(b"220 go ahead\r\n250 forged")
                else:
                    self.transport.write(b"500 unexpected\r\n")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    if options.mute:
        factory = Mute  # noqa: F811
    if options.inject:
        factory = Inject  # noqa: F811
    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=0, ssl=context if options.tls == "implicit" else None))
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port, "ca": ca}), flush=True)

    def wait_for_stdin():
        sys.stdin.read()
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=wait_for_stdin, daemon=True).start()
    loop.run_forever()


if __name__ == "__main__":
    main()
