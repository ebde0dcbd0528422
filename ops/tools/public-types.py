#!/usr/bin/env python3
"""Lists the public top-level types of our main code and the other packages that name them.

A type that no other package names can be package-private (docs/architecture.md, "Module APIs"):
  ops/tools/public-types.py              every public top-level type, with the packages naming it
  ops/tools/public-types.py --unused     only those no other package names (candidates; the few that
                                         must stay public all the same are listed below)
  ops/tools/public-types.py --count      the number of public top-level types per module

"Naming" is textual and deliberately generous (an import of the type, of a type nested in it, a
static import from it, a wildcard import of its package together with its simple name, or its fully
qualified name anywhere, including resources such as META-INF/services and Thymeleaf templates), so
a candidate is one the compiler has the last word on: compile after each change.
Run from the repository root; reads sources only.
"""
import os
import re
import sys
from collections import defaultdict

MODULES = ["platform/core", "platform/tokenizer", "platform/launcher", "gpu-worker", "rag", "verticles",
           "admin-web", "bench"]
TOP_LEVEL = re.compile(r"^public\s+(?:(?:final|abstract|sealed|non-sealed|static|strictfp)\s+)*"
                       r"(?:class|interface|record|enum|@interface)\s+(\w+)", re.M)
PACKAGE = re.compile(r"^package\s+([\w.]+)\s*;", re.M)
IMPORT = re.compile(r"^import\s+(static\s+)?([\w.]+)(\.\*)?\s*;", re.M)
RESOURCE_EXT = (".html", ".xml", ".properties", ".json", ".yaml", ".yml", ".txt")
# Public although no other package names them: other packages call methods on them, reached as results
# of public methods (javac: "defined in an inaccessible class or interface").
REACHED_THROUGH_RESULTS = {"ai.deepchat.gpu.engine.EngineStats", "ai.deepchat.gpu.engine.ModelInfo",
                           "ai.deepchat.platform.outbound.PinnedTarget", "ai.deepchat.chat.dispatch.ModelBackend"}


def source_files():
    for root, dirs, files in os.walk("."):
        dirs[:] = [d for d in dirs if d not in ("target", "node_modules", ".git")]
        for name in files:
            if name.endswith(".java") or "META-INF" in root or name.endswith(RESOURCE_EXT):
                yield os.path.join(root, name)


def module_of(path):
    for module in MODULES:
        if path.startswith("./" + module + "/"):
            return module
    return None


def main(argv):
    files = {}
    for path in source_files():
        try:
            with open(path, encoding="utf-8") as f:
                files[path] = f.read()
        except (UnicodeDecodeError, OSError):
            continue
    # public top-level types of main code: fqn -> (module, package, simple name, path)
    types = {}
    package_of = {}
    for path, text in files.items():
        if not path.endswith(".java"):
            continue
        m = PACKAGE.search(text)
        package_of[path] = m.group(1) if m else ""
        if "/src/main/java/" not in path:
            continue
        for name in TOP_LEVEL.findall(text):
            if os.path.basename(path) == name + ".java":
                types[package_of[path] + "." + name] = (module_of(path), package_of[path], name, path)
    by_simple = defaultdict(list)
    for fqn, (_, pkg, name, _) in types.items():
        by_simple[name].append(fqn)

    users = defaultdict(set)  # fqn -> packages (or resource files) naming it from outside its package
    for path, text in files.items():
        if not path.endswith(".java"):
            for fqn in types:
                if fqn in text:
                    users[fqn].add(path)
            continue
        pkg = package_of.get(path, "")
        words = set(re.findall(r"\b[A-Z]\w*\b", text))
        for static, target, wildcard in IMPORT.findall(text):
            if wildcard and not static:
                for name in words:
                    fqn = target + "." + name
                    if fqn in types and types[fqn][1] != pkg:
                        users[fqn].add(pkg)
                continue
            # the import names the type itself or something nested in it
            parts = target.split(".")
            for i in range(len(parts), 0, -1):
                fqn = ".".join(parts[:i])
                if fqn in types:
                    if types[fqn][1] != pkg:
                        users[fqn].add(pkg)
                    break
        for fqn in types:
            if types[fqn][1] != pkg and fqn in text and re.search(re.escape(fqn) + r"\b", text):
                users[fqn].add(pkg)

    if "--count" in argv:
        counts = defaultdict(int)
        for fqn, (module, *_rest) in types.items():
            counts[module] += 1
        for module in MODULES:
            print(f"{counts[module]:4d}  {module}")
        print(f"{len(types):4d}  total")
        return
    for fqn in sorted(types, key=lambda t: (types[t][0] or "", t)):
        module, _, _, path = types[fqn]
        if "--unused" in argv:
            if not users[fqn] and fqn not in REACHED_THROUGH_RESULTS:
                print(path)
        else:
            print(f"{module}\t{fqn}\t{', '.join(sorted(users[fqn])) or '-'}")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except BrokenPipeError:  # piped into head
        pass
