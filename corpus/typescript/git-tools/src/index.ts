// Git tools over execFile: no shell, but refs and paths come from the model.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const REPO = process.env.GIT_REPO_PATH ?? process.cwd();

async function git(args: string[]): Promise<string> {
  // ok: argument-injection-from-tool-argument
  const { stdout } = await execFileAsync("git", args, { cwd: REPO, timeout: 15_000, maxBuffer: 10 * 1024 * 1024 });
  return stdout;
}

// ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
const server = new McpServer({ name: "git-tools", version: "1.2.0" });

server.registerTool(
  "git_status",
  { title: "Status", description: "Show the working tree status", inputSchema: {} },
  async () => ({ content: [{ type: "text", text: await git(["status", "--short"]) }] }),
);

server.registerTool(
  "git_log",
  {
    description: "Show commit logs",
    inputSchema: { max_count: z.number().int().min(1).max(200).default(20), author: z.string().optional() },
  },
  async ({ max_count, author }) => {
    const args = ["log", `--max-count=${max_count}`, "--format=%h %an %s"];
    if (author) {
      args.push(`--author=${author}`);
    }
    return { content: [{ type: "text", text: await git(args) }] };
  },
);

server.registerTool(
  "git_show",
  { description: "Show a commit", inputSchema: { revision: z.string() } },
  async ({ revision }) => {
    // ruleid: argument-injection-from-tool-argument
    const { stdout } = await execFileAsync("git", ["show", revision], { cwd: REPO, timeout: 15_000 });
    return { content: [{ type: "text", text: stdout }] };
  },
);

server.registerTool(
  "git_diff",
  { description: "Diff against a target", inputSchema: { target: z.string() } },
  async ({ target }) => {
    // ok: argument-injection-from-tool-argument
    const { stdout } = await execFileAsync("git", ["diff", "--end-of-options", target], { cwd: REPO, timeout: 15_000 });
    return { content: [{ type: "text", text: stdout }] };
  },
);

server.registerTool(
  "git_checkout",
  {
    description: "Switch branches",
    inputSchema: { branch: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/]*$/) },
  },
  async ({ branch }) => {
    // ok: argument-injection-from-tool-argument
    const { stdout } = await execFileAsync("git", ["checkout", branch], { cwd: REPO, timeout: 15_000 });
    return { content: [{ type: "text", text: stdout || `switched to ${branch}` }] };
  },
);

server.registerTool(
  "git_add",
  { description: "Stage files", inputSchema: { files: z.array(z.string()) } },
  async ({ files }) => {
    // ruleid: argument-injection-from-tool-argument
    const { stdout } = await execFileAsync("git", ["add", ...files], { cwd: REPO, timeout: 15_000 });
    return { content: [{ type: "text", text: stdout || "staged" }] };
  },
);

server.registerTool(
  "git_grep",
  { description: "Search tracked files", inputSchema: { pattern: z.string() } },
  async ({ pattern }) => {
    // ok: argument-injection-from-tool-argument
    const { stdout } = await execFileAsync("git", ["grep", "-n", "-e", pattern], { cwd: REPO, timeout: 15_000 });
    return { content: [{ type: "text", text: stdout }] };
  },
);

const transport = new StdioServerTransport();
await server.connect(transport);
