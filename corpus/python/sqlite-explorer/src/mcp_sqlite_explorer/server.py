"""SQLite explorer MCP server (low-level Server API).

Business-intelligence helper: lets the assistant look at a SQLite database, run read
queries and keep "insights" in a memo table.
"""

import json
import logging
import os
import sqlite3
import traceback
from contextlib import closing

import mcp.server.stdio
import mcp.types as types
from mcp.server import NotificationOptions, Server
from mcp.server.models import InitializationOptions

logger = logging.getLogger("mcp_sqlite_explorer")
DB_PATH = os.environ.get("SQLITE_DB", "data.db")

server = Server("sqlite-explorer")


def _connect() -> sqlite3.Connection:
    conn = sqlite3.connect(DB_PATH)
    conn.row_factory = sqlite3.Row
    return conn


def _rows(cursor: sqlite3.Cursor) -> list[dict]:
    return [dict(r) for r in cursor.fetchall()]


def _tables() -> set[str]:
    with closing(_connect()) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


@server.list_tools()
async def handle_list_tools() -> list[types.Tool]:
    return [
        types.Tool(name="list_tables", description="List the tables", inputSchema={"type": "object", "properties": {}}),
        types.Tool(name="describe_table", description="Columns of a table",
                   inputSchema={"type": "object", "properties": {"table_name": {"type": "string"}}, "required": ["table_name"]}),
        types.Tool(name="read_query", description="Run a SELECT query",
                   inputSchema={"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}),
        types.Tool(name="count_rows", description="Number of rows in a table",
                   inputSchema={"type": "object", "properties": {"table_name": {"type": "string"}}, "required": ["table_name"]}),
        types.Tool(name="find_customers", description="Find customers by name",
                   inputSchema={"type": "object", "properties": {"name": {"type": "string"}, "country": {"type": "string"}}, "required": ["name"]}),
        types.Tool(name="get_order", description="One order by id",
                   inputSchema={"type": "object", "properties": {"order_id": {"type": "integer"}}, "required": ["order_id"]}),
        types.Tool(name="append_insight", description="Remember a business insight",
                   inputSchema={"type": "object", "properties": {"insight": {"type": "string"}}, "required": ["insight"]}),
        types.Tool(name="sort_products", description="Products sorted by a column",
                   inputSchema={"type": "object", "properties": {"column": {"type": "string"}}, "required": ["column"]}),
    ]


SORTABLE = {"name", "price", "stock", "created_at"}


@server.call_tool()
async def handle_call_tool(name: str, arguments: dict | None) -> list[types.TextContent]:
    arguments = arguments or {}
    try:
        with closing(_connect()) as conn:
            if name == "list_tables":
                return [types.TextContent(type="text", text=json.dumps(sorted(_tables())))]

            if name == "describe_table":
                table = arguments["table_name"]
                # ruleid: sql-built-from-tool-argument
                cols = conn.execute(f"PRAGMA table_info({table})").fetchall()
                # ok: untrusted-content-returned-unmarked
                return [types.TextContent(type="text", text=json.dumps([dict(c) for c in cols]))]

            if name == "read_query":
                query = arguments["query"]
                if not query.strip().upper().startswith("SELECT"):
                    raise ValueError("Only SELECT queries are allowed for read_query")
                # ok: sql-built-from-tool-argument
                rows = _rows(conn.execute(query))
                # ruleid: untrusted-content-returned-unmarked
                return [types.TextContent(type="text", text=json.dumps(rows, default=str))]

            if name == "count_rows":
                table = arguments["table_name"]
                if table not in _tables():
                    raise ValueError(f"unknown table {table!r}")
                # ok: sql-built-from-tool-argument
                (n,) = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
                # ok: untrusted-content-returned-unmarked
                return [types.TextContent(type="text", text=str(n))]

            if name == "find_customers":
                pattern = arguments["name"]
                sql = "SELECT id, name, email, notes FROM customers WHERE name LIKE '%" + pattern + "%'"
                if arguments.get("country"):
                    sql += " AND country = '%s'" % arguments["country"]
                # ruleid: sql-built-from-tool-argument
                rows = _rows(conn.execute(sql))
                # ruleid: untrusted-content-returned-unmarked
                return [types.TextContent(type="text", text=json.dumps(rows))]

            if name == "get_order":
                order_id = int(arguments["order_id"])
                # ok: sql-built-from-tool-argument
                row = conn.execute("SELECT * FROM orders WHERE id = %d" % order_id).fetchone()
                # ruleid: untrusted-content-returned-unmarked
                return [types.TextContent(type="text", text=json.dumps(dict(row) if row else None, default=str))]

            if name == "append_insight":
                # ok: sql-built-from-tool-argument
                conn.execute("INSERT INTO memos (insight) VALUES (?)", (arguments["insight"],))
                conn.commit()
                return [types.TextContent(type="text", text="Insight added to memo")]

            if name == "sort_products":
                column = arguments["column"]
                if column not in SORTABLE:
                    raise ValueError(f"cannot sort by {column}")
                # ok: sql-built-from-tool-argument
                rows = _rows(conn.execute(f"SELECT name, price, stock FROM products ORDER BY {column} LIMIT 100"))
                # ok: untrusted-content-returned-unmarked
                return [types.TextContent(type="text", text=json.dumps(rows))]

            raise ValueError(f"Unknown tool: {name}")
    except sqlite3.Error as e:
        return [types.TextContent(type="text", text=f"Database error: {e}")]
    except Exception:
        logger.exception("tool %s failed", name)
        # ruleid: stack-trace-returned-to-model
        return [types.TextContent(type="text", text="Error:\n" + traceback.format_exc())]


@server.list_resources()
async def handle_list_resources() -> list[types.Resource]:
    return [types.Resource(uri="memo://insights", name="Business insights memo", mimeType="text/plain")]


@server.read_resource()
async def handle_read_resource(uri) -> str:
    if str(uri) != "memo://insights":
        raise ValueError(f"Unknown resource: {uri}")
    with closing(_connect()) as conn:
        memos = [r[0] for r in conn.execute("SELECT insight FROM memos ORDER BY id")]
    # ruleid: untrusted-content-returned-unmarked
    return "Business insights:\n" + "\n".join(f"- {m}" for m in memos)


async def main():
    async with mcp.server.stdio.stdio_server() as (read_stream, write_stream):
        await server.run(
            read_stream,
            write_stream,
            InitializationOptions(
                server_name="sqlite-explorer",
                server_version="0.3.1",
                capabilities=server.get_capabilities(
                    notification_options=NotificationOptions(), experimental_capabilities={}
                ),
            ),
        )
