#!/usr/bin/env node
// Archive tools (CommonJS): list, extract and create zip and tar archives in a workspace.
const { McpServer } = require("@modelcontextprotocol/sdk/server/mcp.js");
const { StdioServerTransport } = require("@modelcontextprotocol/sdk/server/stdio.js");
const { z } = require("zod");
const AdmZip = require("adm-zip");
const tar = require("tar");
const extract = require("extract-zip");
const unzipper = require("unzipper");
const path = require("node:path");
const fs = require("node:fs");

const WORKSPACE = path.resolve(process.env.ARCHIVE_WORKSPACE || "./workspace");

function insideWorkspace(candidate) {
  const resolved = fs.realpathSync(path.resolve(WORKSPACE, candidate));
  return resolved === WORKSPACE || resolved.startsWith(WORKSPACE + path.sep);
}

// ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
const server = new McpServer({ name: "archive-tools", version: "0.5.0" });

server.tool("list_zip", "List the entries of a zip archive.", { archive: z.string() }, async ({ archive }) => {
  if (!insideWorkspace(archive)) {
    throw new Error("archive must be inside the workspace");
  }
  const zip = new AdmZip(path.resolve(WORKSPACE, archive));
  const names = zip.getEntries().map((e) => `${e.entryName} (${e.header.size} bytes)`);
  return { content: [{ type: "text", text: names.join("\n") }] };
});

server.tool(
  "extract_zip",
  "Extract a zip archive into a folder of the workspace.",
  { archive: z.string(), dest: z.string() },
  async ({ archive, dest }) => {
    const zip = new AdmZip(path.join(WORKSPACE, path.basename(archive)));
    const target = path.join(WORKSPACE, path.basename(dest));
    // ruleid: archive-extraction-without-member-checks
    zip.extractAllTo(target, true);
    return { content: [{ type: "text", text: `extracted to ${target}` }] };
  },
);

server.tool(
  "extract_zip_checked",
  "Extract a zip archive, refusing entries that leave the folder.",
  { archive: z.string() },
  async ({ archive }) => {
    const zip = new AdmZip(path.join(WORKSPACE, path.basename(archive)));
    const target = path.join(WORKSPACE, "extracted");
    for (const entry of zip.getEntries()) {
      const out = path.resolve(target, entry.entryName);
      if (!out.startsWith(target + path.sep)) {
        throw new Error(`entry escapes the folder: ${entry.entryName}`);
      }
    }
    // ok: archive-extraction-without-member-checks
    zip.extractAllTo(target, true);
    return { content: [{ type: "text", text: `extracted to ${target}` }] };
  },
);

server.tool("untar", "Extract a tarball from the workspace.", { archive: z.string() }, async ({ archive }) => {
  const file = path.join(WORKSPACE, path.basename(archive));
  // ok: archive-extraction-without-member-checks
  await tar.x({ file, cwd: path.join(WORKSPACE, "extracted") });
  return { content: [{ type: "text", text: "done" }] };
});

server.tool("extract_download", "Extract a downloaded zip.", { zipPath: z.string() }, async ({ zipPath }) => {
  // ruleid: path-traversal-from-tool-argument, archive-extraction-without-member-checks
  await extract(zipPath, { dir: path.join(WORKSPACE, "downloads") });
  return { content: [{ type: "text", text: "extracted" }] };
});

server.tool("unzip_stream", "Extract a zip with unzipper.", { archive: z.string() }, async ({ archive }) => {
  // ruleid: path-traversal-from-tool-argument
  const directory = await unzipper.Open.file(archive);
  await directory.extract({ path: path.join(WORKSPACE, "unzipped") });
  return { content: [{ type: "text", text: `${directory.files.length} files` }] };
});

server.tool(
  "read_entry",
  "Read one text entry of a zip archive.",
  { archive: z.string(), entry: z.string() },
  async ({ archive, entry }) => {
    // ruleid: path-traversal-from-tool-argument
    const zip = new AdmZip(archive);
    const data = zip.readAsText(entry);
    return { content: [{ type: "text", text: data.slice(0, 20_000) }] };
  },
);

server.connect(new StdioServerTransport());
