"""pywinrm as the reference WinRM client against the simulator (tests/sim_pywinrm.rs).

argv: ENDPOINT USER PASSWORD [TRANSPORT]. NTLM (or TRANSPORT: kerberos, from the ccache in
KRB5CCNAME; USER and PASSWORD unused) with message encryption "always", through pywinrm's
protocol layer: Enumerate root/wmi:Microsoft_IPMI, then Invoke RequestResponse (Get Device ID)
with a raw SOAP body written here, independently of the Rust builders. Prints one JSON line.
"""
import json
import sys
import uuid
import xml.etree.ElementTree as ET

from winrm.protocol import Protocol

endpoint, user, password = sys.argv[1:4]
transport = sys.argv[4] if len(sys.argv) > 4 else "ntlm"
URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/wmi/Microsoft_IPMI"
NS = {"s": "http://www.w3.org/2003/05/soap-envelope", "p": URI,
      "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration", "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"}


def envelope(action, body, selectors=""):
    return f"""<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
<s:Header><a:To>{endpoint}</a:To><w:ResourceURI s:mustUnderstand="true">{URI}</w:ResourceURI>
<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
<a:Action s:mustUnderstand="true">{action}</a:Action><w:MaxEnvelopeSize s:mustUnderstand="true">153600</w:MaxEnvelopeSize>
<a:MessageID>uuid:{uuid.uuid4()}</a:MessageID><w:OperationTimeout>PT20S</w:OperationTimeout>{selectors}</s:Header>
<s:Body>{body}</s:Body></s:Envelope>"""


if transport == "kerberos":
    p = Protocol(endpoint, transport="kerberos", username=None, password=None, message_encryption="always")
else:
    p = Protocol(endpoint, transport="ntlm", username=user, password=password, message_encryption="always")
enum = p.transport.send_message(envelope(
    "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
    "<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements></n:Enumerate>"))
root = ET.fromstring(enum)
instance = root.find(".//p:Microsoft_IPMI/p:InstanceName", NS).text
bmc_address = int(root.find(".//p:Microsoft_IPMI/p:BMCAddress", NS).text)
sel = f'<w:SelectorSet><w:Selector Name="InstanceName">{instance}</w:Selector></w:SelectorSet>'
body = (f'<p:RequestResponse_INPUT xmlns:p="{URI}"><p:NetworkFunction>6</p:NetworkFunction><p:Lun>0</p:Lun>'
        f'<p:ResponderAddress>{bmc_address}</p:ResponderAddress><p:Command>1</p:Command>'
        '<p:RequestDataSize>0</p:RequestDataSize></p:RequestResponse_INPUT>')
out = ET.fromstring(p.transport.send_message(envelope(URI + "/RequestResponse", body, sel)))
bench = int(__import__("os").environ.get("BENCH_REQUESTS", "0"))
if bench:
    # scripts/bench.sh: the same request N more times, parsed as above; process CPU per request.
    import time
    for _ in range(bench // 10):
        ET.fromstring(p.transport.send_message(envelope(URI + "/RequestResponse", body, sel)))
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(bench):
        reply = ET.fromstring(p.transport.send_message(envelope(URI + "/RequestResponse", body, sel)))
        [int(e.text) for e in reply.findall(".//p:RequestResponse_OUTPUT/p:ResponseData", NS)]
    c1, t1 = time.process_time(), time.perf_counter()
    print(f"pywinrm: {(c1 - c0) / bench * 1e6:.1f} CPU-us per sealed Get Device ID over {bench} requests; "
          f"{(t1 - t0) / bench * 1e6:.1f} us wall each", flush=True)
    sys.exit(0)
data = [int(e.text) for e in out.findall(".//p:RequestResponse_OUTPUT/p:ResponseData", NS)]
print(json.dumps({
    "instance": instance,
    "bmc_address": bmc_address,
    "completion_code": int(out.find(".//p:CompletionCode", NS).text),
    "size": int(out.find(".//p:ResponseDataSize", NS).text),
    "data": data,
}), flush=True)
