#!/usr/bin/env python3
"""Scores portcullis's code rules (PC1xx) against the labelled corpus, and counts its findings
on well-known public servers (CONVENTIONS.md, rule 11).

Usage:
    scripts/corpus-score.py [--corpus DIR] [--public DIR] [--manifest FILE] [--binary PATH]

The corpora (corpus/python/<server>/ and corpus/typescript/<server>/, scored apart) carry their
answer key in the code, with the fixture
harness's annotations: `# ruleid: <rule-name>` (truly vulnerable) and `# ok: <rule-name>` (a safe
look-alike) on the line before the line they describe; `todoruleid` counts as `ruleid` and `todook`
as `ok`, since the corpus records the truth, not what the engine does today. A finding matches a
label when file, rule and start line are the same.

Public servers are never committed: corpus/public.toml records repository, commit and paths, and
`--public DIR` points at a folder holding a checkout of each under DIR/<name>/. Without it, the
public section is skipped.

It measures and never gates: the exit status is always 0.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Rules that describe one hazard at different precision: a miss of one paired with a finding of
# another in the same function is the same bug reported under the wrong rule.
FAMILIES = [
    {"shell-command-from-tool-argument", "command-allowlist-checks-only-prefix", "partial-shell-escaping",
     "argument-injection-from-tool-argument"},
    {"path-traversal-from-tool-argument", "prefix-check-without-separator", "archive-extraction-without-member-checks",
     "containment-check-without-resolving-links", "dotdot-check-misses-absolute-paths"},
    {"request-to-tool-chosen-url", "host-blocklist-without-dns-resolution"},
]
KINDS = [("todoruleid:", "ruleid"), ("todook:", "ok"), ("ruleid:", "ruleid"), ("ok:", "ok")]
# Source files of the languages with a frontend; `.d.ts` declarations are not source.
SOURCE_SUFFIXES = {".py", ".ts", ".mts", ".cts", ".tsx", ".js", ".jsx", ".mjs", ".cjs"}


def sources(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file()
                  and not p.name.endswith(".d.ts") and "node_modules" not in p.parts)


def binary(arg: str | None) -> str:
    return arg or os.environ.get("PORTCULLIS") or str(REPO / "target/release/portcullis")


def code_rules(exe: str) -> dict[str, str]:
    """Rule name -> code, for the PC1xx rules, from `portcullis rules`."""
    out = subprocess.run([exe, "rules"], capture_output=True, text=True, check=True).stdout
    rules = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.fullmatch(r"PC1\d\d", parts[0]):
            rules[parts[1]] = parts[0]
    return rules


def parse_annotation(line: str) -> list[tuple[str, str]] | None:
    """Same grammar as crates/portcullis_scan/tests/common/mod.rs."""
    t = line.lstrip()
    if t.startswith("//"):
        body = t[2:].strip()
    elif t.startswith("#"):
        body = t[1:].strip()
    else:
        return None
    for prefix, kind in KINDS:
        if body.startswith(prefix):
            rest = body[len(prefix):]
            return [(kind, r.strip()) for r in rest.split(",") if r.strip()]
    return None


def annotations(root: Path) -> tuple[dict, list[str]]:
    """{(file, rule, line): kind} for every source file under root, and problems found."""
    notes: dict[tuple[str, str, int], str] = {}
    problems = []
    for file in sources(root):
        rel = str(file.relative_to(root))
        pending: list[tuple[str, str]] = []
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
        for i, line in enumerate(lines):
            found = parse_annotation(line)
            if found is not None:
                pending.extend(found)
                continue
            for kind, rule in pending:
                key = (rel, rule, i + 1)
                if key in notes:
                    problems.append(f"{root.name}/{rel}:{i + 1}: `{rule}` labelled twice")
                notes[key] = kind
            pending = []
    return notes, problems


def functions(file: Path) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every function in a Python file (none for others)."""
    if file.suffix != ".py":
        return []
    try:
        tree = ast.parse(file.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, OSError):
        return []
    return [(n.lineno, n.end_lineno, n.name) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def enclosing(cache: dict, file: Path, line: int) -> tuple[str, str] | None:
    """The innermost function around a line, as (file, name), for pairing misses with findings."""
    if file not in cache:
        cache[file] = functions(file)
    spans = [(end - start, name) for start, end, name in cache[file] if start <= line <= end]
    return (str(file), min(spans)[1]) if spans else None


def scan(exe: str, target: Path) -> list[dict]:
    """PC1xx findings as dicts with an absolute `file`, deduplicated by (file, rule, line)."""
    proc = subprocess.run(
        [exe, "scan", ".", "--no-user-configs", "--format", "json", "-q"],
        cwd=target, capture_output=True, text=True,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(f"> portcullis failed on {target} (exit {proc.returncode}): {proc.stderr.strip()[:500]}\n")
        return []
    seen, findings = set(), []
    for f in report.get("findings", []):
        if not f["code"].startswith("PC1"):
            continue
        file = (target / f["path"]).resolve()
        key = (file, f["rule"], f["start"]["line"])
        if key in seen:
            continue
        seen.add(key)
        steps = [((target / t["path"]).resolve(), t["start"]["line"]) for t in f.get("trace", [])]
        findings.append({**f, "file": file, "line": f["start"]["line"], "steps": [(file, key[2]), *steps]})
    return findings


def ratio(num: int, den: int) -> str:
    return f"{num / den:.2f}" if den else "–"


def score_corpus(exe: str, corpus: Path, rules: dict[str, str]) -> None:
    print(f"# Corpus `{corpus.name}`\n")
    servers = sorted(p for p in corpus.iterdir() if p.is_dir())
    per_rule = {name: defaultdict(int) for name in rules}
    per_server = []
    misses, false_alarms, near, problems = [], [], [], []
    funcs: dict = {}
    for server in servers:
        notes, probs = annotations(server)
        problems += probs
        for (rel, rule, line) in notes:
            if rule not in rules:
                problems.append(f"{server.name}/{rel}:{line}: `{rule}` is not a PC1xx rule name")
        truth = {(rel, rule, line): kind for (rel, rule, line), kind in notes.items() if rule in rules}
        got = {}
        for f in scan(exe, server):
            rel = str(Path(f["file"]).relative_to(server.resolve()))
            got[(rel, f["rule"], f["line"])] = f
        counts = defaultdict(int)
        for key, kind in truth.items():
            if kind == "ruleid":
                hit = "tp" if key in got else "fn"
                per_rule[key[1]][hit] += 1
                counts[hit] += 1
                if hit == "fn":
                    misses.append((server.name, *key))
            else:
                per_rule[key[1]]["ok"] += 1
        for key, f in got.items():
            if truth.get(key) == "ruleid":
                continue
            where = "ok" if truth.get(key) == "ok" else "unlabelled"
            per_rule[key[1]]["fp"] += 1
            per_rule[key[1]][f"fp_{where}"] += 1
            counts["fp"] += 1
            false_alarms.append((server.name, *key, where, f["message"]))
        # Pair each miss with findings that pass through the same function: the same bug
        # reported on another line (a check vs its sink) or under another rule.
        fp_keys = [k for k in got if truth.get(k) != "ruleid"]
        for (srv, rel, rule, line) in [m for m in misses if m[0] == server.name]:
            home = enclosing(funcs, server.resolve() / rel, line)
            if home is None:
                continue
            for key in fp_keys:
                f = got[key]
                related = key[1] == rule or any({rule, key[1]} <= fam for fam in FAMILIES)
                if related and home in {enclosing(funcs, Path(p), l) for p, l in f["steps"]}:
                    kind = "line" if key[1] == rule else "rule"
                    near.append((kind, srv, rel, rule, line, key[0], key[1], key[2]))
        lines = sum(len(p.read_text(errors="replace").splitlines()) for p in sources(server))
        per_server.append((server.name, lines, counts["tp"], counts["fp"], counts["fn"]))

    print("## Corpus: per rule\n")
    print("| code | rule | labelled | TP | FP (on `ok`) | FP (unlabelled) | FN | precision | recall |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    total = defaultdict(int)
    for name, code in sorted(rules.items(), key=lambda kv: kv[1]):
        c = per_rule[name]
        for k in ("tp", "fp", "fn", "fp_ok", "fp_unlabelled", "ok"):
            total[k] += c[k]
        print(f"| {code} | {name} | {c['tp'] + c['fn']} (+{c['ok']} ok) | {c['tp']} | {c['fp_ok']} | "
              f"{c['fp_unlabelled']} | {c['fn']} | {ratio(c['tp'], c['tp'] + c['fp'])} | {ratio(c['tp'], c['tp'] + c['fn'])} |")
    print(f"| | **total** | {total['tp'] + total['fn']} (+{total['ok']} ok) | {total['tp']} | {total['fp_ok']} | "
          f"{total['fp_unlabelled']} | {total['fn']} | {ratio(total['tp'], total['tp'] + total['fp'])} | "
          f"{ratio(total['tp'], total['tp'] + total['fn'])} |\n")

    print("## Corpus: per server\n")
    print("| server | source lines | TP | FP | FN | precision | recall |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, lines, tp, fp, fn in per_server:
        print(f"| {name} | {lines} | {tp} | {fp} | {fn} | {ratio(tp, tp + fp)} | {ratio(tp, tp + fn)} |")
    print()

    print("## Corpus: misses (labelled `ruleid`, not reported)\n")
    for srv, rel, rule, line in sorted(misses):
        print(f"- `{srv}/{rel}:{line}` {rules[rule]} {rule}")
    print("\n## Corpus: false alarms (reported, not labelled `ruleid`)\n")
    for srv, rel, rule, line, where, msg in sorted(false_alarms):
        print(f"- `{srv}/{rel}:{line}` {rules[rule]} ({where}): {msg}")
    for kind, title in (("line", "same rule, another line"), ("rule", "another rule")):
        pairs = sorted(n[1:] for n in near if n[0] == kind)
        if pairs:
            print(f"\n## Corpus: misses reported as {title} in the same function (one FN + one FP each)\n")
            for srv, rel, rule, line, frel, frule, fline in pairs:
                print(f"- `{srv}/{rel}:{line}` {rules[rule]} {rule} → reported as {rules[frule]} {frule} at `{frel}:{fline}`")
    if problems:
        print("\n## Corpus: annotation problems\n")
        for p in problems:
            print(f"- {p}")
    print()


def score_public(exe: str, public: Path, manifest: Path) -> None:
    servers = tomllib.loads(manifest.read_text())["server"]
    print("## Public servers: findings per 1,000 lines\n")
    print("| server | repository @ commit | paths | source lines | findings | per kloc |")
    print("|---|---|---|---:|---:|---:|")
    listing, total_lines, total_findings = [], 0, 0
    for s in servers:
        root = public / s["name"]
        if not root.is_dir():
            print(f"| {s['name']} | {s['repo']} @ {s['commit'][:12]} | – | – | – | not checked out under {public} |")
            continue
        lines, findings = 0, []
        for rel in s["paths"]:
            target = root / rel
            if not target.exists():
                print(f"> {s['name']}: {rel} is missing in the checkout\n")
                continue
            files = sources(target) if target.is_dir() else [target]
            lines += sum(len(p.read_text(errors="replace").splitlines()) for p in files)
            findings += scan(exe, target)
        total_lines += lines
        total_findings += len(findings)
        per_kloc = 1000 * len(findings) / lines if lines else 0
        print(f"| {s['name']} | {s['repo']} @ {s['commit'][:12]} | {', '.join(s['paths'])} | {lines} | "
              f"{len(findings)} | {per_kloc:.2f} |")
        for f in findings:
            listing.append((s["name"], str(Path(f["file"]).relative_to(root.resolve())), f["line"], f["code"], f["rule"], f["message"]))
    if total_lines:
        print(f"| **total** | | | {total_lines} | {total_findings} | {1000 * total_findings / total_lines:.2f} |")
    print("\n## Public servers: every finding (judge each: true or false alarm)\n")
    for name, rel, line, code, rule, msg in listing:
        print(f"- `{name}/{rel}:{line}` {code} {rule}: {msg}")
    print()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, action="append",
                    help="a corpus folder (repeatable; default: corpus/python and corpus/typescript)")
    ap.add_argument("--public", type=Path, help="folder with a checkout of each public server, as DIR/<name>/")
    ap.add_argument("--manifest", type=Path, default=REPO / "corpus/public.toml")
    ap.add_argument("--binary", help="portcullis binary (default: $PORTCULLIS, then target/release/portcullis)")
    args = ap.parse_args()
    exe = binary(args.binary)
    try:
        rules = code_rules(exe)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"cannot run `{exe} rules`: {e}; build it with `cargo build --release` or set PORTCULLIS")
        return 0
    print(f"# portcullis corpus score\n\nbinary: `{exe}`\n")
    for corpus in args.corpus or [REPO / "corpus/python", REPO / "corpus/typescript"]:
        score_corpus(exe, corpus, rules)
    if args.public:
        score_public(exe, args.public, args.manifest)
    else:
        print("Public servers skipped: pass `--public DIR` (see corpus/README.md).")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # it measures; it never fails a build
        print(f"corpus-score failed: {e!r}")
        sys.exit(0)
