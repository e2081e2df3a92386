#!/usr/bin/env node
// Jira on the low-level Server: a class owns the client and dispatches tool calls.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { JiraClient } from "./client.js";
import { downloadAttachment, downloadAttachmentSafe } from "./tools/attachments.js";

class JiraServer {
  private server: Server;
  private client: JiraClient;

  constructor() {
    this.client = new JiraClient(process.env.JIRA_URL!, process.env.JIRA_EMAIL!, process.env.JIRA_API_TOKEN!);
    // ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
    this.server = new Server({ name: "jira-lowlevel", version: "0.9.2" }, { capabilities: { tools: {} } });
    this.server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
    this.server.setRequestHandler(CallToolRequestSchema, async (request) => this.handle(request));
  }

  private async handle(request: any) {
    const args = request.params.arguments ?? {};
    switch (request.params.name) {
      case "search_issues": {
        const jql = String(args.jql);
        const data = await this.client.get(`/search?jql=${encodeURIComponent(jql)}&fields=summary,status`);
        const text = data.issues.map((i: any) => `${i.key} [${i.fields.status.name}] ${i.fields.summary}`).join("\n");
        // ruleid: untrusted-content-returned-unmarked
        return { content: [{ type: "text", text }] };
      }
      case "get_issue_status": {
        const key = String(args.key);
        const issue = await this.client.get(`/issue/${encodeURIComponent(key)}?fields=status,updated`);
        // ok: untrusted-content-returned-unmarked
        return { content: [{ type: "text", text: `${issue.key}: ${issue.fields.status.id} updated ${issue.fields.updated}` }] };
      }
      case "get_issue_raw": {
        const key = String(args.key);
        // ruleid: request-to-tool-chosen-url
        const res = await fetch(`${process.env.JIRA_URL}${key}`, { signal: AbortSignal.timeout(20_000) });
        // ok: untrusted-content-returned-unmarked
        return { content: [{ type: "text", text: `status ${res.status}` }] };
      }
      case "download_attachment": {
        const target = await downloadAttachment(this.client, String(args.id), String(args.filename));
        return { content: [{ type: "text", text: `saved to ${target}` }] };
      }
      case "download_attachment_safe": {
        const target = await downloadAttachmentSafe(this.client, String(args.id), String(args.filename));
        return { content: [{ type: "text", text: `saved to ${target}` }] };
      }
      default:
        throw new Error(`Unknown tool: ${request.params.name}`);
    }
  }

  async run() {
    await this.server.connect(new StdioServerTransport());
  }
}

new JiraServer().run().catch((err) => {
  console.error(err);
  process.exit(1);
});
