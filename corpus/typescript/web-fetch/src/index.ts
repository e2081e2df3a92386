// Fetch a URL and return it as markdown, plus a few API helpers.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import axios from "axios";
import TurndownService from "turndown";
import dns from "node:dns/promises";
import net from "node:net";

const turndown = new TurndownService();
const USER_AGENT = "ModelContextProtocol/1.0 (Autonomous; +https://github.com/modelcontextprotocol/servers)";
const WEATHER_API = "https://api.weather.example.com/v1";
const BLOCKED_HOSTS = new Set(["localhost", "127.0.0.1", "0.0.0.0", "169.254.169.254"]);

function isPrivate(address: string): boolean {
  return address.startsWith("10.") || address.startsWith("127.") || address.startsWith("192.168.") || address.startsWith("169.254.");
}

// ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
const server = new McpServer({ name: "web-fetch", version: "0.9.0" });

server.tool(
  "fetch",
  "Fetch a URL from the internet and return its content as markdown.",
  { url: z.string().url(), max_length: z.number().int().default(5000) },
  async ({ url, max_length }) => {
    // ruleid: request-to-tool-chosen-url
    // ok: outbound-call-without-timeout
    const response = await fetch(url, { headers: { "User-Agent": USER_AGENT }, signal: AbortSignal.timeout(30_000) });
    const html = await response.text();
    const markdown = turndown.turndown(html).slice(0, max_length);
    // ruleid: untrusted-content-returned-unmarked
    return { content: [{ type: "text", text: `Contents of ${url}:\n${markdown}` }] };
  },
);

server.tool(
  "fetch_checked",
  "Fetch a public URL; private addresses are refused.",
  { url: z.string().url() },
  async ({ url }) => {
    const { hostname } = new URL(url);
    // ruleid: host-blocklist-without-dns-resolution
    if (BLOCKED_HOSTS.has(hostname)) {
      throw new Error("blocked host");
    }
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    const body = await response.text();
    // ok: untrusted-content-returned-unmarked
    return { content: [{ type: "text", text: `<untrusted-content source="${url}">\n${body}\n</untrusted-content>` }] };
  },
);

server.tool(
  "fetch_resolved",
  "Fetch a public URL after resolving its host.",
  { url: z.string().url() },
  async ({ url }) => {
    const parsed = new URL(url);
    const { address } = await dns.lookup(parsed.hostname);
    // ok: host-blocklist-without-dns-resolution
    if (isPrivate(address) || net.isIP(parsed.hostname) === 6) {
      throw new Error("private address");
    }
    const response = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(30_000) });
    // ok: untrusted-content-returned-unmarked
    return { content: [{ type: "text", text: `status ${response.status}` }] };
  },
);

server.tool(
  "weather",
  "Current weather for a city.",
  { city: z.string() },
  async ({ city }) => {
    // ok: request-to-tool-chosen-url, outbound-call-without-timeout
    const { data } = await axios.get(`${WEATHER_API}/current?city=${encodeURIComponent(city)}`, { timeout: 10_000 });
    // ok: untrusted-content-returned-unmarked
    return { content: [{ type: "text", text: `${data.temperature}°C` }] };
  },
);

server.tool(
  "webhook",
  "POST a JSON payload to a webhook.",
  { endpoint: z.string(), payload: z.record(z.string()) },
  async ({ endpoint, payload }) => {
    // ruleid: request-to-tool-chosen-url
    const res = await axios.post(endpoint, payload, { timeout: 10_000 });
    return { content: [{ type: "text", text: `HTTP ${res.status}` }] };
  },
);

await server.connect(new StdioServerTransport());
