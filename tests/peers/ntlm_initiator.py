"""pyspnego's NTLM initiator, driven line by line by tests/peer_pyspnego.rs (our acceptor).

argv: USER PASSWORD [CBT_HEX]
Prints "TOKEN <negotiate hex>" first. Then commands: TOKEN <challenge hex> -> TOKEN <authenticate hex>;
WRAP <hex> -> WRAPPED <sig hex> <data hex>; UNWRAP <sig hex> <data hex> -> PLAIN <hex>; errors -> ERR <type> <msg>.
"""
import sys

import spnego
from spnego.channel_bindings import GssChannelBindings

user, password = sys.argv[1], sys.argv[2]
cbt = GssChannelBindings(application_data=bytes.fromhex(sys.argv[3])) if len(sys.argv) > 3 else None
client = spnego.client(user, password, hostname="sim-host-001", service="HTTP", protocol="ntlm", channel_bindings=cbt)
print("TOKEN", client.step().hex(), flush=True)
for line in sys.stdin:
    parts = line.split()
    try:
        if parts[0] == "TOKEN":
            out = client.step(bytes.fromhex(parts[1]))
            print("TOKEN", out.hex() if out else "-", flush=True)
        elif parts[0] == "WRAP":
            w = client.wrap_winrm(bytes.fromhex(parts[1]))
            print("WRAPPED", w.header.hex(), w.data.hex(), flush=True)
        elif parts[0] == "UNWRAP":
            print("PLAIN", client.unwrap_winrm(bytes.fromhex(parts[1]), bytes.fromhex(parts[2])).hex(), flush=True)
    except Exception as e:
        print("ERR", type(e).__name__, str(e).replace("\n", " "), flush=True)
