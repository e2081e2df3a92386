"""MCP tools for searching local projects."""

import glob
import os
from pathlib import Path

from mcp.server.fastmcp import FastMCP

from .files import PROJECTS, project_path, unchecked_path
from .ripgrep import fd, rg_json

# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
mcp = FastMCP("local-search")


@mcp.tool()
def search_code(pattern: str, project: str = ".", glob_filter: str = "") -> list[dict]:
    """Search file contents with a regular expression (ripgrep)."""
    args = ["--max-count", "20"]
    if glob_filter:
        args += ["--glob", glob_filter]
    return rg_json(args + [pattern, project_path(project)], cwd=PROJECTS)


@mcp.tool()
def search_code_safe(pattern: str, project: str = ".") -> list[dict]:
    """Search file contents for a literal string."""
    return rg_json(["--fixed-strings", "-e", pattern, "--", project_path(project)], cwd=PROJECTS)


@mcp.tool()
def find_files(name_pattern: str, project: str = ".", extension: str = "") -> list[str]:
    """Find files by name (fd)."""
    return fd(name_pattern, project_path(project), extension or None)


@mcp.tool()
def glob_files(pattern: str) -> list[str]:
    """Files matching a glob such as `*/src/**/*.py`, relative to the projects folder."""
    # ruleid: path-traversal-from-tool-argument
    hits = glob.glob(os.path.join(PROJECTS, pattern), recursive=True)
    return [os.path.relpath(h, PROJECTS) for h in hits[:1000]]


@mcp.tool()
def read_snippet(path: str, line: int, context: int = 10) -> str:
    """Lines around a match, with line numbers."""
    full = unchecked_path(path)
    with open(full, encoding="utf-8", errors="replace") as f:
        # ruleid: unbounded-read-of-tool-chosen-file
        lines = f.readlines()
    lo, hi = max(0, line - 1 - context), min(len(lines), line + context)
    return "".join(f"{i + 1:>5} {lines[i]}" for i in range(lo, hi))


@mcp.tool()
def read_file_head(path: str, max_bytes: int = 65536) -> str:
    """The beginning of a file in a project."""
    full = project_path(path)
    # ok: path-traversal-from-tool-argument
    with open(full, encoding="utf-8", errors="replace") as f:
        # ok: unbounded-read-of-tool-chosen-file
        return f.read(min(max_bytes, 1_000_000))


@mcp.tool()
def project_tree(project: str, depth: int = 2) -> str:
    """The folder tree of a project, a few levels deep."""
    root = Path(project_path(project))
    lines = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if len(rel.parts) <= depth and not any(part.startswith(".") for part in rel.parts):
            lines.append("  " * (len(rel.parts) - 1) + p.name + ("/" if p.is_dir() else ""))
    return "\n".join(lines[:2000])


def main() -> None:
    mcp.run()
