import Database from "better-sqlite3";
import path from "node:path";
import os from "node:os";

export const db = new Database(process.env.NOTES_DB ?? path.join(os.homedir(), ".notes.sqlite"));
db.pragma("journal_mode = WAL");
db.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, title TEXT, body TEXT, tags TEXT)");
