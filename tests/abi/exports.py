#!/usr/bin/env python3
"""The library's exports, its version script and its public prototypes must be one list.

usage: exports.py INCLUDE_DIR VERSION_SCRIPT LIBRARY.so

Fails (exit 1, naming each symbol) when a function declared ML_API in a public header is
missing from the version script or from the library's dynamic symbols, or when either of
those has a symbol no header declares; also when an export is not in a release node
(MEMLENS_x.y.z) or a symbol is listed twice.
"""
import glob
import os
import re
import subprocess
import sys


def header_names(incdir):
    names = {}
    for path in sorted(glob.glob(os.path.join(incdir, "*.h"))):
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        for m in re.finditer(r"\bML_API\b([^;{]*?)\(", text):
            decl = m.group(1)
            line_start = text.rfind("\n", 0, m.start()) + 1
            if text[line_start:m.start()].lstrip().startswith("#"):
                continue
            ident = re.findall(r"[A-Za-z_]\w*", decl)
            if ident:
                names.setdefault(ident[-1], os.path.basename(path))
    return names


def script_names(path):
    text = re.sub(r"/\*.*?\*/", " ", open(path, encoding="utf-8").read(), flags=re.S)
    nodes = {}
    dup = []
    for node, body in re.findall(r"([\w.]+)\s*\{(.*?)\}\s*[\w.\s]*;", text, flags=re.S):
        glob_part = body.split("local:")[0].replace("global:", "")
        for sym in re.findall(r"([\w*?]+)\s*;", glob_part):
            if sym in nodes:
                dup.append(sym)
            nodes[sym] = node
    return nodes, dup


def library_names(so):
    out = subprocess.run(["objdump", "-T", so], check=True, capture_output=True, text=True).stdout
    names = {}
    for line in out.splitlines():
        parts = line.split()
        # ADDR FLAGS... SECTION SIZE VERSION NAME; defined symbols have a real section
        if len(parts) < 4 or "*UND*" in parts or not re.match(r"^[0-9a-f]{8,}$", parts[0]):
            continue
        name, ver = parts[-1], parts[-2]
        if ver.startswith("(") or not name.startswith("ml_"):
            continue
        names[name] = ver
    return names


def main():
    incdir, script, so = sys.argv[1:4]
    hdr = header_names(incdir)
    scr, dup = script_names(script)
    lib = library_names(so)
    errors = []
    for s in dup:
        errors.append(f"{s}: listed twice in {script}")
    for s in scr:
        if any(c in s for c in "*?"):
            errors.append(f"{s}: a pattern in {script}; list each symbol")
    for s in sorted(set(hdr) - set(scr)):
        errors.append(f"{s}: declared ML_API in {hdr[s]} but not in {os.path.basename(script)}")
    for s in sorted(set(scr) - set(hdr)):
        if not any(c in s for c in "*?"):
            errors.append(f"{s}: in {os.path.basename(script)} but no public header declares it")
    for s in sorted(set(hdr) - set(lib)):
        errors.append(f"{s}: declared ML_API in {hdr[s]} but not exported by {os.path.basename(so)}")
    for s in sorted(set(lib) - set(hdr)):
        errors.append(f"{s}: exported by {os.path.basename(so)} but no public header declares it")
    for s, ver in sorted(lib.items()):
        if not re.match(r"^MEMLENS_\d+\.\d+\.\d+$", ver):
            errors.append(f"{s}: exported in version node {ver!r}, not a release node MEMLENS_x.y.z")
        elif s in scr and scr[s] != ver:
            errors.append(f"{s}: exported as {ver} but listed in {scr[s]}")
    for e in errors:
        print(e)
    print(f"{len(hdr)} public prototypes, {len(scr)} in the version script, {len(lib)} exported; "
          f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
