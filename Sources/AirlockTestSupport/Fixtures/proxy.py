#!/usr/bin/env python3
"""An HTTP proxy for airlock's tests on 127.0.0.1: CONNECT tunnels (HTTPS through the proxy) and
absolute-form plain HTTP requests, to 127.0.0.1 only. Each request is printed as one line
("CONNECT 127.0.0.1:PORT", "GET http://..."), so a test can see what went through it.

usage: proxy.py [--port N]
"""
import select
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] == "--port" else 0
LOCK = threading.Lock()


def note(line):
    with LOCK:
        print(line, flush=True)


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        note(f"CONNECT {self.path}")
        if host != "127.0.0.1":
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        upstream = socket.create_connection((host, int(port)))
        self.send_response(200, "Connection established")
        self.end_headers()
        sockets = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], 30)
                if not ready:
                    break
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()
            self.close_connection = True

    def do_GET(self):
        note(f"GET {self.path}")
        url = urllib.parse.urlsplit(self.path)
        if url.hostname != "127.0.0.1":
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        upstream = socket.create_connection((url.hostname, url.port or 80))
        target = url.path + ("?" + url.query if url.query else "")
        head = f"GET {target} HTTP/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")) + "\r\n"
        upstream.sendall(head.encode())
        response = b""
        while chunk := upstream.recv(65536):
            response += chunk
        upstream.close()
        self.wfile.write(response)
        self.close_connection = True


server = ThreadingHTTPServer(("127.0.0.1", PORT), Proxy)
server.daemon_threads = True
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
