// A class that wraps the low-level Server and registers bound methods.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { spawn, exec } from "node:child_process";
import { promisify } from "node:util";
import { createWriteStream } from "node:fs";
import path from "node:path";

const execAsync = promisify(exec);
const EXPORT_DIR = "/var/lib/docker-manager/exports";

interface RunArgs {
  image: string;
  command?: string;
}

export class DockerManager {
  private server: Server;

  constructor() {
    // ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
    this.server = new Server({ name: "docker-manager", version: "2.1.0" }, { capabilities: { tools: {} } });
    this.server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
    this.server.setRequestHandler(CallToolRequestSchema, this.handleCall.bind(this));
  }

  private async handleCall(request: CallToolRequest) {
    const args = (request.params.arguments ?? {}) as Record<string, string>;
    switch (request.params.name) {
      case "list_containers":
        return this.listContainers();
      case "run_container":
        return this.runContainer({ image: args.image, command: args.command });
      case "container_logs":
        return this.logs(args.id);
      case "export_container":
        return this.exportContainer(args.id, args.file);
      default:
        throw new Error(`Unknown tool ${request.params.name}`);
    }
  }

  private async listContainers() {
    // ok: shell-command-from-tool-argument
    // ruleid: outbound-call-without-timeout
    const { stdout } = await execAsync("docker ps --format '{{.ID}} {{.Image}} {{.Status}}'");
    return { content: [{ type: "text", text: stdout }] };
  }

  private async runContainer({ image, command }: RunArgs) {
    // ruleid: shell-command-from-tool-argument
    // ok: outbound-call-without-timeout
    const { stdout } = await execAsync(`docker run --rm ${image} ${command ?? ""}`, { timeout: 120_000 });
    return { content: [{ type: "text", text: stdout }] };
  }

  private async logs(id: string) {
    // ruleid: argument-injection-from-tool-argument, outbound-call-without-timeout
    const child = spawn("docker", ["logs", "--tail", "100", id]);
    let out = "";
    for await (const chunk of child.stdout) out += chunk;
    return { content: [{ type: "text", text: out }] };
  }

  private async exportContainer(id: string, file: string) {
    // ruleid: path-traversal-from-tool-argument
    const target = createWriteStream(path.join(EXPORT_DIR, file));
    // ok: argument-injection-from-tool-argument, outbound-call-without-timeout
    const child = spawn("docker", ["export", "--", id]);
    child.stdout.pipe(target);
    return { content: [{ type: "text", text: `exporting ${id}` }] };
  }

  async run() {
    await this.server.connect(new StdioServerTransport());
  }
}

new DockerManager().run().catch(console.error);
