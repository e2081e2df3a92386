// Read-only Postgres tools on the low-level Server, arguments parsed with zod.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });

const QuerySchema = z.object({ sql: z.string() });
const DescribeSchema = z.object({ table: z.string() });
const SearchSchema = z.object({ table: z.string(), column: z.string(), term: z.string() });
const CountSchema = z.object({ table: z.enum(["users", "orders", "invoices"]) });

const server = new Server({ name: "pg-query", version: "0.4.0" }, { capabilities: { tools: {} } });

server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));

server.setRequestHandler(CallToolRequestSchema, async (request) => {
  if (request.params.name === "query") {
    const { sql } = QuerySchema.parse(request.params.arguments);
    const client = await pool.connect();
    try {
      await client.query("BEGIN TRANSACTION READ ONLY");
      // ok: sql-built-from-tool-argument
      const result = await client.query(sql);
      return { content: [{ type: "text", text: JSON.stringify(result.rows, null, 2) }] };
    } finally {
      await client.query("ROLLBACK").catch(() => {});
      client.release();
    }
  }
  if (request.params.name === "describe_table") {
    const { table } = DescribeSchema.parse(request.params.arguments);
    // ok: sql-built-from-tool-argument
    const result = await pool.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1",
      [table],
    );
    return { content: [{ type: "text", text: JSON.stringify(result.rows) }] };
  }
  if (request.params.name === "search") {
    const { table, column, term } = SearchSchema.parse(request.params.arguments);
    // ruleid: sql-built-from-tool-argument
    const result = await pool.query(`SELECT * FROM ${table} WHERE ${column} ILIKE $1 LIMIT 50`, [`%${term}%`]);
    // ruleid: untrusted-content-returned-unmarked
    return { content: [{ type: "text", text: JSON.stringify(result.rows) }] };
  }
  if (request.params.name === "count") {
    const { table } = CountSchema.parse(request.params.arguments);
    // ok: sql-built-from-tool-argument
    const result = await pool.query(`SELECT count(*) FROM ${table}`);
    return { content: [{ type: "text", text: String(result.rows[0].count) }] };
  }
  if (request.params.name === "explain") {
    const { sql } = QuerySchema.parse(request.params.arguments);
    // ruleid: sql-built-from-tool-argument
    const result = await pool.query("EXPLAIN " + sql);
    return { content: [{ type: "text", text: JSON.stringify(result.rows) }] };
  }
  throw new Error(`Unknown tool: ${request.params.name}`);
});

await server.connect(new StdioServerTransport());
