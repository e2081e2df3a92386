#!/usr/bin/env node
// Scratch notes over streamable HTTP for the editor and the desktop assistant at once: loopback,
// Host-validated by the SDK's express app, and behind a bearer token.
import { timingSafeEqual } from "node:crypto";

import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

const HOST = process.env.NOTES_HOST ?? "127.0.0.1";
const PORT = Number(process.env.NOTES_PORT ?? 7331);
const TOKEN = process.env.NOTES_TOKEN;
if (!TOKEN) {
  console.error("NOTES_TOKEN must be set");
  process.exit(1);
}
const expected = Buffer.from(TOKEN);

const verifier: OAuthTokenVerifier = {
  async verifyAccessToken(token: string) {
    const given = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InvalidTokenError("unknown token");
    }
    return { token, clientId: "notes-local", scopes: ["notes"], expiresAt: Math.floor(Date.now() / 1000) + 3600 };
  },
};

const notes = new Map<string, { text: string; updated: string }>();

function buildServer(): McpServer {
  const server = new McpServer({ name: "notes-http", version: "1.0.3" });

  server.registerTool(
    "put_note",
    {
      description: "Create or replace a note",
      inputSchema: { title: z.string().max(200), text: z.string().max(20_000) },
    },
    async ({ title, text }) => {
      notes.set(title, { text, updated: new Date().toISOString() });
      return { content: [{ type: "text", text: `saved "${title}"` }] };
    },
  );

  server.registerTool(
    "get_note",
    { description: "Read a note", inputSchema: { title: z.string() } },
    async ({ title }) => {
      const note = notes.get(title);
      return { content: [{ type: "text", text: note ? note.text : `no note called "${title}"` }] };
    },
  );

  server.registerTool("list_notes", { description: "Titles of all notes" }, async () => ({
    content: [{ type: "text", text: [...notes.keys()].join("\n") || "no notes yet" }],
  }));

  return server;
}

const app = createMcpExpressApp({ host: HOST });
app.use("/mcp", requireBearerAuth({ verifier, requiredScopes: ["notes"] }));

app.post("/mcp", async (req, res) => {
  const server = buildServer();
  // ok: http-transport-without-authentication, http-transport-without-origin-check
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on("close", () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});

// ok: http-transport-beyond-loopback
app.listen(PORT, HOST, () => {
  console.error(`notes-http listening on http://${HOST}:${PORT}/mcp`);
});
