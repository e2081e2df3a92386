"""mcp-notes: a small MCP server that lets an assistant keep Markdown notes.

Notes live under NOTES_DIR (default ~/notes). Run with `python server.py` or
`uvx mcp-notes`; configure in Claude Desktop as a stdio server.
"""

import datetime
import logging
import os
import shutil
from pathlib import Path

from mcp.server.fastmcp import FastMCP

logger = logging.getLogger("mcp-notes")

NOTES_DIR = os.path.expanduser(os.environ.get("NOTES_DIR", "~/notes"))
NOTES_ROOT = Path(NOTES_DIR).resolve()
INBOX_DIR = os.path.join(NOTES_DIR, "_inbox")
MAX_NOTE_BYTES = 256 * 1024

# ruleid: dangerous-tools-without-rate-limit
mcp = FastMCP("notes")


def _note_path(name: str) -> str:
    if not name.endswith(".md"):
        name += ".md"
    return os.path.join(NOTES_DIR, name)


def _resolve_inside(name: str) -> Path:
    """Resolve a note name and refuse anything outside the notes folder."""
    candidate = (NOTES_ROOT / name).resolve()
    if not candidate.is_relative_to(NOTES_ROOT):
        raise ValueError(f"{name} is outside the notes folder")
    return candidate


@mcp.tool()
def list_notes(folder: str = "") -> list[str]:
    """List the notes in a folder of the notebook."""
    base = _resolve_inside(folder)
    # ok: path-traversal-from-tool-argument
    return sorted(p.name for p in base.iterdir() if p.suffix == ".md")


@mcp.tool()
def read_note(name: str) -> str:
    """Return the Markdown text of a note."""
    path = os.path.realpath(_note_path(name))
    # ruleid: prefix-check-without-separator
    if not path.startswith(NOTES_DIR):
        raise ValueError("note is outside the notes folder")
    with open(path, encoding="utf-8") as f:
        # ruleid: unbounded-read-of-tool-chosen-file
        return f.read()


@mcp.tool()
def write_note(name: str, content: str) -> str:
    """Create or replace a note."""
    if len(content.encode()) > MAX_NOTE_BYTES:
        raise ValueError("note too large")
    path = os.path.abspath(_note_path(name))
    # ruleid: containment-check-without-resolving-links
    if not path.startswith(NOTES_DIR + os.sep):
        raise ValueError("note is outside the notes folder")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)
    return f"saved {name}"


@mcp.tool()
def append_to_note(name: str, text: str) -> str:
    """Append a line to a note, with a timestamp."""
    path = _resolve_inside(name if name.endswith(".md") else name + ".md")
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    # ok: path-traversal-from-tool-argument
    with path.open("a", encoding="utf-8") as f:
        f.write(f"\n- {stamp} {text}\n")
    return "appended"


@mcp.tool()
def note_preview(name: str, chars: int = 2000) -> str:
    """The first characters of a note."""
    path = _resolve_inside(name if name.endswith(".md") else name + ".md")
    with path.open(encoding="utf-8") as f:
        # ok: unbounded-read-of-tool-chosen-file
        return f.read(min(chars, 20_000))


@mcp.tool()
def delete_note(name: str) -> str:
    """Delete a note. The assistant should ask the user first."""
    path = _note_path(name)
    if not os.path.exists(path):
        return f"no such note: {name}"
    # ruleid: path-traversal-from-tool-argument
    os.remove(path)
    logger.info("deleted %s", path)
    return f"deleted {name}"


@mcp.tool()
def rename_note(old: str, new: str) -> str:
    """Rename or move a note within the notebook."""
    src = _resolve_inside(old)
    dst = os.path.join(NOTES_DIR, new)
    # ruleid: path-traversal-from-tool-argument
    shutil.move(str(src), dst)
    return f"moved {old} -> {new}"


@mcp.tool()
def search_notes(query: str, limit: int = 20) -> list[dict]:
    """Case-insensitive search over all notes; returns matching lines."""
    hits = []
    for path in NOTES_ROOT.rglob("*.md"):
        try:
            with path.open(encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    if query.lower() in line.lower():
                        hits.append({"note": str(path.relative_to(NOTES_ROOT)), "line": lineno, "text": line.strip()[:200]})
                        if len(hits) >= limit:
                            return hits
        except OSError as e:
            logger.warning("cannot read %s: %s", path, e)
    return hits


@mcp.tool()
def import_note(file_name: str) -> str:
    """Move a Markdown file dropped into the inbox folder into the notebook."""
    # ruleid: dotdot-check-misses-absolute-paths
    if ".." in file_name:
        raise ValueError("relative parent paths are not allowed")
    source = os.path.join(INBOX_DIR, file_name)
    target = NOTES_ROOT / os.path.basename(file_name)
    shutil.copyfile(source, target)
    return f"imported {target.name}"


@mcp.resource("notes://{name}")
def note_resource(name: str) -> str:
    """Expose each note as a resource."""
    path = _resolve_inside(name)
    # ruleid: unbounded-read-of-tool-chosen-file
    return path.read_text(encoding="utf-8")


if __name__ == "__main__":
    mcp.run()
