"""devtools-mcp: run tests and linters, read files and poke local HTTP services.

Uses the low-level `mcp.server.lowlevel.Server` API with a single call_tool dispatcher.
"""

import anyio
import json
import os
import subprocess
import traceback

import httpx
import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

PROJECT_ROOT = os.path.normpath(os.environ.get("DEVTOOLS_ROOT", os.getcwd()))
SERVICE_BASE = os.environ.get("DEVTOOLS_SERVICE", "http://localhost:8000")

# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
app = Server("devtools")

TOOLS = [
    types.Tool(name="run_tests", description="Run pytest, optionally filtered with -k",
               inputSchema={"type": "object", "properties": {"keyword": {"type": "string"}}}),
    types.Tool(name="lint", description="Run ruff on a file or folder",
               inputSchema={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
    types.Tool(name="read_file", description="Read a project file",
               inputSchema={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
    types.Tool(name="http_get", description="GET a URL and return the body",
               inputSchema={"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}),
    types.Tool(name="service_get", description="GET a path of the local dev service",
               inputSchema={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
    types.Tool(name="env", description="Show PATH and virtualenv",
               inputSchema={"type": "object", "properties": {}}),
    types.Tool(name="remote_uptime", description="Uptime of a staging host over ssh",
               inputSchema={"type": "object", "properties": {"host": {"type": "string"}}, "required": ["host"]}),
]


@app.list_tools()
async def list_tools() -> list[types.Tool]:
    return TOOLS


def _text(s: str) -> list[types.TextContent]:
    return [types.TextContent(type="text", text=s)]


@app.call_tool()
async def call_tool(name: str, arguments: dict) -> list[types.TextContent]:
    try:
        if name == "run_tests":
            cmd = ["python", "-m", "pytest", "-q", "-x"]
            if arguments.get("keyword"):
                cmd += ["-k", arguments["keyword"]]
            # ok: argument-injection-from-tool-argument
            proc = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
            return _text(proc.stdout[-20_000:])

        if name == "lint":
            target = arguments["path"]
            # ruleid: shell-command-from-tool-argument
            proc = subprocess.run(f"ruff check {target} --output-format concise", shell=True,
                                  cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
            return _text(proc.stdout or "no problems")

        if name == "read_file":
            path = os.path.normpath(os.path.join(PROJECT_ROOT, arguments["path"]))
            # ruleid: containment-check-without-resolving-links
            if not path.startswith(PROJECT_ROOT + os.sep):
                return _text("refused: outside the project")
            with open(path, encoding="utf-8", errors="replace") as f:
                # ruleid: unbounded-read-of-tool-chosen-file
                return _text(f.read())

        if name == "http_get":
            async with httpx.AsyncClient(timeout=20) as client:
                # ruleid: request-to-tool-chosen-url
                resp = await client.get(arguments["url"])
            # ruleid: untrusted-content-returned-unmarked
            return _text(f"{resp.status_code}\n{resp.text[:20_000]}")

        if name == "service_get":
            path = "/" + arguments["path"].lstrip("/")
            async with httpx.AsyncClient(base_url=SERVICE_BASE, timeout=20) as client:
                # ok: request-to-tool-chosen-url
                resp = await client.get(path)
            # The project's own dev service, not third-party content.
            # ok: untrusted-content-returned-unmarked
            return _text(f"{resp.status_code}\n{resp.text[:20_000]}")

        if name == "env":
            info = {"PATH": os.environ.get("PATH"), "VIRTUAL_ENV": os.environ.get("VIRTUAL_ENV"),
                    "root": PROJECT_ROOT}
            # ok: environment-returned-to-model
            return _text(json.dumps(info, indent=2))

        if name == "remote_uptime":
            host = arguments["host"]
            # ruleid: argument-injection-from-tool-argument
            proc = subprocess.run(["ssh", "-o", "BatchMode=yes", host, "uptime"],
                                  capture_output=True, text=True, timeout=30)
            return _text(proc.stdout or proc.stderr)

        return _text(f"unknown tool {name}")
    except Exception:
        # ruleid: stack-trace-returned-to-model
        return _text(traceback.format_exc())


async def main() -> None:
    async with stdio_server() as streams:
        await app.run(streams[0], streams[1], app.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
