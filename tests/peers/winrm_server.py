"""A WinRM service for transport tests: pyspnego's NTLM acceptor per TCP connection, MS-WSMV
message encryption (AllowUnencrypted=false), and a BMC behind Microsoft_IPMI answering
Get Device ID (ipmi_sim's bytes) and C1h for anything else.

Its NTLM and wrap/unwrap are pyspnego's; its framing and XML handling are written here from
MS-WSMV, independently of the Rust code. Every request is logged as a JSON line so tests can
check what went over the wire (e.g. that no body was sent in clear).

Usage: winrm_server.py PORTFILE LOGFILE [--close-after-challenge N] [--close-every N] [--tls 256|384]
                                        [--cbt-mismatch 1]
  PORTFILE receives the port it listens on (127.0.0.1, free port).
  --close-after-challenge N: close the TCP connection right after sending the first N challenges.
  --close-every N: close the connection after every N-th authenticated reply.
  --tls 256|384: HTTPS with a self-signed certificate made here (RSA/SHA-256 or ECDSA P-384/SHA-384),
      written to PORTFILE.cert.pem; NTLM then requires the RFC 5929 channel binding of that
      certificate, and bodies travel without message encryption (TLS protects them).
  --cbt-mismatch 1: require the channel binding of a different certificate.
  --only-ntlm 1: offer only the NTLM scheme (answer a Negotiate token with a bare "WWW-Authenticate: NTLM").
  --busy N: answer the first N RequestResponse calls with completion code C0h (node busy).
  --kerberos 1: accept Kerberos (SPNEGO) too, with pyspnego's negotiate acceptor and the keytab
      in KRB5_KTNAME; the 200 carries the mutual-authentication token.
  --no-mutual 1: ... but without that token.
  --tamper-reply 1: flip one bit of every sealed reply's ciphertext.
  --short-header N: seal every reply with only the first N bytes of its wrap header (the rest
      of the header goes in front of the data, so the total length is unchanged).
"""
import base64
import json
import os
import re
import socketserver
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler

import spnego

BOUNDARY = b"--Encrypted Boundary"
IPMI_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/wmi/Microsoft_IPMI"
DEVICE_ID = [0x00, 0x03, 0x09, 0x08, 0x02, 0x9F, 0x91, 0x12, 0x00, 0x02, 0x0F, 0x00, 0x00, 0x00, 0x00]

args = sys.argv[1:]
PORTFILE, LOGFILE = args[0], args[1]
def _value(v):
    try:
        return int(v)
    except ValueError:
        return v


opts = {args[i]: _value(args[i + 1]) for i in range(2, len(args), 2)}
MUTUAL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
UPN_OID = "1.3.6.1.4.1.311.20.2.3"
lock = threading.Lock()
CHANNEL_BINDINGS = None


