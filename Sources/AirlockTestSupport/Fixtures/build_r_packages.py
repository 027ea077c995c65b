#!/usr/bin/env python3
"""Builds real R source packages for airlock's CRAN tests with `R CMD build`.

usage: build_r_packages.py OUTDIR NAME==VERSION...

The packages form a chain that exercises every dependency field:
  cranapp  Depends: cranc (>= 0.2); Imports: cranbase (>= 1.0), stats (ships with R)
  cranc    Imports: cranbase; LinkingTo: cranlink; one compiled C file
  cranlink a header-only package (inst/include), used through LinkingTo
  cranbase plain R
  cranevil plain R (the tests' unapproved package)
  cranfetch a configure script that downloads from $CRANFETCH_URL (the sandboxed-build test)
Each function returns a string naming its version, so a test can tell which version loaded.
"""
import os
import shutil
import subprocess
import sys
import tempfile

PACKAGES = {
    "cranbase": dict(
        fields={"Imports": None},
        r='base_greet <- function(x) paste0("hello ", x, " from cranbase {version}")\n',
        namespace="export(base_greet)\n",
    ),
    "cranlink": dict(
        fields={},
        files={"inst/include/cranlink.h": "static inline int cranlink_twice(int x) { return 2 * x; }\n"},
        r="",
        namespace="",
    ),
    "cranc": dict(
        fields={"Imports": "cranbase", "LinkingTo": "cranlink", "NeedsCompilation": "yes", "SystemRequirements": "GNU make, a C99\n    compiler"},
        files={
            "src/twice.c": (
                "#include <R.h>\n#include <Rinternals.h>\n#include <cranlink.h>\n"
                "SEXP c_twice(SEXP x) { return ScalarInteger(cranlink_twice(asInteger(x))); }\n"
            )
        },
        r="twice <- function(x) .Call(c_twice, as.integer(x))\n",
        namespace="useDynLib(cranc, c_twice)\nexport(twice)\n",
    ),
    "cranapp": dict(
        fields={"Depends": "R (>= 3.5), cranc (>= 0.2)", "Imports": "cranbase (>= 1.0), stats"},
        r='app_run <- function() paste(cranbase::base_greet("app"), twice(21), "cranapp {version}", stats::median(c(1, 3)))\n',
        namespace="export(app_run)\nimportFrom(cranbase, base_greet)\n",
    ),
    "cranevil": dict(fields={}, r='evil <- function() "evil {version}"\n', namespace="export(evil)\n"),
    # Its configure downloads "the library sources" from $CRANFETCH_URL (given when the package is built):
    # a sandboxed build, which has no network, must fail there.
    "cranfetch": dict(
        fields={},
        files={
            "configure": (
                "#!/bin/sh\n"
                "echo 'configure: downloading the library sources from {fetch_url}'\n"
                "curl -fsS --max-time 10 -o /dev/null '{fetch_url}' || { echo 'configure: error: cannot download the library sources'; exit 1; }\n"
            )
        },
        r='fetched <- function() "fetched {version}"\n',
        namespace="export(fetched)\n",
    ),
}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def build(name, version, outdir):
    spec = PACKAGES[name]
    work = tempfile.mkdtemp(prefix="rpkg-")
    src = os.path.join(work, name)
    lines = [
        f"Package: {name}",
        f"Version: {version}",
        f"Title: Test Package {name}",
        f"Description: A package airlock's tests build to mirror and install.",
        f"Authors@R: person(\"Ada\", \"Lovelace\", email = \"ada@example.org\", role = c(\"aut\", \"cre\"))",
        f"Maintainer: Ada Lovelace <ada@example.org>",
        "License: GPL-2 | GPL-3",
        "Encoding: UTF-8",
    ]
    for key, value in spec["fields"].items():
        if value:
            lines.append(f"{key}: {value}")
    write(os.path.join(src, "DESCRIPTION"), "\n".join(lines) + "\n")
    write(os.path.join(src, "NAMESPACE"), spec["namespace"])
    if spec["r"]:
        write(os.path.join(src, "R", name + ".R"), spec["r"].replace("{version}", version))
    for rel, text in spec.get("files", {}).items():
        write(os.path.join(src, rel), text.replace("{fetch_url}", os.environ.get("CRANFETCH_URL", "http://127.0.0.1:9/")))
        if rel == "configure":
            os.chmod(os.path.join(src, rel), 0o755)
    env = dict(os.environ, R_LIBS_USER=work)
    r = subprocess.run(["R", "CMD", "build", "--no-build-vignettes", "--no-manual", name], cwd=work, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"R CMD build {name} failed:\n{r.stdout}\n{r.stderr}")
    os.makedirs(outdir, exist_ok=True)
    shutil.move(os.path.join(work, f"{name}_{version}.tar.gz"), os.path.join(outdir, f"{name}_{version}.tar.gz"))
    shutil.rmtree(work)


if __name__ == "__main__":
    out = sys.argv[1]
    for arg in sys.argv[2:]:
        name, version = arg.split("==")
        build(name, version, out)
