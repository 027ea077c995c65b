#!/usr/bin/env python3
"""A package index for airlock's tests, serving a directory of wheels and sdists on 127.0.0.1.

usage: upstream.py DIR [--mode json|html] [--port N] [--tls CERT KEY] [--basic-auth USER:PASSWORD]

--mode json: PEP 691 JSON and PEP 503 HTML by Accept negotiation, PEP 658 metadata files, PEP 700
             fields, the PyPI JSON API at /pypi/<project>/json, ETag/If-None-Match, and PyPI's
             project serial (`_last-serial`, `last_serial`, `<!--SERIAL n-->`), which changes
             whenever the project's files or their yank state do.
--mode html: PEP 503 HTML only, no metadata files, no JSON API (like pypiserver or devpi).

Faults are injected through DIR/faults.json, re-read on every request:
  {"fail": {"<filename>": N}}          answer 500 to the first N requests for that file
  {"truncate": ["<filename>"]}          close the connection after half the body
  {"wrong_hash": ["<filename>"]}        declare a wrong sha256 for that file
  {"throttle": {"<filename>": BPS}}     send that file at BPS bytes per second
  {"malformed": {"<project>": "json"|"html"}}  serve a broken page for that project
  {"yanked": {"<filename>": "reason"}}   mark that file yanked (PEP 592)
  {"down": true}                        answer 500 to everything (an upstream outage)
  {"link": {"<filename>": "URL"}}        link that file to URL (any scheme) in the index
  {"redirect": {"<filename>": "URL"}}    answer that file with 302 to URL
  {"duplicate": ["<filename>"]}          list that file twice in its project's page
  {"no_hash": ["<filename>"]}            list that file without a sha256
  {"phantom": {"<project>": ["<filename>", ...]}}  list files that do not exist (a fake sha256)
  {"drip": {"<project>": BPS}}           send that project's page at BPS bytes per second
  {"status": {"<project>": ["quarantined", "reason"]}}  mark the project's status (PEP 792, api-version 1.4;
                                        its files stay listed, as an index that ignores the marker would)
A file FILE with a FILE.provenance beside it is listed with its PEP 740 provenance (api-version 1.3:
`provenance` in JSON, `data-provenance` in HTML), served at /integrity/FILE/provenance.
GET /_stats answers the number of requests per path, for tests to count fetches, and of request
headers seen per name starting with X- ("header:X-Name"). --tls serves HTTPS with that certificate;
--basic-auth answers 401 to every other request but /_stats (a private index).
"""
import hashlib
import html
import base64
import json
import os
import re
import ssl
import sys
import threading
import time
import zipfile
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = sys.argv[1]
MODE = "json"
PORT = 0
TLS = None
AUTH = None
args = sys.argv[2:]
while args:
    if args[0] == "--mode":
        MODE = args[1]
        args = args[2:]
    elif args[0] == "--port":
        PORT = int(args[1])
        args = args[2:]
    elif args[0] == "--tls":
        TLS = (args[1], args[2])
        args = args[3:]
    elif args[0] == "--basic-auth":
        AUTH = "Basic " + base64.b64encode(args[1].encode()).decode()
        args = args[2:]
    else:
        sys.exit(f"unknown argument {args[0]}")

