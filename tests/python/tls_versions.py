"""Offers one TLS version at a time to HOST:PORT and prints what happened.

Usage: tls_versions.py HOST PORT. For each of TLS 1.0, 1.1, 1.2, 1.3:
`accepted VERSION`, or `refused REASON` when the server answered with an
alert. A client-side refusal (OpenSSL not offering the version at all) is
reported as `client-cannot-offer`, so that a test cannot pass without the
server having said no.
"""

import socket
import ssl
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
host, port = sys.argv[1], int(sys.argv[2])
for name in ["TLSv1", "TLSv1_1", "TLSv1_2", "TLSv1_3"]:
    version = getattr(ssl.TLSVersion, name)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # Let OpenSSL offer the old versions at all.
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = version
    ctx.maximum_version = version
    try:
        with socket.create_connection((host, port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                print(name, "accepted", tls.version())
    except ssl.SSLError as e:
        reason = e.reason or str(e)
        if "ALERT" in reason:
            print(name, "refused", reason)
        else:
            print(name, "client-cannot-offer", reason)
