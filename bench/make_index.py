#!/usr/bin/env python3
"""Writes a static PEP 503 index of the wheels in DIR (DIR/simple/<project>/index.html), so nginx can
serve it as an HTML-only upstream. usage: make_index.py DIR"""
import hashlib
import os
import re
import sys

root = sys.argv[1]
projects = {}
for name in sorted(os.listdir(root)):
    if name.endswith(".whl"):
        projects.setdefault(re.sub(r"[-_.]+", "-", name.split("-")[0]).lower(), []).append(name)
for project, files in projects.items():
    os.makedirs(f"{root}/simple/{project}", exist_ok=True)
    links = []
    for f in files:
        h = hashlib.sha256(open(f"{root}/{f}", "rb").read()).hexdigest()
        links.append(f'<a href="/{f}#sha256={h}">{f}</a><br/>')
    with open(f"{root}/simple/{project}/index.html", "w") as out:
        out.write(f"<!DOCTYPE html><html><body><h1>Links for {project}</h1>{''.join(links)}</body></html>\n")
