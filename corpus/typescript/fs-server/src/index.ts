#!/usr/bin/env node
// Filesystem server: read, write, list and search under allowed directories.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import fs from "node:fs/promises";
import { createReadStream } from "node:fs";
import path from "node:path";
import os from "node:os";

const allowedDirectories = process.argv.slice(2).map((d) => path.resolve(d.replace(/^~/, os.homedir())));
const WORKSPACE = "/srv/workspace";

async function validatePath(requested: string): Promise<string> {
  const absolute = path.resolve(requested);
  const real = await fs.realpath(absolute);
  const inside = allowedDirectories.some((dir) => real === dir || real.startsWith(dir + path.sep));
  if (!inside) {
    throw new Error(`Access denied - path outside allowed directories: ${real}`);
  }
  return real;
}

// ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
const server = new McpServer({ name: "secure-filesystem-server", version: "0.6.2" });

server.tool(
  "read_file",
  "Read the complete contents of a file from the file system.",
  { path: z.string() },
  async ({ path: p }) => {
    const valid = await validatePath(p);
    // ok: path-traversal-from-tool-argument
    // ruleid: unbounded-read-of-tool-chosen-file
    const content = await fs.readFile(valid, "utf-8");
    return { content: [{ type: "text", text: content }] };
  },
);

server.tool(
  "write_file",
  "Create a new file or overwrite an existing one.",
  { path: z.string(), content: z.string() },
  async ({ path: p, content }) => {
    const valid = await validatePath(p);
    // ok: path-traversal-from-tool-argument
    await fs.writeFile(valid, content, "utf-8");
    return { content: [{ type: "text", text: `Successfully wrote to ${p}` }] };
  },
);

server.tool(
  "list_directory",
  "List the files and directories in a path.",
  { path: z.string() },
  async ({ path: p }) => {
    const valid = await validatePath(p);
    // ok: path-traversal-from-tool-argument
    const entries = await fs.readdir(valid, { withFileTypes: true });
    const text = entries.map((e) => `${e.isDirectory() ? "[DIR]" : "[FILE]"} ${e.name}`).join("\n");
    return { content: [{ type: "text", text }] };
  },
);

server.tool(
  "read_workspace_file",
  "Read a file from the shared workspace by its relative name.",
  { name: z.string() },
  async ({ name }) => {
    const full = path.join(WORKSPACE, name);
    // ruleid: path-traversal-from-tool-argument, unbounded-read-of-tool-chosen-file
    const content = await fs.readFile(full, "utf-8");
    return { content: [{ type: "text", text: content }] };
  },
);

server.tool(
  "tail_log",
  "Show the end of a log in the workspace.",
  { name: z.string(), bytes: z.number().int().max(65536) },
  async ({ name, bytes }) => {
    const full = path.resolve(WORKSPACE, "logs", name);
    // ruleid: containment-check-without-resolving-links
    if (!full.startsWith(WORKSPACE + path.sep)) {
      throw new Error("outside the workspace");
    }
    const stat = await fs.stat(full);
    // ok: unbounded-read-of-tool-chosen-file
    const stream = createReadStream(full, { start: Math.max(0, stat.size - bytes) });
    let text = "";
    for await (const chunk of stream) text += chunk;
    return { content: [{ type: "text", text }] };
  },
);

server.tool(
  "delete_file",
  "Delete a file from the workspace trash.",
  { name: z.string() },
  async ({ name }) => {
    // ruleid: dotdot-check-misses-absolute-paths
    if (name.includes("..")) {
      throw new Error("invalid name");
    }
    await fs.unlink(name);
    return { content: [{ type: "text", text: `deleted ${name}` }] };
  },
);

server.tool("list_allowed_directories", "List the directories this server may access.", async () => {
  // ok: path-traversal-from-tool-argument
  return { content: [{ type: "text", text: allowedDirectories.join("\n") }] };
});

async function main() {
  const transport = new StdioServerTransport();
  await server.connect(transport);
  console.error("Secure MCP Filesystem Server running on stdio");
}

main().catch((error) => {
  console.error("Fatal error running server:", error);
  process.exit(1);
});
