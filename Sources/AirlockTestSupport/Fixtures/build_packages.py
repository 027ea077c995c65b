#!/usr/bin/env python3
"""Builds real wheels and sdists for airlock's tests from a JSON spec.

usage: build_packages.py SPEC.json OUTDIR

SPEC is a list of packages:
  {"name": "alpha", "version": "1.0", "requires": ["beta>=1"], "requires_python": ">=3.8",
   "extras": {"fast": ["gamma"]}, "kinds": ["wheel", "sdist"], "code": "def hello(): return 'hi'",
   "hostile": "zipbomb" | "traversal" | "no-metadata" | "wrong-name" (optional), "tag": "py3-none-any",
   "payload_kib": N (optional: N KiB of random bytes, stored uncompressed, to make a large wheel),
   "extra_files": {"path": "text" or "b64:..."} (optional: more members, relative to the wheel root or
                  the sdist's directory; "{distinfo}" in a path names the wheel's .dist-info)}
Wheels follow the wheel spec (dist-info with METADATA, WHEEL, RECORD with sha256 entries), so pip and
uv install them; sdists carry PKG-INFO and a pyproject.toml.
"""
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import zipfile


def normalize_module(name):
    return name.lower().replace("-", "_").replace(".", "_")


def metadata_text(p):
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {p['name']}",
        f"Version: {p['version']}",
        f"Summary: airlock test package {p['name']}",
        f"Author: {p.get('author', 'Test Author')}",
        f"Author-email: {p.get('author_email', 'author@example.org')}",
        f"License: {p.get('license', 'MIT')}",
    ]
    if p.get("license_expression"):
        lines.append(f"License-Expression: {p['license_expression']}")
    for c in p.get("classifiers", []):
        lines.append(f"Classifier: {c}")
    if p.get("requires_python"):
        lines.append(f"Requires-Python: {p['requires_python']}")
    if p.get("source_url"):
        lines.append(f"Project-URL: Source, {p['source_url']}")
    for r in p.get("requires", []):
        lines.append(f"Requires-Dist: {r}")
    for extra, reqs in p.get("extras", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for r in reqs:
            lines.append(f'Requires-Dist: {r} ; extra == "{extra}"')
    return "\n".join(lines) + "\n\nA package built by airlock's tests.\n"


def extra_files(p, distinfo):
    out = {}
    for path, text in p.get("extra_files", {}).items():
        out[path.replace("{distinfo}", distinfo)] = base64.b64decode(text[4:]) if text.startswith("b64:") else text.encode()
    return out


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(p, outdir):
    module = normalize_module(p["name"])
    dist_name = normalize_module(p["name"])
    tag = p.get("tag", "py3-none-any")
    filename = f"{dist_name}-{p['version']}-{tag}.whl"
    distinfo = f"{dist_name}-{p['version']}.dist-info"
    code = p.get("code", f"def hello():\n    return '{p['name']} {p['version']}'\n")
    files = {f"{module}/__init__.py": (code + f"\n__version__ = '{p['version']}'\n").encode()}
    hostile = p.get("hostile")
    if hostile != "no-metadata":
        meta = metadata_text(p)
        if hostile == "wrong-name":
            meta = meta.replace(f"Name: {p['name']}", "Name: somebody-else")
        if p.get("line_endings") == "crlf":
            meta = meta.replace("\n", "\r\n")
        files[f"{distinfo}/METADATA"] = meta.encode()
    files.update(extra_files(p, distinfo))
    files[f"{distinfo}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: airlock-tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    record = [record_line(k, v) for k, v in files.items()] + [f"{distinfo}/RECORD,,"]
    files[f"{distinfo}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = os.path.join(outdir, filename)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
        if p.get("payload_kib"):
            z.writestr(zipfile.ZipInfo(f"{module}/payload.bin"), os.urandom(p["payload_kib"] * 1024), compress_type=zipfile.ZIP_STORED)
        if hostile == "traversal":
            z.writestr("../../evil.py", b"print('escaped')\n")
        if hostile == "zipbomb":
            info = zipfile.ZipInfo(f"{module}/data.bin")
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as w:
                block = b"\0" * (1 << 20)
                for _ in range(p.get("bomb_mib", 64)):
                    w.write(block)
    return filename


def build_sdist(p, outdir):
    base = f"{normalize_module(p['name'])}-{p['version']}"
    filename = f"{base}.tar.gz"
    module = normalize_module(p["name"])
    code = p.get("code", f"def hello():\n    return '{p['name']} {p['version']}'\n")
    deps = ", ".join(json.dumps(r) for r in p.get("requires", []))
    files = {
        f"{base}/{module}/__init__.py": (code + f"\n__version__ = '{p['version']}'\n").encode(),
        f"{base}/pyproject.toml": (
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n"
            f"[project]\nname = \"{p['name']}\"\nversion = \"{p['version']}\"\ndependencies = [{deps}]\n"
        ).encode(),
    }
    if p.get("hostile") != "no-metadata":
        files[f"{base}/PKG-INFO"] = metadata_text(p).replace("Metadata-Version: 2.1", "Metadata-Version: 2.2").encode()
    files.update({f"{base}/{k}": v for k, v in extra_files(p, "").items()})  # may replace PKG-INFO
    path = os.path.join(outdir, filename)
    with tarfile.open(path, "w:gz") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))
        if p.get("hostile") == "traversal":
            data = b"escaped\n"
            info = tarfile.TarInfo("../escape.txt")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return filename


def main():
    spec = json.load(open(sys.argv[1]))
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    built = []
    for p in spec:
        for kind in p.get("kinds", ["wheel"]):
            built.append(build_wheel(p, outdir) if kind == "wheel" else build_sdist(p, outdir))
    json.dump(built, sys.stdout)


if __name__ == "__main__":
    main()
