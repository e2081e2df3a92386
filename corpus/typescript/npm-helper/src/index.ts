// npm and git helpers: package metadata, installs, clones. Argument vectors throughout.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { execFile, exec } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";

const execFileAsync = promisify(execFile);
const execAsync = promisify(exec);
const PROJECT = process.env.PROJECT_DIR ?? process.cwd();
const PACKAGE_NAME = /^(@[a-z0-9~][a-z0-9-._~]*\/)?[a-z0-9~][a-z0-9-._~]*$/;

// ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
const server = new McpServer({ name: "npm-helper", version: "1.0.4" });

server.tool("package_info", "Show registry metadata of a package.", { pkg: z.string() }, async ({ pkg }) => {
  // ruleid: argument-injection-from-tool-argument
  const { stdout } = await execFileAsync("npm", ["view", pkg, "--json"], { timeout: 20_000 });
  return { content: [{ type: "text", text: stdout }] };
});

server.tool("package_info_safe", "Show registry metadata of a package.", { pkg: z.string().regex(PACKAGE_NAME) }, async ({ pkg }) => {
  // ok: argument-injection-from-tool-argument
  const { stdout } = await execFileAsync("npm", ["view", pkg, "--json"], { timeout: 20_000 });
  return { content: [{ type: "text", text: stdout }] };
});

server.tool("install", "Install a dependency into the project.", { spec: z.string() }, async ({ spec }) => {
  // ruleid: shell-command-from-tool-argument
  const { stdout } = await execAsync(`npm install ${spec}`, { cwd: PROJECT, timeout: 120_000 });
  return { content: [{ type: "text", text: stdout }] };
});

server.tool("clone", "Clone a git repository into the workspace.", { url: z.string(), name: z.string() }, async ({ url, name }) => {
  const dest = path.join(PROJECT, "vendor", path.basename(name));
  // ruleid: argument-injection-from-tool-argument
  await execFileAsync("git", ["clone", url, dest], { timeout: 120_000 });
  return { content: [{ type: "text", text: `cloned into ${dest}` }] };
});

server.tool("clone_safe", "Clone a git repository into the workspace.", { url: z.string().url(), name: z.string() }, async ({ url, name }) => {
  const dest = path.join(PROJECT, "vendor", path.basename(name));
  // ok: argument-injection-from-tool-argument
  await execFileAsync("git", ["clone", "--", url, dest], { timeout: 120_000 });
  return { content: [{ type: "text", text: `cloned into ${dest}` }] };
});

server.tool("git_log", "Show recent commits touching a file.", { file: z.string(), count: z.number().int().max(100) }, async ({ file, count }) => {
  // ok: argument-injection-from-tool-argument
  const { stdout } = await execFileAsync("git", ["log", "-n", String(count), "--oneline", "--", file], { cwd: PROJECT, timeout: 20_000 });
  return { content: [{ type: "text", text: stdout }] };
});

server.tool("run_script", "Run a package.json script.", { script: z.string() }, async ({ script }) => {
  const args = `run ${script}`.split(" ");
  // ruleid: argument-injection-from-tool-argument
  const { stdout } = await execFileAsync("npm", args, { cwd: PROJECT, timeout: 300_000 });
  return { content: [{ type: "text", text: stdout }] };
});

await server.connect(new StdioServerTransport());
