import { db } from "../db.js";

export async function handleRender({ id, expression }: { id: number; expression: string }) {
  const note = db.prepare("SELECT title, body FROM notes WHERE id = ?").get(id) as { title: string; body: string };
  // ruleid: code-evaluation-of-tool-argument
  const render = new Function("note", `return ${expression};`);
  // ruleid: untrusted-content-returned-unmarked
  return { content: [{ type: "text" as const, text: String(render(note)) }] };
}
