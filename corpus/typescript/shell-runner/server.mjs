#!/usr/bin/env node
// A command runner on the low-level Server, dispatching with a switch.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { exec, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { quote } from "shell-quote";

const execAsync = promisify(exec);
const execFileAsync = promisify(execFile);
const ALLOWED_COMMANDS = ["ls", "cat", "pwd", "whoami", "df", "uptime"];

// ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
const server = new Server(
  { name: "shell-runner", version: "0.3.1" },
  { capabilities: { tools: {} } },
);

server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    { name: "run_command", description: "Run a shell command", inputSchema: { type: "object", properties: { command: { type: "string" } } } },
    { name: "run_allowed", description: "Run an allowed command", inputSchema: { type: "object", properties: { command: { type: "string" } } } },
    { name: "which", description: "Locate a program", inputSchema: { type: "object", properties: { program: { type: "string" } } } },
    { name: "echo", description: "Echo text", inputSchema: { type: "object", properties: { text: { type: "string" } } } },
    { name: "disk_usage", description: "Disk usage of a folder", inputSchema: { type: "object", properties: { dir: { type: "string" } } } },
    { name: "system_info", description: "Uptime and load", inputSchema: { type: "object", properties: {} } },
  ],
}));

server.setRequestHandler(CallToolRequestSchema, async (request) => {
  const { name, arguments: args } = request.params;
  switch (name) {
    case "run_command": {
      const command = String(args?.command ?? "");
      // ruleid: shell-command-from-tool-argument
      const { stdout, stderr } = await execAsync(command, { timeout: 30_000 });
      return { content: [{ type: "text", text: stdout + stderr }] };
    }
    case "run_allowed": {
      const command = String(args?.command ?? "");
      const program = command.trim().split(" ")[0];
      // ruleid: command-allowlist-checks-only-prefix
      if (!ALLOWED_COMMANDS.includes(program)) {
        throw new Error(`Command not allowed: ${program}`);
      }
      const { stdout } = await execAsync(command, { timeout: 30_000 });
      return { content: [{ type: "text", text: stdout }] };
    }
    case "which": {
      const program = String(args?.program ?? "");
      if (!/^[A-Za-z0-9_-]+$/.test(program)) {
        throw new Error("invalid program name");
      }
      // ok: shell-command-from-tool-argument
      const { stdout } = await execAsync(`which ${program}`, { timeout: 5_000 });
      return { content: [{ type: "text", text: stdout }] };
    }
    case "echo": {
      const text = String(args?.text ?? "");
      const escaped = text.replace(/"/g, '\\"');
      // ruleid: partial-shell-escaping
      const { stdout } = await execAsync(`echo "${escaped}"`, { timeout: 5_000 });
      return { content: [{ type: "text", text: stdout }] };
    }
    case "disk_usage": {
      const dir = String(args?.dir ?? ".");
      // ok: shell-command-from-tool-argument
      const { stdout } = await execAsync(`du -sh ${quote([dir])}`, { timeout: 30_000 });
      return { content: [{ type: "text", text: stdout }] };
    }
    case "system_info": {
      // ok: shell-command-from-tool-argument, outbound-call-without-timeout
      const { stdout } = await execFileAsync("uptime", [], { timeout: 5_000 });
      return { content: [{ type: "text", text: stdout }] };
    }
    default:
      throw new Error(`Unknown tool: ${name}`);
  }
});

export function streamCommand(line) {
  // ok: shell-command-from-tool-argument, outbound-call-without-timeout
  return spawn("sh", ["-c", "tail -f /var/log/syslog"], { stdio: "pipe" });
}

const transport = new StdioServerTransport();
await server.connect(transport);