STATS = {}
FAIL_COUNTS = {}
LOCK = threading.Lock()


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def faults():
    try:
        with open(os.path.join(ROOT, "faults.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def project_of(filename):
    if filename.endswith(".whl"):
        return normalize(filename.split("-")[0]), filename.split("-")[1]
    for ext in (".tar.gz", ".zip"):
        if filename.endswith(ext):
            name, _, version = filename[: -len(ext)].rpartition("-")
            return normalize(name), version
    return None, None


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wheel_metadata(path):
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            if n.count("/") == 1 and n.endswith(".dist-info/METADATA"):
                return z.read(n)
    return None


def projects():
    out = {}
    for filename in sorted(os.listdir(ROOT)):
        name, version = project_of(filename)
        if name:
            out.setdefault(name, []).append(filename)
    return out


def serial(files, f):
    state = "\n".join(f"{fn} {f.get('yanked', {}).get(fn, '')} {os.path.getmtime(os.path.join(ROOT, fn))}" for fn in sorted(files))
    return int(hashlib.sha256(state.encode()).hexdigest()[:8], 16)


def file_entry(filename, f):
    path = os.path.join(ROOT, filename)
    digest = sha256(path)
    if filename in f.get("wrong_hash", []):
        digest = "0" * 64
    meta = wheel_metadata(path) if filename.endswith(".whl") else None
    upload = datetime.fromtimestamp(os.path.getmtime(path), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "filename": filename,
        "url": f"/packages/{filename}",
        "hashes": {"sha256": digest},
        "requires-python": None,
        "size": os.path.getsize(path),
        "upload-time": upload,
        "yanked": f.get("yanked", {}).get(filename, False),
        "core-metadata": {"sha256": hashlib.sha256(meta).hexdigest()} if meta and MODE == "json" else False,
        "provenance": f"/integrity/{filename}/provenance" if os.path.isfile(path + ".provenance") else None,
        "_meta": meta,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_body(self, status, body, ctype, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def page(self, body, ctype):
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if MODE == "json" and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_body(200, body, ctype, {"ETag": etag} if MODE == "json" else {})

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        with LOCK:
            STATS[path] = STATS.get(path, 0) + 1
            for name in self.headers.keys():
                if name.lower().startswith("x-"):
                    STATS["header:" + name] = STATS.get("header:" + name, 0) + 1
        f = faults()
        if path == "/_stats":
            return self.send_body(200, json.dumps(STATS).encode(), "application/json")
        if AUTH and self.headers.get("Authorization") != AUTH:
            return self.send_body(401, b"credentials required\n", "text/plain", {"WWW-Authenticate": 'Basic realm="private"'})
        if f.get("down"):
            return self.send_body(500, b"upstream is down\n", "text/plain")
        if path.startswith("/packages/"):
            return self.serve_file(path[len("/packages/"):], f)
        m = re.fullmatch(r"/integrity/([^/]+)/provenance", path)
        if m and os.path.isfile(os.path.join(ROOT, m.group(1) + ".provenance")):
            with open(os.path.join(ROOT, m.group(1) + ".provenance"), "rb") as fh:
                return self.send_body(200, fh.read(), "application/json")
        m = re.fullmatch(r"/pypi/([^/]+)/json", path)
        if m and MODE == "json":
            return self.json_api(m.group(1), f)
        if path in ("/simple", "/simple/"):
            names = sorted(projects())
            body = "<!DOCTYPE html><html><body>" + "".join(f'<a href="{n}/">{n}</a>' for n in names) + "</body></html>"
            return self.page(body.encode(), "text/html")
        m = re.fullmatch(r"/simple/([^/]+)/?", path)
        if m:
            return self.project_page(m.group(1), f)
        self.send_body(404, b"not found\n", "text/plain")

    def project_page(self, raw, f):
        name = normalize(raw)
        files = projects().get(name)
        if not files:
            return self.send_body(404, b"no such project\n", "text/plain")
        broken = f.get("malformed", {}).get(name)
        if broken == "json":
            return self.send_body(200, b'{"meta": {"api-version": "1.1"}, "files": [{"filename": ', "application/vnd.pypi.simple.v1+json")
        if broken == "html":
            return self.send_body(200, b'<html><body><a href="/packages/x.whl>broken', "text/html")
        entries = [file_entry(fn, f) for fn in files]
        entries += [e for fn in files if fn in f.get("duplicate", []) for e in [file_entry(fn, f)]]
        for fn in f.get("phantom", {}).get(name, []):
            entries.append({"filename": fn, "url": f"/packages/{fn}", "hashes": {"sha256": "1" * 64}, "size": 1, "yanked": False, "core-metadata": False})
        for e in entries:
            e["url"] = f.get("link", {}).get(e["filename"], e["url"])
            if e["filename"] in f.get("no_hash", []):
                e["hashes"] = {}
        drip = f.get("drip", {}).get(name)
        if drip:
            return self.drip(drip)
        accept = self.headers.get("Accept", "")
        if MODE == "json" and "application/vnd.pypi.simple.v1+json" in accept:
            status = f.get("status", {}).get(name)
            version = "1.4" if status else "1.3" if any(e.get("provenance") for e in entries) else "1.1"
            doc = {"meta": {"api-version": version, "_last-serial": serial(files, f)}, "name": name, "versions": sorted({project_of(e["filename"])[1] for e in entries}),
                   "files": [{k: v for k, v in e.items() if not k.startswith("_") and v is not None} for e in entries]}
            if status:
                doc["project-status"] = {"status": status[0], "reason": status[1]}
            return self.page(json.dumps(doc).encode(), "application/vnd.pypi.simple.v1+json")
        links = []
        for e in entries:
            attrs = f'href="{e["url"]}#sha256={e["hashes"]["sha256"]}"' if e["hashes"] else f'href="{e["url"]}"'
            if e["yanked"] is not False:
                attrs += f' data-yanked="{html.escape(e["yanked"])}"'
            if e["core-metadata"]:
                attrs += f' data-core-metadata="sha256={e["core-metadata"]["sha256"]}"'
            if e.get("provenance"):
                attrs += f' data-provenance="{e["provenance"]}"'
            links.append(f"<a {attrs}>{html.escape(e['filename'])}</a><br/>")
        status = f.get("status", {}).get(name)
        meta = (f'<meta name="pypi:project-status" content="{html.escape(status[0])}"><meta name="pypi:project-status-reason" content="{html.escape(status[1])}">'
                if status else "")
        body = f"<!DOCTYPE html><html><head>{meta}<title>Links for {name}</title></head><body><h1>Links for {name}</h1>{''.join(links)}</body></html>"
        if MODE == "json":
            body += f"<!--SERIAL {serial(files, f)}-->"
        ctype = "application/vnd.pypi.simple.v1+html" if MODE == "json" else "text/html"
        self.page(body.encode(), ctype)

    def drip(self, rate):
        body = b"<!DOCTYPE html><html><body>" + b" " * 100000 + b"</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(0, len(body), rate):
                self.wfile.write(body[i:i + rate])
                self.wfile.flush()
                time.sleep(1)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def json_api(self, raw, f):
        name = normalize(raw)
        files = projects().get(name)
        if not files:
            return self.send_body(404, b"{}", "application/json")
        releases = {}
        for fn in files:
            e = file_entry(fn, f)
            releases.setdefault(project_of(fn)[1], []).append({"filename": fn, "upload_time_iso_8601": e["upload-time"]})
        doc = {"info": {"name": name, "author": "Test Author", "author_email": "author@example.org", "maintainer": "", "maintainer_email": ""},
               "releases": releases, "last_serial": serial(files, f)}
        self.page(json.dumps(doc).encode(), "application/json")

    def serve_file(self, filename, f):
        meta_request = filename.endswith(".metadata")
        base = filename[: -len(".metadata")] if meta_request else filename
        path = os.path.join(ROOT, base)
        if "/" in base or not os.path.isfile(path):
            return self.send_body(404, b"no such file\n", "text/plain")
        if meta_request:
            meta = wheel_metadata(path) if MODE == "json" else None
            if meta is None:
                return self.send_body(404, b"no metadata\n", "text/plain")
            return self.send_body(200, meta, "application/octet-stream")
        target = f.get("redirect", {}).get(filename)
        if target:
            return self.send_body(302, b"moved\n", "text/plain", {"Location": target})
        with LOCK:
            budget = f.get("fail", {}).get(filename, 0)
            seen = FAIL_COUNTS.get(filename, 0)
            FAIL_COUNTS[filename] = seen + 1
        if seen < budget:
            return self.send_body(500, b"injected failure\n", "text/plain")
        with open(path, "rb") as fh:
            data = fh.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if filename in f.get("truncate", []):
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        rate = f.get("throttle", {}).get(filename)
        if rate:
            step = max(1, rate // 10)
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                time.sleep(0.1)
            return
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
if TLS:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*TLS)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
