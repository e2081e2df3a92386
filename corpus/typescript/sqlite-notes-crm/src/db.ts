import Database from "better-sqlite3";

export const db = new Database(process.env.CRM_DB ?? "crm.sqlite", { readonly: false });

export function findCustomer(id: number) {
  // ok: sql-built-from-tool-argument
  return db.prepare("SELECT id, name, email, tier FROM customers WHERE id = ?").get(id);
}

export function searchTickets(column: string, term: string) {
  // ruleid: sql-built-from-tool-argument
  return db.prepare(`SELECT id, subject, body FROM tickets WHERE ${column} LIKE ?`).all(`%${term}%`);
}
