"""The test command of scripts/mutation: asks _mutation_server.py to run pytest with these arguments,
prints what it printed and exits with its code. Runs with ``python -I -S``: it imports only the
standard library.

    python -I -S _mutation_client.py SOCKET TIMEOUT PYTEST-ARGUMENTS...
"""

import json
import socket
import sys

path, timeout, arguments = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
    connection.connect(path)
    connection.sendall(json.dumps({"arguments": arguments, "timeout": timeout}).encode() + b"\n")
    reply = b"".join(iter(lambda: connection.recv(65536), b""))
code, _, text = reply.decode("utf-8", "replace").partition("\n")
sys.stdout.write(text)
sys.exit(int(code))
