"""Client certificates for the certificate-authentication tests, made independently of our code
(pyca/cryptography): a self-signed client certificate whose SAN carries a UPN (otherName
1.3.6.1.4.1.311.20.2.3), as Windows' certmapping expects, with its key in every PEM form users
have: PKCS#8, RSA (PKCS#1), EC (SEC1), an encrypted PKCS#8, and a key of another certificate.

    python make_client_cert.py OUT_DIR UPN
"""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

out, upn = sys.argv[1], sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc)


def cert_for(key, name):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} {upn}")])
    # DER UTF8String: tag 0x0C, length, text.
    value = bytes([0x0C, len(upn)]) + upn.encode()
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([
                x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), value)]), critical=False)
            .sign(key, hashes.SHA256()))


def write(name, data):
    with open(f"{out}/{name}", "wb") as f:
        f.write(data)


pem = serialization.Encoding.PEM
plain = serialization.NoEncryption()
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
write("rsa.pem", cert_for(rsa_key, "rsa-client").public_bytes(pem))
write("rsa-pkcs1.key", rsa_key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, plain))
write("rsa-pkcs8.key", rsa_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, plain))
write("rsa-encrypted.key", rsa_key.private_bytes(
    pem, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"secret")))
ec_key = ec.generate_private_key(ec.SECP256R1())
write("ec.pem", cert_for(ec_key, "ec-client").public_bytes(pem))
write("ec-sec1.key", ec_key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, plain))
write("ec-pkcs8.key", ec_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, plain))
# Both certificates, as the server's CA file.
with open(f"{out}/rsa.pem", "rb") as a, open(f"{out}/ec.pem", "rb") as b:
    write("client-ca.pem", a.read() + b.read())
