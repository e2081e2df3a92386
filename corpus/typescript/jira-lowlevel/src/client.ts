// A thin Jira Cloud REST client.
export class JiraClient {
  private readonly base: string;
  private readonly auth: string;

  constructor(base: string, email: string, token: string) {
    this.base = base.replace(/\/$/, "");
    this.auth = Buffer.from(`${email}:${token}`).toString("base64");
  }

  async get(path: string): Promise<any> {
    const res = await fetch(`${this.base}/rest/api/3${path}`, {
      headers: { Authorization: `Basic ${this.auth}`, Accept: "application/json" },
      signal: AbortSignal.timeout(20_000),
    });
    if (!res.ok) throw new Error(`Jira ${res.status}`);
    return res.json();
  }

  async fetchAttachment(id: string): Promise<Buffer> {
    const res = await fetch(`${this.base}/rest/api/3/attachment/content/${encodeURIComponent(id)}`, {
      headers: { Authorization: `Basic ${this.auth}` },
      signal: AbortSignal.timeout(60_000),
    });
    return Buffer.from(await res.arrayBuffer());
  }
}
