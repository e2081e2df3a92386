// A small CRM over SQLite (better-sqlite3): customers and their support tickets.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { db, findCustomer, searchTickets } from "./db.js";

const server = new McpServer({ name: "crm-sqlite", version: "0.2.3" });

server.tool("get_customer", "Look up a customer by id.", { id: z.number().int() }, async ({ id }) => {
  const row = findCustomer(id);
  // ruleid: untrusted-content-returned-unmarked
  return { content: [{ type: "text", text: JSON.stringify(row ?? null) }] };
});

server.tool(
  "search_tickets",
  "Search support tickets by subject or body.",
  { field: z.string(), term: z.string() },
  async ({ field, term }) => {
    const rows = searchTickets(field, term);
    // ruleid: untrusted-content-returned-unmarked
    return { content: [{ type: "text", text: JSON.stringify(rows, null, 2) }] };
  },
);

server.tool(
  "ticket_counts",
  "Count open tickets per status.",
  { status: z.enum(["open", "pending", "closed"]) },
  async ({ status }) => {
    // ok: sql-built-from-tool-argument
    const rows = db.prepare(`SELECT status, count(*) AS n FROM tickets WHERE status = '${status}' GROUP BY status`).all();
    // ok: untrusted-content-returned-unmarked
    return { content: [{ type: "text", text: JSON.stringify(rows) }] };
  },
);

server.tool(
  "tickets_for_customer",
  "List ticket subjects of a customer, sorted by a column.",
  { customerId: z.number().int(), orderBy: z.string().default("created_at") },
  async ({ customerId, orderBy }) => {
    // ruleid: sql-built-from-tool-argument
    const rows = db.prepare("SELECT id, subject FROM tickets WHERE customer_id = ? ORDER BY " + orderBy).all(customerId);
    // ruleid: untrusted-content-returned-unmarked
    return { content: [{ type: "text", text: rows.map((r: any) => `${r.id}: ${r.subject}`).join("\n") }] };
  },
);

server.tool(
  "add_note",
  "Attach an internal note to a customer.",
  { customerId: z.number().int(), note: z.string().max(2000) },
  async ({ customerId, note }) => {
    // ok: sql-built-from-tool-argument
    const info = db.prepare("INSERT INTO notes (customer_id, body) VALUES (?, ?)").run(customerId, note);
    return { content: [{ type: "text", text: `note ${info.lastInsertRowid} saved` }] };
  },
);

await server.connect(new StdioServerTransport());
