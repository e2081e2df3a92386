import { db } from "../db.js";

type Result = { content: { type: "text"; text: string }[] };

export async function searchNotes({ query, limit }: { query: string; limit: number }): Promise<Result> {
  // ruleid: sql-built-from-tool-argument
  const rows = db.prepare(`SELECT id, title FROM notes WHERE body LIKE '%${query}%' LIMIT ${limit}`).all();
  // ruleid: untrusted-content-returned-unmarked
  return { content: [{ type: "text", text: JSON.stringify(rows) }] };
}

export async function addNote({ title, body, tags }: { title: string; body: string; tags: string[] }): Promise<Result> {
  // ok: sql-built-from-tool-argument
  const info = db.prepare("INSERT INTO notes (title, body, tags) VALUES (?, ?, ?)").run(title, body, tags.join(","));
  return { content: [{ type: "text", text: `added note ${info.lastInsertRowid}` }] };
}

export async function getNote({ id }: { id: number }): Promise<Result> {
  // ok: sql-built-from-tool-argument
  const row = db.prepare(`SELECT * FROM notes WHERE id = ${id}`).get();
  // ruleid: untrusted-content-returned-unmarked
  return { content: [{ type: "text", text: JSON.stringify(row) }] };
}

export async function noteStats({ order }: { order: "asc" | "desc" }): Promise<Result> {
  // ok: sql-built-from-tool-argument
  const rows = db.prepare(`SELECT tags, count(*) AS n FROM notes GROUP BY tags ORDER BY n ${order}`).all();
  // ok: untrusted-content-returned-unmarked
  return { content: [{ type: "text", text: JSON.stringify(rows) }] };
}