def make_tls(bits):
    """A self-signed, CA:FALSE, serverAuth certificate for 127.0.0.1; returns (SSLContext, cbt)."""
    import datetime
    import hashlib
    import ipaddress
    import ssl
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from spnego.channel_bindings import GssChannelBindings

    if bits == 384:
        key, digest = ec.generate_private_key(ec.SECP384R1()), hashes.SHA384()
    else:
        key, digest = rsa.generate_private_key(public_exponent=65537, key_size=2048), hashes.SHA256()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "winrm-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=bool(opts.get("--ca-true")), path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, digest))
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    keypem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with open(PORTFILE + ".cert.pem", "wb") as f:
        f.write(pem)
    with open(PORTFILE + ".key.pem", "wb") as f:
        f.write(keypem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(PORTFILE + ".cert.pem", PORTFILE + ".key.pem")
    if opts.get("--client-ca"):
        # Certificate authentication: a client certificate is required and must chain to this CA.
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(opts["--client-ca"])
    bound = der if not opts.get("--cbt-mismatch") else der + b"other"
    h = hashlib.sha384(bound).digest() if bits == 384 else hashlib.sha256(bound).digest()
    return ctx, GssChannelBindings(application_data=b"tls-server-end-point:" + h)
challenges_sent = [0]
conn_ids = [0]
busy = [opts.get("--busy", 0)]


def log(**kw):
    with lock, open(LOGFILE, "a") as f:
        f.write(json.dumps(kw) + "\n")


def frame(header, data):
    out = (b"--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
           b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n"
           b"--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n" % len(data))
    return out + len(header).to_bytes(4, "little") + header + data + b"--Encrypted Boundary--\r\n"


def unframe(body):
    m = re.search(rb"Length=(\d+)\r\n", body)
    length = int(m.group(1))
    start = body.index(b"application/octet-stream\r\n") + len(b"application/octet-stream\r\n")
    hlen = int.from_bytes(body[start:start + 4], "little")
    header = body[start + 4:start + 4 + hlen]
    data = body[start + 4 + hlen:start + 4 + hlen + length]
    tail = body[start + 4 + hlen + length:]
    assert tail.lstrip(b"\r\n").startswith(b"--Encrypted Boundary--"), tail[:40]
    return header, data


def reply_xml(action, relates_to, body):
    return ('<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" '
            'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
            f'<a:Action>{action}</a:Action><a:MessageID>uuid:{uuid.uuid4()}</a:MessageID>'
            '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>'
            f'<a:RelatesTo>{relates_to}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>').encode()


def dispatch(xml):
    text = xml.decode()
    msg_id = re.search(r"<a:MessageID>([^<]+)</a:MessageID>", text).group(1)
    action = re.search(r"<a:Action[^>]*>([^<]+)</a:Action>", text).group(1)
    if action.endswith("/Enumerate"):
        item = (f'<p:Microsoft_IPMI xmlns:p="{IPMI_URI}"><p:Active>true</p:Active><p:BMCAddress>32</p:BMCAddress>'
                '<p:InstanceName>ROOT\\SYSTEM\\0001_0</p:InstanceName></p:Microsoft_IPMI>')
        return 200, reply_xml("http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse", msg_id,
                              f"<n:EnumerateResponse><w:Items>{item}</w:Items><w:EndOfSequence/></n:EnumerateResponse>")
    if action == IPMI_URI + "/RequestResponse":
        netfn = int(re.search(r":NetworkFunction>(\d+)<", text).group(1))
        cmd = int(re.search(r":Command>(\d+)<", text).group(1))
        # ResponseData carries the completion code first, counted in ResponseDataSize.
        data = [0x00] + DEVICE_ID if (netfn, cmd) == (6, 1) else [0xC1]
        with lock:
            if busy[0] > 0:
                busy[0] -= 1
                data = [0xC0]
        items = "".join(f"<p:ResponseData>{b}</p:ResponseData>" for b in data)
        out = (f'<p:RequestResponse_OUTPUT xmlns:p="{IPMI_URI}"><p:CompletionCode>{data[0]}</p:CompletionCode>'
               f'{items}<p:ResponseDataSize>{len(data)}</p:ResponseDataSize></p:RequestResponse_OUTPUT>')
        return 200, reply_xml(IPMI_URI + "/RequestResponseResponse", msg_id, out)
    fault = ('<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:ActionNotSupported</s:Value>'
             '</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">unsupported</s:Text></s:Reason></s:Fault>')
    return 500, reply_xml("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", msg_id, fault)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        with lock:
            conn_ids[0] += 1
            self.conn = conn_ids[0]
        self.ctx = spnego.server(protocol="ntlm", channel_bindings=CHANNEL_BINDINGS)
        self.kerberos = False
        self.replies = 0

    def log_message(self, *a):
        pass

    def send(self, status, body=b"", headers=(), close=False):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if close:
            self.close_connection = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        auth = self.headers.get("Authorization", "")
        ctype = self.headers.get("Content-Type", "")
        sealed = ctype.startswith("multipart/encrypted")
        log(conn=self.conn, auth=auth.split(" ")[0] if auth else "", sealed=sealed, length=len(body),
            identify=self.headers.get("WSMANIDENTIFY", ""))
        if self.headers.get("WSMANIDENTIFY") == "unauthenticated":
            reply = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xml:lang="en-US"><s:Header/><s:Body>'
                     '<wsmid:IdentifyResponse xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
                     '<wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</wsmid:ProtocolVersion>'
                     '<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>'
                     '<wsmid:ProductVersion>OS: 10.0.20348 SP: 0.0 Stack: 3.0</wsmid:ProductVersion>'
                     '</wsmid:IdentifyResponse></s:Body></s:Envelope>').encode()
            self.send(200, reply, headers=[("Content-Type", "application/soap+xml;charset=UTF-8")])
            return
        if auth == MUTUAL:
            # The https/mutual profile: the TLS client certificate's UPN names the account, as
            # Windows' certmapping does; the users file lists who may log on.
            from cryptography import x509
            der = self.connection.getpeercert(binary_form=True)
            upn = None
            if der:
                try:
                    san = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(
                        x509.SubjectAlternativeName).value
                    for other in san.get_values_for_type(x509.OtherName):
                        if other.type_id.dotted_string == UPN_OID:
                            upn = other.value[2:].decode()  # DER UTF8String: tag, length, text
                except x509.ExtensionNotFound:
                    pass
            user, _, _ = (upn or "").partition("@")
            known = any(line.split(":")[1] == user
                        for line in open(os.environ["NTLM_USER_FILE"]).read().splitlines() if user)
            log(conn=self.conn, event="certificate", upn=upn, mapped=known)
            if not known:
                self.send(401, headers=[("WWW-Authenticate", "Negotiate")])
                return
            status, reply = dispatch(body)
            self.send(status, reply, headers=[("Content-Type", "application/soap+xml;charset=UTF-8")])
            return
        if opts.get("--only-ntlm") and auth.startswith("Negotiate "):
            self.send(401, headers=[("WWW-Authenticate", "NTLM")])
            return
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            dom, _, name = user.rpartition("\\")
            ok = any(line.split(":", 2) == [dom, name, password]
                     for line in open(os.environ["NTLM_USER_FILE"]).read().splitlines())
            if not ok or not TLS:
                log(conn=self.conn, event="basic-refused", tls=bool(TLS))
                self.send(401, headers=[("WWW-Authenticate", 'Basic realm="WSMAN"')])
                return
            status, reply = dispatch(body)
            self.send(status, reply, headers=[("Content-Type", "application/soap+xml;charset=UTF-8")])
            return
        if auth:
            scheme, _, token = auth.partition(" ")
            raw = base64.b64decode(token)
            if not raw.startswith(b"NTLMSSP\0"):
                # Kerberos inside SPNEGO (or bare): pyspnego's negotiate acceptor with the
                # keytab in KRB5_KTNAME, a new context per first token.
                if not opts.get("--kerberos"):
                    self.send(401, headers=[("WWW-Authenticate", "Negotiate")])
                    return
                self.ctx = spnego.server(protocol="negotiate", channel_bindings=CHANNEL_BINDINGS)
                self.kerberos = True
            elif raw[8:9] == b"\x01":
                self.ctx = spnego.server(protocol="ntlm", channel_bindings=CHANNEL_BINDINGS)
                self.kerberos = False
            try:
                out = self.ctx.step(raw)
            except Exception as e:  # wrong password, bad MIC, wrong channel binding...
                log(conn=self.conn, event="auth-failed", error=type(e).__name__, detail=str(e)[:300])
                self.ctx = spnego.server(protocol="ntlm", channel_bindings=CHANNEL_BINDINGS)
                self.send(401, headers=[("WWW-Authenticate", "Negotiate")])
                return
            if self.ctx.complete:
                log(conn=self.conn, event="authenticated", protocol=self.ctx.negotiated_protocol,
                    principal=getattr(self.ctx, "client_principal", None) if self.kerberos else None)
            if self.kerberos and self.ctx.complete and not body:
                # Kerberos completes on one leg: 200 with the mutual-authentication token.
                headers = [] if opts.get("--no-mutual") else [
                    ("WWW-Authenticate", f"Negotiate {base64.b64encode(out or b'').decode()}")]
                self.send(200, headers=headers)
                return
            if self.ctx.complete and body and opts.get("--refuse-piggyback"):
                # A server that wants AUTHENTICATE on an empty POST (the captured flow).
                log(conn=self.conn, event="refused-piggyback")
                self.send(401, headers=[("WWW-Authenticate", "Negotiate")], close=True)
                return
            if not self.ctx.complete:
                with lock:
                    challenges_sent[0] += 1
                    close = challenges_sent[0] <= opts.get("--close-after-challenge", 0)
                self.send(401, headers=[("WWW-Authenticate", f"{scheme} {base64.b64encode(out).decode()}")], close=close)
                return
        if not self.ctx.complete:
            self.send(401, headers=[("WWW-Authenticate", "Negotiate")])
            return
        if not body:
            self.send(200)  # pywinrm-style empty authentication POST
            return
        if TLS and not sealed:
            status, reply = dispatch(body)
            self.replies += 1
            self.send(status, reply, headers=[("Content-Type", "application/soap+xml;charset=UTF-8")])
            return
        if not sealed:
            log(conn=self.conn, event="refused-plaintext")
            self.send(401, headers=[("WWW-Authenticate", "Negotiate")])
            return
        header, data = unframe(body)
        xml = self.ctx.unwrap_winrm(header, data)
        status, reply = dispatch(xml)
        w = self.ctx.wrap_winrm(reply)
        data = w.data
        header = w.header
        if opts.get("--tamper-reply"):
            data = bytes([data[0] ^ 1]) + data[1:]
        if "--short-header" in opts:
            n = opts["--short-header"]
            header, data = header[:n], header[n:] + data
        self.replies += 1
        every = opts.get("--close-every", 0)
        self.send(status, frame(header, data),
                  headers=[("Content-Type", 'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";'
                                            'boundary="Encrypted Boundary"')],
                  close=bool(every) and self.replies % every == 0)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


TLS = None

if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    if opts.get("--tls"):
        TLS, CHANNEL_BINDINGS = make_tls(opts["--tls"])
        srv.socket = TLS.wrap_socket(srv.socket, server_side=True)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()
