#!/usr/bin/env node
// Entry point: tools are defined in their own modules and registered here.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { searchNotes, addNote, getNote, noteStats } from "./tools/notes.js";
import { exportNotes, importNotes } from "./tools/files.js";
import { handleRender } from "./tools/render.js";

// ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
const server = new McpServer({ name: "notes-sqlite", version: "0.2.0" });

server.tool("search_notes", "Full-text search", { query: z.string(), limit: z.number().int().default(20) }, searchNotes);
server.tool("add_note", "Add a note", { title: z.string(), body: z.string(), tags: z.array(z.string()).default([]) }, addNote);
server.tool("get_note", "Get a note by id", { id: z.number().int() }, getNote);
server.tool("note_stats", "Counts by tag", { order: z.enum(["asc", "desc"]).default("desc") }, noteStats);
server.tool("export_notes", "Export notes to a markdown file", { filename: z.string() }, exportNotes);
server.tool("import_notes", "Import notes from a JSON file in the inbox", { filename: z.string() }, importNotes);
server.tool("render_note", "Render a note with a template expression", { id: z.number().int(), expression: z.string() }, handleRender);

await server.connect(new StdioServerTransport());
