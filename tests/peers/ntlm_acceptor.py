"""pyspnego's NTLM acceptor, driven line by line over stdin/stdout by tests/peer_pyspnego.rs.

Commands (hex payloads):  TOKEN <hex>  |  UNWRAP <sig hex> <data hex>  |  WRAP <hex>
Answers:  TOKEN <hex|-> <complete|continue> <principal|->  |  PLAIN <hex>  |  WRAPPED <sig hex> <data hex>
          ERR <ExceptionType> <message>
Credentials come from NTLM_USER_FILE; --cbt HEX sets the expected channel-binding application data.
"""
import sys

import spnego
from spnego.channel_bindings import GssChannelBindings


def main():
    cbt = None
    if len(sys.argv) == 3 and sys.argv[1] == "--cbt":
        cbt = GssChannelBindings(application_data=bytes.fromhex(sys.argv[2]))
    server = spnego.server(protocol="ntlm", channel_bindings=cbt)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        try:
            if parts[0] == "TOKEN":
                out = server.step(bytes.fromhex(parts[1]))
                principal = server.client_principal if server.complete else "-"
                state = "complete" if server.complete else "continue"
                print("TOKEN", out.hex() if out else "-", state, principal, flush=True)
            elif parts[0] == "UNWRAP":
                plain = server.unwrap_winrm(bytes.fromhex(parts[1]), bytes.fromhex(parts[2]))
                print("PLAIN", plain.hex(), flush=True)
            elif parts[0] == "WRAP":
                w = server.wrap_winrm(bytes.fromhex(parts[1]))
                print("WRAPPED", w.header.hex(), w.data.hex(), flush=True)
        except Exception as e:  # every failure is reported, typed, to the Rust side
            print("ERR", type(e).__name__, str(e).replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
