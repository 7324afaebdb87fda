#!/usr/bin/env python3
"""Every Swift snippet of the docs, compiled by the Swift package's test target.

Extracts each fenced ```swift block of README.md, docs/*.md, ios/README.md and
bindings/README.md into ios/Tests/DashQRSyncTests/DocSnippets.swift, so that `swift build
--build-tests` / `swift test` in ios/ (on a Mac: there is no Swift toolchain on the project's
Linux machines) fails when a snippet no longer compiles against the package's public API.

    python3 scripts/swift-doc-snippets.py           # (re)write the generated file
    python3 scripts/swift-doc-snippets.py --check   # fail if it is stale (CI, runs anywhere)
    python3 scripts/swift-doc-snippets.py --list    # print what was found, one line a block

How a block is compiled is chosen by words after `swift` in its info string (renderers use
only the first word, so the document looks the same):

  ```swift              statements (the default). Placed as the body of a function
                        `async throws` that nothing calls, so `try` and `await` are checked
                        and nothing runs. A snippet may use these names without declaring
                        them, as the app's own values (they are the function's parameters):
                            store: HostStore          the app's store
                            listener: SyncListener    the app's listener
                            simnet: Simnet            a running simulated network
                            simnetAddress: String     that network's "IP:port"
                        A snippet that declares one of them shadows it.
  ```swift file-scope   declarations (types, extensions, typealiases, functions), placed at
                        file scope as written. Their names share the test target's namespace:
                        pick names the tests do not use.
  ```swift manifest     a Package.swift manifest: it imports PackageDescription, which no
                        target can, so it is not compiled; it is listed in the generated file
                        only so that its omission is visible.

Any other word after `swift` is an error (a typo would otherwise hide a block from the check).
The generated file imports Foundation and DashQRSync (not `@testable`): a snippet compiles
only through the public API, and a bare `Progress` is ambiguous there exactly as in an app.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUTPUT = "ios/Tests/DashQRSyncTests/DocSnippets.swift"
MODES = ("body", "file-scope", "manifest")
# The names a statement snippet may use without declaring them (see the docstring).
CONTEXT = "store: HostStore, listener: SyncListener, simnet: Simnet, simnetAddress: String"

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def sources():
    """The documents scanned, in a fixed order (repository-relative paths)."""
    names = ["README.md"]
    names += sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))
    names += ["ios/README.md", "bindings/README.md"]
    return [n for n in names if (ROOT / n).is_file()]


class Snippet:
    def __init__(self, path, line, ordinal, mode, lines):
        self.path = path  # repository-relative document
        self.line = line  # 1-based line of the opening fence
        self.ordinal = ordinal  # 1-based among the document's Swift blocks
        self.mode = mode
        self.lines = lines  # the block's lines, fence indentation removed

    @property
    def ident(self):
        base = re.sub(r"[^A-Za-z0-9]+", "_", self.path.removesuffix(".md")).strip("_")
        return f"{base}_{self.ordinal}"


def extract(path):
    """The Swift blocks of one document; raises ValueError on an unknown mode or open fence."""
    text = (ROOT / path).read_text(encoding="utf-8").splitlines()
    out = []
    i = 0
    while i < len(text):
        m = FENCE.match(text[i])
        if not m:
            i += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent"))
        if fence[0] == "`" and "`" in m.group("info"):
            i += 1  # CommonMark: not a fence (a backtick fence's info has no backtick)
            continue
        words = m.group("info").split()
        start = i
        body = []
        i += 1
        closed = False
        while i < len(text):
            c = FENCE.match(text[i])
            if c and c.group("fence")[0] == fence[0] and len(c.group("fence")) >= len(fence) \
                    and not c.group("info").strip():
                closed = True
                break
            line = text[i]
            # CommonMark: remove up to the opening fence's indentation from each line.
            strip = len(line) - len(line.lstrip(" "))
            body.append(line[min(strip, indent):])
            i += 1
        if not closed:
            raise ValueError(f"{path}:{start + 1}: code block never closed")
        i += 1
        if not words or words[0].lower() != "swift":
            continue
        attrs = words[1:]
        if len(attrs) > 1 or (attrs and attrs[0] not in MODES[1:]):
            raise ValueError(
                f"{path}:{start + 1}: unknown swift block attribute {' '.join(attrs)!r} "
                f"(known: {', '.join(MODES[1:])}; see scripts/swift-doc-snippets.py)")
        mode = attrs[0] if attrs else "body"
        ordinal = sum(1 for s in out) + 1
        out.append(Snippet(path, start + 1, ordinal, mode, body))
    return out


def all_snippets():
    found = []
    for path in sources():
        found += extract(path)
    return found


def render(snippets):
    out = [
        "// GENERATED by scripts/swift-doc-snippets.py from the ```swift blocks of the docs: do not",
        "// edit; change the document and rerun the script (CI runs it with --check).",
        "//",
        "// Compile-only: nothing here is called. Statement snippets are bodies of `async throws`",
        "// functions whose parameters are the app's values a snippet may name without declaring",
        "// them; `file-scope` snippets are placed as written. Compiled by `swift build",
        "// --build-tests` / `swift test` in ios/ on a Mac (no Swift toolchain on the project's",
        "// Linux machines, where it has never been compiled).",
        "// Plain import, not @testable: a snippet may use only what an app can.",
        "import Foundation",
        "import DashQRSync",
        "",
    ]
    for s in snippets:
        where = f"{s.path}, Swift block {s.ordinal}"
        if s.mode == "manifest":
            out.append(f"// {where}: a Package.swift manifest, not compiled here (it imports")
            out.append("// PackageDescription, which a package target cannot).")
            out.append("")
            continue
        if s.mode == "file-scope":
            out.append(f"// {where} (file scope)")
            out += s.lines
            out.append("")
            continue
        out.append(f"// {where}")
        out.append(f"func docSnippet_{s.ident}({CONTEXT}) async throws {{")
        out += [("    " + l) if l.strip() else "" for l in s.lines]
        out.append("}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode not in ("", "--check", "--list") or len(argv) > 2:
        print(f"usage: {argv[0]} [--check | --list]", file=sys.stderr)
        return 2
    try:
        snippets = all_snippets()
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    if mode == "--list":
        for s in snippets:
            print(f"{s.path}:{s.line}\t{s.mode}\t{len(s.lines)} lines")
        return 0
    text = render(snippets)
    target = ROOT / OUTPUT
    if mode == "--check":
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != text:
            print(f"{OUTPUT} is stale (a ```swift block of the docs changed): run "
                  "python3 scripts/swift-doc-snippets.py and commit the result", file=sys.stderr)
            return 1
        compiled = sum(1 for s in snippets if s.mode != "manifest")
        print(f"{OUTPUT} holds the docs' {len(snippets)} Swift blocks "
              f"({compiled} compiled on a Mac, {len(snippets) - compiled} manifest)")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"{OUTPUT}: {len(snippets)} Swift blocks written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
