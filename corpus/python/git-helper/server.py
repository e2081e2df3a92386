"""git-assistant-mcp: git for your assistant.

Exposes read and write git operations on the repositories under REPOS_ROOT as MCP tools.
Uses the git CLI for most operations and GitPython where it is simpler.
"""

import os
import re
import subprocess
from pathlib import Path

import git  # GitPython
from mcp.server.fastmcp import FastMCP

REPOS_ROOT = Path(os.environ.get("GIT_MCP_ROOT", os.getcwd())).resolve()
GIT_TIMEOUT = 30
REF_RE = re.compile(r"^[\w./=-]+$")
SAFE_REF_RE = re.compile(r"^[A-Za-z0-9_][\w./]*$")

# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
mcp = FastMCP("git-assistant")


def _repo_dir(repo: str) -> Path:
    path = (REPOS_ROOT / repo).resolve()
    if path != REPOS_ROOT and not path.is_relative_to(REPOS_ROOT):
        raise ValueError(f"{repo} is not under {REPOS_ROOT}")
    if not (path / ".git").exists():
        raise ValueError(f"{repo} is not a git repository")
    return path


def _git(cwd: Path, *args: str) -> str:
    # Every caller passes tool arguments only as option values or after "--".
    # ok: argument-injection-from-tool-argument
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip() or f"git {args[0]} failed")
    return proc.stdout


@mcp.tool()
def git_status(repo: str) -> str:
    """Show the working tree status."""
    return _git(_repo_dir(repo), "status", "--short", "--branch")


@mcp.tool()
def git_log(repo: str, ref: str = "HEAD", max_count: int = 20) -> str:
    """Show the commit log of a branch, tag or commit."""
    cwd = _repo_dir(repo)
    # ruleid: argument-injection-from-tool-argument
    out = subprocess.run(["git", "log", "--oneline", f"-n{int(max_count)}", ref], cwd=cwd,
                         capture_output=True, text=True, timeout=GIT_TIMEOUT)
    return out.stdout or out.stderr


@mcp.tool()
def git_diff(repo: str, target: str) -> str:
    """Diff the working tree against a target branch or commit."""
    cwd = _repo_dir(repo)
    if target.startswith("-"):
        raise ValueError("target must be a branch or commit, not an option")
    # ok: argument-injection-from-tool-argument
    out = subprocess.run(["git", "diff", target, "--"], cwd=cwd, capture_output=True,
                         text=True, timeout=GIT_TIMEOUT)
    return out.stdout


@mcp.tool()
def git_show(repo: str, revision: str) -> str:
    """Show a commit with its patch."""
    r = git.Repo(_repo_dir(repo))
    # ruleid: argument-injection-from-tool-argument
    return r.git.show(revision)


@mcp.tool()
def git_checkout(repo: str, branch: str) -> str:
    """Switch to a branch."""
    if not REF_RE.match(branch):
        raise ValueError("invalid branch name")
    cwd = _repo_dir(repo)
    # ruleid: argument-injection-from-tool-argument
    subprocess.run(["git", "checkout", branch], cwd=cwd, check=True, timeout=GIT_TIMEOUT)
    return f"switched to {branch}"


@mcp.tool()
def git_create_branch(repo: str, name: str, start_point: str = "HEAD") -> str:
    """Create a branch from a start point."""
    if not SAFE_REF_RE.match(name) or not SAFE_REF_RE.match(start_point):
        raise ValueError("invalid ref name")
    cwd = _repo_dir(repo)
    # ok: argument-injection-from-tool-argument
    subprocess.run(["git", "branch", name, start_point], cwd=cwd, check=True, timeout=GIT_TIMEOUT)
    return f"created {name}"


@mcp.tool()
def git_commit(repo: str, message: str) -> str:
    """Commit the staged changes."""
    cwd = _repo_dir(repo)
    return _git(cwd, "commit", "-m", message)


@mcp.tool()
def git_add(repo: str, paths: list[str]) -> str:
    """Stage files."""
    cwd = _repo_dir(repo)
    # ok: argument-injection-from-tool-argument
    subprocess.run(["git", "add", "--", *paths], cwd=cwd, check=True, timeout=GIT_TIMEOUT)
    return "staged " + ", ".join(paths)


@mcp.tool()
def git_grep(repo: str, pattern: str) -> str:
    """Search tracked files for a pattern."""
    cwd = _repo_dir(repo)
    # ruleid: shell-command-from-tool-argument
    proc = subprocess.run(f"git grep -n '{pattern}' | head -200", shell=True, cwd=cwd,
                          capture_output=True, text=True, timeout=GIT_TIMEOUT)
    return proc.stdout


@mcp.tool()
def git_blame(repo: str, file_path: str, start: int = 1, end: int = 40) -> str:
    """Blame a range of lines of a file."""
    cwd = _repo_dir(repo)
    return _git(cwd, "blame", "-L", f"{int(start)},{int(end)}", "--", file_path)


@mcp.tool()
def git_clone(url: str, name: str) -> str:
    """Clone a repository into the workspace."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name.startswith("."):
        raise ValueError("invalid folder name")
    # ruleid: argument-injection-from-tool-argument
    proc = subprocess.run(["git", "clone", "--depth", "1", url, str(REPOS_ROOT / name)],
                          capture_output=True, text=True, timeout=300)
    return proc.stdout + proc.stderr


@mcp.tool()
def git_clone_https(url: str, name: str) -> str:
    """Clone a public repository over HTTPS (safer variant used by the web UI)."""
    if not url.startswith("https://") or not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError("only https:// URLs and plain folder names")
    # ok: argument-injection-from-tool-argument
    proc = subprocess.run(["git", "clone", "--depth", "1", "--", url, str(REPOS_ROOT / name)],
                          capture_output=True, text=True, timeout=300)
    return proc.stdout + proc.stderr


@mcp.tool()
def git_branches(repo: str) -> list[str]:
    """List local branches."""
    r = git.Repo(_repo_dir(repo))
    return [h.name for h in r.heads]


if __name__ == "__main__":
    mcp.run()
