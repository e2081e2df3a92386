#!/usr/bin/env python3
"""Writes a tree of N realistic MCP client configs (all clients and formats) for benchmarks."""
import os
import random
import sys

root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
TOKEN = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"

def servers_json(n):
    parts = []
    for i in range(n):
        kind = rng.randrange(4)
        if kind == 0:
            parts.append(f'"fs{i}": {{"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/u/p{i}"]}}')
        elif kind == 1:
            parts.append(f'"gh{i}": {{"command": "docker", "args": ["run", "-i", "--rm", "-e", "T", "ghcr.io/github/github-mcp-server"], "env": {{"GITHUB_PERSONAL_ACCESS_TOKEN": "{TOKEN}"}}}}')
        elif kind == 2:
            parts.append(f'"r{i}": {{"url": "http://mcp{i}.example.com/mcp", "headers": {{"Authorization": "Bearer ${{env:TOKEN}}"}}}}')
        else:
            parts.append(f'"t{i}": {{"command": "uvx", "args": ["mcp-server-time==2025.9.25"], "env": {{"TZ": "UTC"}}}}')
    return ",\n    ".join(parts)

layouts = [
    (".mcp.json", lambda n: '{\n  "mcpServers": {\n    ' + servers_json(n) + "\n  }\n}\n"),
    (".cursor/mcp.json", lambda n: '{\n  "mcpServers": {\n    ' + servers_json(n) + "\n  }\n}\n"),
    (".vscode/mcp.json", lambda n: '{\n  // workspace\n  "servers": {\n    ' + servers_json(n) + ",\n  },\n}\n"),
    (".codex/config.toml", lambda n: "".join(f'[mcp_servers.s{i}]\ncommand = "npx"\nargs = ["-y", "pkg{i}"]\nenv = {{ K = "v" }}\n\n' for i in range(n))),
    (".continue/mcpServers/db.yaml", lambda n: "name: db\nversion: 0.0.1\nschema: v1\nmcpServers:\n" + "".join(f"  - name: s{i}\n    command: npx\n    args: [\"-y\", \"pkg{i}@1.0.{i}\"]\n" for i in range(n))),
]
for k in range(count):
    rel, make = layouts[k % len(layouts)]
    path = os.path.join(root, f"repo{k // len(layouts):04d}", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(make(rng.randrange(2, 12)))
