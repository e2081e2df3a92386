#!/usr/bin/env node
// Evaluate JavaScript and Python snippets for the model (ESM, McpServer.tool).
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import vm from "node:vm";
import { exec, execFile } from "node:child_process";
import { promisify } from "node:util";
import { writeFile, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const execAsync = promisify(exec);
const execFileAsync = promisify(execFile);
// ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
const server = new McpServer({ name: "code-sandbox", version: "0.7.1" });

server.tool("eval_js", "Evaluate a JavaScript expression.", { code: z.string() }, async ({ code }) => {
  // ruleid: code-evaluation-of-tool-argument
  const result = vm.runInNewContext(code, { Math, JSON }, { timeout: 1000 });
  return { content: [{ type: "text", text: String(result) }] };
});

server.tool("calc", "Evaluate an arithmetic expression.", { expression: z.string().regex(/^[0-9+\-*/(). ]+$/) }, async ({ expression }) => {
  // ok: code-evaluation-of-tool-argument
  const value = new Function(`return (${expression});`)();
  return { content: [{ type: "text", text: String(value) }] };
});

server.tool("compile_fn", "Build a function from a body and run it.", { body: z.string(), arg: z.number() }, async ({ body, arg }) => {
  // ruleid: code-evaluation-of-tool-argument
  const fn = new Function("x", body);
  return { content: [{ type: "text", text: String(fn(arg)) }] };
});

server.tool("run_python", "Run a Python snippet.", { source: z.string() }, async ({ source }) => {
  // ruleid: partial-shell-escaping
  const { stdout, stderr } = await execAsync(`python3 -c ${JSON.stringify(source)}`, { timeout: 10_000 });
  return { content: [{ type: "text", text: stdout + stderr }] };
});

server.tool("run_python_file", "Run a Python snippet from a temporary file.", { source: z.string() }, async ({ source }) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sandbox-"));
  const file = path.join(dir, "main.py");
  await writeFile(file, source, "utf-8");
  // ok: shell-command-from-tool-argument
  const { stdout, stderr } = await execFileAsync("python3", [file], { timeout: 10_000 });
  return { content: [{ type: "text", text: stdout + stderr }] };
});

server.tool("python_version", "Report the Python version.", {}, async () => {
  // ok: shell-command-from-tool-argument
  const { stdout } = await execAsync("python3 --version", { timeout: 5_000 });
  return { content: [{ type: "text", text: stdout }] };
});

server.tool("load_plugin", "Load a formatter plugin by name.", { name: z.string() }, async ({ name }) => {
  // ruleid: code-evaluation-of-tool-argument
  const plugin = await import(`./plugins/${name}.mjs`);
  return { content: [{ type: "text", text: plugin.describe() }] };
});

await server.connect(new StdioServerTransport());
