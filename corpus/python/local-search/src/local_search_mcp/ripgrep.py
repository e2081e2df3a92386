"""Wrappers around the ripgrep and fd command-line tools."""

import json
import shutil
import subprocess

RG = shutil.which("rg") or "rg"
FD = shutil.which("fd") or shutil.which("fdfind") or "fd"


def rg_json(args: list[str], cwd: str, limit: int = 200) -> list[dict]:
    """Run ripgrep with --json and collect the matches."""
    # ruleid: argument-injection-from-tool-argument
    proc = subprocess.Popen([RG, "--json", *args], cwd=cwd, stdout=subprocess.PIPE, text=True)
    matches = []
    for line in proc.stdout:
        event = json.loads(line)
        if event["type"] == "match":
            data = event["data"]
            matches.append({"path": data["path"]["text"], "line": data["line_number"],
                            "text": data["lines"]["text"].rstrip()[:300]})
            if len(matches) >= limit:
                proc.kill()
                break
    proc.wait()
    return matches


def fd(pattern: str, root: str, extension: str | None = None) -> list[str]:
    args = [FD, "--type", "f", "--max-results", "500"]
    if extension:
        args += ["--extension", extension]
    # ok: argument-injection-from-tool-argument
    out = subprocess.run([*args, "--", pattern, root], capture_output=True, text=True, timeout=30)
    return out.stdout.splitlines()
