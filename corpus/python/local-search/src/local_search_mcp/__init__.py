"""local-search-mcp: fast search over your local projects with ripgrep and fd."""
