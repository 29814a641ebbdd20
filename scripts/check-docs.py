#!/usr/bin/env python3
"""Fails on a public declaration of AsyncPatterns without a `///` comment.

Reads the symbol graphs the compiler emits (`make docs-check` builds them) and lists every
public symbol that has no documentation comment of its own. Exempt: members a protocol
declares and the library only implements (`makeAsyncIterator`, `==`, `description`, ...),
whose documentation DocC takes from the protocol, and members the compiler synthesizes.
Usage: check-docs.py SYMBOLGRAPH_DIR [MODULE...]
"""
import json
import os
import sys


def main() -> int:
    directory = sys.argv[1]
    modules = sys.argv[2:] or ["AsyncPatterns"]
    missing = []
    total = 0
    for name in sorted(os.listdir(directory)):
        module = name.split(".symbols.json")[0].split("@")[0]
        if module not in modules or not name.endswith(".symbols.json"):
            continue
        with open(os.path.join(directory, name)) as f:
            graph = json.load(f)
        implements = {
            r["source"] for r in graph.get("relationships", []) if r["kind"] in ("requirementOf", "defaultImplementationOf")
        }
        overrides = {r["source"] for r in graph.get("relationships", []) if r["kind"] == "overrides"}
        conforming = {
            r["source"] for r in graph.get("relationships", []) if r["kind"] == "memberOf"
        }
        for symbol in graph["symbols"]:
            if symbol.get("accessLevel") != "public":
                continue
            usr = symbol["identifier"]["precise"]
            path = ".".join(symbol["pathComponents"])
            if path.split(".")[-1].startswith("_"):
                continue
            total += 1
            if symbol.get("docComment", {}).get("lines"):
                continue
            if "location" not in symbol:
                continue  # synthesized by the compiler (Codable, Hashable, RawRepresentable...)
            if "sourceOrigin" in symbol or usr in implements or usr in overrides:
                continue  # documented by the protocol it implements
            location = symbol.get("location", {})
            where = location.get("uri", "").split("/Sources/")[-1]
            line = location.get("position", {}).get("line", -1) + 1
            missing.append(f"{where}:{line}: {symbol['kind']['displayName'].lower()} {path}")
    for entry in sorted(set(missing)):
        print(entry)
    print(f"{total} public declarations, {len(set(missing))} without a /// comment")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
