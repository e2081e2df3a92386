"""jira-mcp: search, read and comment on Jira Cloud issues.

Configure JIRA_URL (https://yourcompany.atlassian.net), JIRA_EMAIL and JIRA_API_TOKEN.
"""

import base64
import os
import traceback

import aiohttp
import jinja2
from mcp.server.fastmcp import FastMCP

JIRA_URL = os.environ.get("JIRA_URL", "").rstrip("/")
JIRA_EMAIL = os.environ.get("JIRA_EMAIL", "")
JIRA_API_TOKEN = os.environ.get("JIRA_API_TOKEN", "")

REPORT_TEMPLATE = jinja2.Template(
    "{{ key }}: {{ summary }}\nStatus: {{ status }} | Assignee: {{ assignee or 'unassigned' }}\n"
)

# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
mcp = FastMCP("jira")


def _auth_header() -> dict:
    raw = f"{JIRA_EMAIL}:{JIRA_API_TOKEN}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode(), "Accept": "application/json"}


async def _get(path: str, params: dict | None = None) -> dict:
    async with aiohttp.ClientSession(headers=_auth_header()) as session:
        # ok: request-to-tool-chosen-url
        async with session.get(f"{JIRA_URL}/rest/api/3/{path}", params=params, timeout=aiohttp.ClientTimeout(total=30)) as resp:
            resp.raise_for_status()
            return await resp.json()


def _adf_to_text(node: dict) -> str:
    """Flatten Atlassian Document Format to plain text."""
    if node is None:
        return ""
    if node.get("type") == "text":
        return node.get("text", "")
    parts = [_adf_to_text(child) for child in node.get("content", [])]
    sep = "\n" if node.get("type") in ("paragraph", "heading", "listItem") else ""
    return sep.join(parts)


@mcp.tool()
async def get_issue(key: str) -> str:
    """Summary, status and description of an issue such as PROJ-123."""
    try:
        issue = await _get(f"issue/{key}", {"fields": "summary,status,assignee,description"})
    except Exception as e:
        # ruleid: stack-trace-returned-to-model
        return f"Failed to fetch {key}: {e}\n{traceback.format_exc()}"
    f = issue["fields"]
    description = _adf_to_text(f.get("description") or {})
    # ruleid: untrusted-content-returned-unmarked
    return f"{key}: {f['summary']}\nStatus: {f['status']['name']}\n\n{description}"


@mcp.tool()
async def search(jql: str, limit: int = 20) -> list[dict]:
    """Search issues with JQL."""
    try:
        data = await _get("search", {"jql": jql, "maxResults": min(limit, 100), "fields": "summary,status"})
    except aiohttp.ClientResponseError as e:
        # ok: stack-trace-returned-to-model
        return [{"error": f"Jira returned {e.status}"}]
    # ruleid: untrusted-content-returned-unmarked
    return [{"key": i["key"], "summary": i["fields"]["summary"], "status": i["fields"]["status"]["name"]} for i in data["issues"]]


@mcp.tool()
async def search_other_site(site: str, jql: str) -> list[str]:
    """Search a different Atlassian site of the organisation (e.g. `acme-support`)."""
    url = f"https://{site}.atlassian.net/rest/api/3/search"
    async with aiohttp.ClientSession(headers=_auth_header()) as session:
        # ruleid: request-to-tool-chosen-url
        async with session.get(url, params={"jql": jql, "fields": "summary"}) as resp:
            data = await resp.json()
    # ok: untrusted-content-returned-unmarked
    return [i["key"] for i in data.get("issues", [])]


@mcp.tool()
async def render_issue(key: str, template: str = "") -> str:
    """Render an issue with a Jinja template (default: a one-line summary).

    Variables: key, summary, status, assignee.
    """
    issue = await _get(f"issue/{key}", {"fields": "summary,status,assignee"})
    f = issue["fields"]
    values = {
        "key": key,
        "summary": f["summary"],
        "status": f["status"]["name"],
        "assignee": (f.get("assignee") or {}).get("displayName"),
    }
    if template:
        # ruleid: template-from-tool-argument, untrusted-content-returned-unmarked
        return jinja2.Template(template).render(**values)
    # ok: template-from-tool-argument
    # ruleid: untrusted-content-returned-unmarked
    return REPORT_TEMPLATE.render(**values)


@mcp.tool()
async def add_comment(key: str, body: str) -> str:
    """Add a plain-text comment to an issue."""
    payload = {"body": {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": body}]}]}}
    async with aiohttp.ClientSession(headers=_auth_header()) as session:
        # ok: request-to-tool-chosen-url
        async with session.post(f"{JIRA_URL}/rest/api/3/issue/{key}/comment", json=payload) as resp:
            if resp.status >= 400:
                return f"Jira returned {resp.status}"
            data = await resp.json()
    return f"comment {data['id']} added"


@mcp.tool()
async def transition(key: str, transition_name: str) -> str:
    """Move an issue through its workflow (e.g. 'In Progress', 'Done')."""
    try:
        options = await _get(f"issue/{key}/transitions")
        match = next(t for t in options["transitions"] if t["name"].lower() == transition_name.lower())
        async with aiohttp.ClientSession(headers=_auth_header()) as session:
            async with session.post(f"{JIRA_URL}/rest/api/3/issue/{key}/transitions",
                                    json={"transition": {"id": match["id"]}}) as resp:
                resp.raise_for_status()
        # ok: untrusted-content-returned-unmarked
        return f"{key} moved to {match['name']}"
    except StopIteration:
        return f"No transition called {transition_name!r}"
    except Exception as exc:
        # ruleid: stack-trace-returned-to-model
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


@mcp.tool()
def jira_config() -> dict:
    """The Jira site and account the server uses."""
    # ok: environment-returned-to-model
    return {"url": JIRA_URL, "email": JIRA_EMAIL, "token_configured": bool(JIRA_API_TOKEN)}


if __name__ == "__main__":
    mcp.run()
