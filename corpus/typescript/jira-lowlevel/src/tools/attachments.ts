import fs from "node:fs/promises";
import path from "node:path";
import type { JiraClient } from "../client.js";

const DOWNLOAD_DIR = path.resolve(process.env.JIRA_DOWNLOAD_DIR ?? "./downloads");

export async function downloadAttachment(client: JiraClient, attachmentId: string, filename: string): Promise<string> {
  const data = await client.fetchAttachment(attachmentId);
  const target = path.join(DOWNLOAD_DIR, filename);
  // ruleid: path-traversal-from-tool-argument
  await fs.writeFile(target, data);
  return target;
}

export async function downloadAttachmentSafe(client: JiraClient, attachmentId: string, filename: string): Promise<string> {
  const data = await client.fetchAttachment(attachmentId);
  const target = path.join(DOWNLOAD_DIR, path.basename(filename));
  // ok: path-traversal-from-tool-argument
  await fs.writeFile(target, data);
  return target;
}
