#!/usr/bin/env node
// kubectl wrapper in CommonJS: tools registered on McpServer with plain JSON shapes.
const { McpServer } = require("@modelcontextprotocol/sdk/server/mcp.js");
const { StdioServerTransport } = require("@modelcontextprotocol/sdk/server/stdio.js");
const { z } = require("zod");
const { execFileSync, execSync } = require("child_process");
const yaml = require("js-yaml");
const fs = require("fs");
const os = require("os");
const path = require("path");

const KUBECONFIG = process.env.KUBECONFIG || path.join(os.homedir(), ".kube", "config");
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function kubectl(args) {
  // ok: argument-injection-from-tool-argument
  return execFileSync("kubectl", args, { env: { ...process.env, KUBECONFIG }, timeout: 30000 }).toString();
}

// ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
const server = new McpServer({ name: "kube-helper", version: "1.0.3" });

server.tool("get_pods", { namespace: z.string().regex(/^[a-z0-9-]+$/) }, async ({ namespace }) => {
  return { content: [{ type: "text", text: kubectl(["get", "pods", "-n", namespace, "-o", "wide"]) }] };
});

server.tool("describe", { kind: z.enum(["pod", "deployment", "service"]), name: z.string() }, async ({ kind, name }) => {
  if (!NAME.test(name)) {
    throw new Error("invalid resource name");
  }
  return { content: [{ type: "text", text: kubectl(["describe", kind, name]) }] };
});

server.tool("logs", { pod: z.string(), container: z.string().optional() }, async ({ pod, container }) => {
  const args = ["logs", pod, "--tail=200"];
  if (container) args.push("-c", container);
  // ruleid: argument-injection-from-tool-argument
  const out = execFileSync("kubectl", args, { timeout: 30000 }).toString();
  return { content: [{ type: "text", text: out }] };
});

server.tool("kubectl", { command: z.string() }, async ({ command }) => {
  // ruleid: shell-command-from-tool-argument
  const out = execSync(`kubectl ${command}`, { env: { ...process.env, KUBECONFIG }, timeout: 30000 }).toString();
  return { content: [{ type: "text", text: out }] };
});

server.tool("apply_manifest", { manifest: z.string() }, async ({ manifest }) => {
  const doc = yaml.load(manifest);
  const file = path.join(os.tmpdir(), `manifest-${Date.now()}.yaml`);
  fs.writeFileSync(file, yaml.dump(doc));
  // ok: argument-injection-from-tool-argument
  const out = execFileSync("kubectl", ["apply", "-f", file], { timeout: 30000 }).toString();
  return { content: [{ type: "text", text: out }] };
});

server.tool("current_context", {}, async () => {
  // ok: shell-command-from-tool-argument
  const out = execSync("kubectl config current-context", { timeout: 5000 }).toString();
  return { content: [{ type: "text", text: out }] };
});

server.connect(new StdioServerTransport());
