"""Checks of an installed, auditwheel-repaired wheel (python/build_wheel.sh --test runs the
suite from a fresh virtual environment with TENURE_TEST_WHEEL=1): the package comes from
site-packages, not the source tree, and every library the extension needs that is not part of
the system (glibc, libstdc++, libgcc) resolves inside the wheel."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

import tenure
from tenure import _native

# What manylinux lets a wheel take from the system.
SYSTEM = re.compile(r"^(linux-vdso\.so[.\d]*|ld-linux[-\w.]*|lib(c|m|dl|rt|pthread|util|resolv|"
                    r"gcc_s|stdc\+\+)\.so[.\d]*)$")

pytestmark = pytest.mark.skipif(os.environ.get("TENURE_TEST_WHEEL") != "1",
                                reason="only for an installed, repaired wheel "
                                       "(python/build_wheel.sh --test)")


def test_imported_from_site_packages_not_the_source_tree() -> None:
    pkg = Path(tenure.__file__).resolve().parent
    assert "site-packages" in pkg.parts, pkg
    repo_src = Path(__file__).resolve().parents[1] / "src"
    assert not str(pkg).startswith(str(repo_src))
    assert tenure.library_version() == tenure.__version__


def test_ldd_resolves_every_non_system_library_inside_the_wheel() -> None:
    ext = Path(_native.__file__).resolve()
    site = ext.parent.parent
    out = subprocess.run(["ldd", str(ext)], check=True, capture_output=True, text=True).stdout
    assert "not found" not in out, out
    inside = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s*(?:=>\s*(\S+))?", line)
        if not m:
            continue
        name, path = m.group(1), m.group(2)
        if SYSTEM.match(name) or name.startswith("/"):
            continue
        assert path and Path(path).resolve().is_relative_to(site), f"{name} => {path}\n{out}"
        inside.append(name)
    names = " ".join(inside)
    for lib in ("libtenure", "libhiredis", "libpq", "libssl", "libcrypto"):
        assert lib in names, out
