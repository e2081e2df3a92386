#!/usr/bin/env node
// Homelab helper over streamable HTTP: docker and systemd status for the box it runs on, so the
// assistant on the laptop can check on the server in the closet.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import express, { type Request, type Response } from "express";
import { z } from "zod";

const exec = promisify(execFile);
const PORT = Number(process.env.PORT ?? 3000);

function createServer(): McpServer {
  // ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
  const server = new McpServer({ name: "homelab", version: "0.4.2" });

  server.registerTool(
    "list_containers",
    { description: "Running docker containers and their status", inputSchema: {} },
    async () => {
      const { stdout } = await exec("docker", ["ps", "--format", "{{.Names}}\t{{.Status}}"], { timeout: 10_000 });
      return { content: [{ type: "text", text: stdout || "no containers running" }] };
    },
  );

  server.registerTool(
    "service_status",
    {
      description: "systemctl status of one unit",
      inputSchema: { unit: z.string().regex(/^[A-Za-z0-9][\w@.-]*\.service$/) },
    },
    async ({ unit }) => {
      // ok: argument-injection-from-tool-argument
      const { stdout } = await exec("systemctl", ["status", "--no-pager", unit], { timeout: 10_000 });
      return { content: [{ type: "text", text: stdout }] };
    },
  );

  server.registerTool(
    "restart_container",
    {
      description: "Restart a docker container by name",
      inputSchema: { name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/) },
    },
    async ({ name }) => {
      // ok: argument-injection-from-tool-argument
      await exec("docker", ["restart", name], { timeout: 60_000 });
      return { content: [{ type: "text", text: `restarted ${name}` }] };
    },
  );

  return server;
}

const transports: Record<string, StreamableHTTPServerTransport> = {};

const app = express();
app.use(express.json());

app.post("/mcp", async (req: Request, res: Response) => {
  const sessionId = req.headers["mcp-session-id"] as string | undefined;
  let transport = sessionId ? transports[sessionId] : undefined;
  if (!transport) {
    if (sessionId || !isInitializeRequest(req.body)) {
      res.status(400).json({ jsonrpc: "2.0", error: { code: -32000, message: "No valid session" }, id: null });
      return;
    }
    // ruleid: http-transport-without-authentication, http-transport-without-origin-check
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        transports[id] = transport!;
      },
    });
    transport.onclose = () => {
      if (transport?.sessionId) delete transports[transport.sessionId];
    };
    await createServer().connect(transport);
  }
  await transport.handleRequest(req, res, req.body);
});

// GET opens the notification stream, DELETE ends the session.
const handleSessionRequest = async (req: Request, res: Response) => {
  const sessionId = req.headers["mcp-session-id"] as string | undefined;
  const transport = sessionId ? transports[sessionId] : undefined;
  if (!transport) {
    res.status(400).send("Invalid or missing session ID");
    return;
  }
  await transport.handleRequest(req, res);
};
app.get("/mcp", handleSessionRequest);
app.delete("/mcp", handleSessionRequest);

// ruleid: http-transport-beyond-loopback
app.listen(PORT, () => {
  console.log(`homelab MCP server on http://localhost:${PORT}/mcp`);
});
