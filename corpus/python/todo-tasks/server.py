"""tasks-mcp: a personal task list with projects, due dates and Markdown export.

Uses the v2 low-level API (`Server(on_call_tool=...)`) with a table of handlers. Everything
the model sends is validated, SQL is parameterised, files stay in the export folder. Tasks are
written by the user, so they are returned as they are.
"""

import datetime as dt
import json
import logging
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import mcp.types as types
from mcp.server.lowlevel import Server

log = logging.getLogger("tasks-mcp")
DATA_DIR = Path(os.environ.get("TASKS_HOME", "~/.local/share/tasks-mcp")).expanduser().resolve()
EXPORT_DIR = DATA_DIR / "exports"
DB = DATA_DIR / "tasks.db"
PROJECT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$")
SORT_COLUMNS = {"due": "due_date", "created": "created_at", "priority": "priority"}


def _db() -> sqlite3.Connection:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(DB)
    conn.execute("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, project TEXT, title TEXT, "
                 "due_date TEXT, priority INTEGER DEFAULT 2, done INTEGER DEFAULT 0, created_at TEXT)")
    return conn


def _export_path(name: str) -> Path:
    path = (EXPORT_DIR / f"{name}.md").resolve()
    if not path.is_relative_to(EXPORT_DIR):
        raise ValueError("export name must be a plain file name")
    return path


def add_task(args: dict) -> str:
    project = args.get("project", "inbox")
    if not PROJECT_RE.match(project):
        raise ValueError("invalid project name")
    due = dt.date.fromisoformat(args["due"]).isoformat() if args.get("due") else None
    with _db() as conn:
        # ok: sql-built-from-tool-argument
        cur = conn.execute(
            "INSERT INTO tasks (project, title, due_date, priority, created_at) VALUES (?, ?, ?, ?, ?)",
            (project, args["title"], due, int(args.get("priority", 2)), dt.datetime.now().isoformat()),
        )
    return f"task {cur.lastrowid} added"


def list_tasks(args: dict) -> str:
    order = SORT_COLUMNS.get(args.get("sort", "due"), "due_date")
    clauses, params = ["done = 0"], []
    if args.get("project"):
        clauses.append("project = ?")
        params.append(args["project"])
    with _db() as conn:
        # ok: sql-built-from-tool-argument
        rows = conn.execute(
            f"SELECT id, project, title, due_date, priority FROM tasks WHERE {' AND '.join(clauses)} "
            f"ORDER BY {order} IS NULL, {order} LIMIT 200",
            params,
        ).fetchall()
    # ok: untrusted-content-returned-unmarked
    return json.dumps([dict(zip(("id", "project", "title", "due", "priority"), r)) for r in rows])


def complete_task(args: dict) -> str:
    with _db() as conn:
        # ok: sql-built-from-tool-argument
        n = conn.execute("UPDATE tasks SET done = 1 WHERE id = ?", (int(args["id"]),)).rowcount
    return "done" if n else "no such task"


def export_markdown(args: dict) -> str:
    EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    path = _export_path(args.get("name", "tasks"))
    with _db() as conn:
        rows = conn.execute("SELECT project, title, due_date FROM tasks WHERE done = 0 ORDER BY project").fetchall()
    lines = [f"- [ ] **{p}** {t}" + (f" (due {d})" if d else "") for p, t, d in rows]
    # ok: path-traversal-from-tool-argument
    path.write_text("# Tasks\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def open_export(args: dict) -> str:
    path = _export_path(args.get("name", "tasks"))
    opener = "open" if os.uname().sysname == "Darwin" else "xdg-open"
    # ok: argument-injection-from-tool-argument
    subprocess.run([opener, str(path)], check=False, timeout=10)
    return f"opened {path.name}"


def read_export(args: dict) -> str:
    path = _export_path(args.get("name", "tasks"))
    with path.open(encoding="utf-8") as f:
        # ok: path-traversal-from-tool-argument
        # ok: unbounded-read-of-tool-chosen-file
        return f.read(200_000)


HANDLERS = {
    "add_task": add_task,
    "list_tasks": list_tasks,
    "complete_task": complete_task,
    "export_markdown": export_markdown,
    "open_export": open_export,
    "read_export": read_export,
}


async def handle_list_tools(ctx, params) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[
        types.Tool(name=name, description=fn.__name__.replace("_", " "), inputSchema={"type": "object"})
        for name, fn in HANDLERS.items()
    ])


async def handle_call_tool(ctx, params) -> types.CallToolResult:
    handler = HANDLERS.get(params.name)
    if handler is None:
        return types.CallToolResult(content=[types.TextContent(type="text", text=f"unknown tool {params.name}")], isError=True)
    try:
        text = handler(params.arguments or {})
    except (ValueError, KeyError, sqlite3.Error) as e:
        log.exception("%s failed", params.name)
        # ok: stack-trace-returned-to-model
        return types.CallToolResult(content=[types.TextContent(type="text", text=f"error: {e}")], isError=True)
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)])


server = Server("tasks", on_list_tools=handle_list_tools, on_call_tool=handle_call_tool)


if __name__ == "__main__":
    import anyio
    from mcp.server.stdio import stdio_server

    async def main():
        async with stdio_server() as (r, w):
            await server.run(r, w, server.create_initialization_options())

    anyio.run(main)
