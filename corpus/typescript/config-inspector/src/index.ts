// Inspect and render the service's configuration: environment, YAML files, templates.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import yaml from "js-yaml";
import Handlebars from "handlebars";
import ejs from "ejs";
import serialize from "node-serialize";
import fs from "node:fs/promises";
import path from "node:path";

const CONFIG_DIR = path.resolve(process.env.CONFIG_DIR ?? "./config");
const PUBLIC_VARS = new Set(["NODE_ENV", "LOG_LEVEL", "REGION", "PORT"]);

const server = new McpServer({ name: "config-inspector", version: "0.3.0" });

server.tool("show_environment", "Show the service environment.", {}, async () => {
  // ruleid: environment-returned-to-model
  return { content: [{ type: "text", text: JSON.stringify(process.env, null, 2) }] };
});

server.tool("get_variable", "Read one environment variable.", { name: z.string() }, async ({ name }) => {
  const value = process.env[name];
  // ruleid: environment-returned-to-model
  return { content: [{ type: "text", text: value ?? "(unset)" }] };
});

server.tool("get_public_variable", "Read one non-secret environment variable.", { name: z.string() }, async ({ name }) => {
  if (!PUBLIC_VARS.has(name)) {
    throw new Error(`${name} is not a public variable`);
  }
  // ok: environment-returned-to-model
  return { content: [{ type: "text", text: process.env[name] ?? "(unset)" }] };
});

server.tool("parse_yaml", "Parse a YAML document and return it as JSON.", { document: z.string() }, async ({ document }) => {
  // ok: unsafe-deserialization-of-tool-argument
  const parsed = yaml.load(document, { schema: yaml.JSON_SCHEMA });
  return { content: [{ type: "text", text: JSON.stringify(parsed) }] };
});

server.tool("restore_session", "Restore a saved session blob.", { blob: z.string() }, async ({ blob }) => {
  // ruleid: unsafe-deserialization-of-tool-argument
  const session = serialize.unserialize(blob);
  return { content: [{ type: "text", text: `restored ${Object.keys(session).length} keys` }] };
});

server.tool(
  "render_template",
  "Render a Handlebars template with the service settings.",
  { template: z.string() },
  async ({ template }) => {
    const settings = yaml.load(await fs.readFile(path.join(CONFIG_DIR, "settings.yaml"), "utf-8"));
    // ruleid: template-from-tool-argument
    const render = Handlebars.compile(template);
    return { content: [{ type: "text", text: render(settings) }] };
  },
);

server.tool(
  "render_page",
  "Render a stored EJS page with a title.",
  { page: z.enum(["status", "about"]), title: z.string() },
  async ({ page, title }) => {
    // ok: unbounded-read-of-tool-chosen-file
    const source = await fs.readFile(path.join(CONFIG_DIR, "pages", `${page}.ejs`), "utf-8");
    // ok: template-from-tool-argument
    const html = ejs.render(source, { title });
    return { content: [{ type: "text", text: html }] };
  },
);

server.tool("render_inline", "Render an inline EJS snippet.", { snippet: z.string() }, async ({ snippet }) => {
  // ruleid: template-from-tool-argument
  const html = ejs.render(snippet, { env: process.env.NODE_ENV });
  return { content: [{ type: "text", text: html }] };
});

await server.connect(new StdioServerTransport());
