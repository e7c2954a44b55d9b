"""HTTPS to a checked address: TLS still verifies the certificate against the host name."""

import datetime
import ipaddress
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from closedloop.webhooks import netguard

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def _self_signed(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_receiver(tmp_path):
    cert_file, key_file = _self_signed(tmp_path, "hooks.example")
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(
                (self.headers["Host"], self.rfile.read(int(self.headers["Content-Length"])))
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client_context = ssl.create_default_context(cafile=str(cert_file))
    yield server.server_address[1], client_context, seen
    server.shutdown()
    server.server_close()


def _to_loopback(host, port):
    return [ipaddress.ip_address("127.0.0.1")]


def test_https_goes_to_the_checked_address_and_verifies_the_name(tls_receiver):
    port, context, seen = tls_receiver
    reply = netguard.post(
        f"https://hooks.example:{port}/in",
        b'{"a":1}',
        {"Content-Type": "application/json"},
        allowed_hosts={"hooks.example"},
        resolver=_to_loopback,
        ssl_context=context,
    )
    assert reply.status == 204
    assert seen == [(f"hooks.example:{port}", b'{"a":1}')]


def test_https_to_a_name_the_certificate_does_not_cover_fails(tls_receiver):
    port, context, seen = tls_receiver
    with pytest.raises(ssl.SSLCertVerificationError):
        netguard.post(
            f"https://other.example:{port}/in",
            b"{}",
            {},
            allowed_hosts={"other.example"},
            resolver=_to_loopback,
            ssl_context=context,
        )
    assert seen == []
