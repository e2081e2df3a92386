import fs from "node:fs/promises";
import path from "node:path";
import { db } from "../db.js";

const EXPORT_DIR = path.join(process.cwd(), "exports");
const INBOX = path.join(process.cwd(), "inbox");

export async function exportNotes({ filename }: { filename: string }) {
  const rows = db.prepare("SELECT title, body FROM notes").all() as { title: string; body: string }[];
  const markdown = rows.map((r) => `# ${r.title}\n\n${r.body}`).join("\n\n");
  const target = path.join(EXPORT_DIR, path.basename(filename));
  // ok: path-traversal-from-tool-argument
  await fs.writeFile(target, markdown, "utf8");
  return { content: [{ type: "text" as const, text: `exported ${rows.length} notes` }] };
}

export async function importNotes({ filename }: { filename: string }) {
  // ruleid: path-traversal-from-tool-argument, unbounded-read-of-tool-chosen-file
  const raw = await fs.readFile(path.join(INBOX, filename), "utf8");
  const notes = JSON.parse(raw) as { title: string; body: string }[];
  const insert = db.prepare("INSERT INTO notes (title, body, tags) VALUES (?, ?, '')");
  for (const n of notes) insert.run(n.title, n.body);
  return { content: [{ type: "text" as const, text: `imported ${notes.length} notes` }] };
}
