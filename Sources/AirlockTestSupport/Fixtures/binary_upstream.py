#!/usr/bin/env python3
"""A binary R repository in Posit Package Manager's layout, for tests: serves DIRECTORY over HTTP on
127.0.0.1, and answers under /__linux__/ only to clients whose User-Agent is R's ("R (4.4.1 …)"), as
Package Manager answers binaries only to R. Prints "listening PORT".

usage: binary_upstream.py DIRECTORY
"""
import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/__linux__/") and not self.headers.get("User-Agent", "").startswith("R ("):
            self.send_error(404, "binaries are served to R only")
            return
        super().do_GET()

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.headers.get("User-Agent", "-"), fmt % args))
        sys.stdout.flush()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=sys.argv[1]))
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
