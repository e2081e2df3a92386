"""github-issues-mcp: triage GitHub issues and pull requests from your assistant."""

import os

from mcp.server.fastmcp import FastMCP

from .client import GITHUB_TOKEN, GitHubClient, GitHubError, fence

# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
mcp = FastMCP("github-issues")
gh = GitHubClient()


@mcp.tool()
def get_issue(owner: str, repo: str, number: int) -> str:
    """Title, state, labels and body of an issue."""
    issue = gh.get(f"repos/{owner}/{repo}/issues/{int(number)}")
    labels = ", ".join(label["name"] for label in issue.get("labels", []))
    # ruleid: untrusted-content-returned-unmarked
    return f"#{issue['number']} {issue['title']} [{issue['state']}] ({labels})\n\n{issue.get('body') or ''}"


@mcp.tool()
def get_issue_comments(owner: str, repo: str, number: int) -> str:
    """The comments of an issue, oldest first."""
    comments = gh.get(f"repos/{owner}/{repo}/issues/{int(number)}/comments", per_page=100)
    text = "\n\n---\n\n".join(f"@{c['user']['login']}:\n{c['body']}" for c in comments)
    # ok: untrusted-content-returned-unmarked
    return fence(text, f"{owner}/{repo}#{number} comments")


@mcp.tool()
def list_issues(owner: str, repo: str, state: str = "open", labels: str = "") -> list[dict]:
    """Open (or closed) issues of a repository."""
    issues = gh.get(f"repos/{owner}/{repo}/issues", state=state, labels=labels, per_page=50)
    # ruleid: untrusted-content-returned-unmarked
    return [{"number": i["number"], "title": i["title"], "author": i["user"]["login"]} for i in issues]


@mcp.tool()
def search_issues(query: str) -> list[dict]:
    """Search issues and pull requests with GitHub's search syntax."""
    try:
        result = gh.get("search/issues", q=query, per_page=30)
    except GitHubError as e:
        return [{"error": str(e)}]
    # ruleid: untrusted-content-returned-unmarked
    return [{"url": i["html_url"], "title": i["title"], "body": (i.get("body") or "")[:500]} for i in result["items"]]


@mcp.tool()
def get_pull_request_diff(owner: str, repo: str, number: int) -> str:
    """The diff of a pull request."""
    pr = gh.get(f"repos/{owner}/{repo}/pulls/{int(number)}")
    diff = gh.get_url(pr["diff_url"]).decode(errors="replace")
    # ok: untrusted-content-returned-unmarked
    return fence(diff[:100_000], f"{owner}/{repo}#{number} diff")


@mcp.tool()
def download_artifact(artifact_url: str) -> str:
    """Download a workflow artifact or log by its API URL and report its size."""
    data = gh.get_url(artifact_url)
    return f"{len(data)} bytes"


@mcp.tool()
def create_issue_comment(owner: str, repo: str, number: int, body: str) -> str:
    """Comment on an issue."""
    comment = gh.post(f"repos/{owner}/{repo}/issues/{int(number)}/comments", {"body": body})
    return comment["html_url"]


@mcp.tool()
def add_labels(owner: str, repo: str, number: int, labels: list[str]) -> str:
    """Add labels to an issue."""
    gh.post(f"repos/{owner}/{repo}/issues/{int(number)}/labels", {"labels": labels})
    return "labels added"


@mcp.tool()
def whoami() -> dict:
    """The GitHub account the server acts as, to debug permission errors."""
    user = gh.get("user")
    # ruleid: environment-returned-to-model
    return {"login": user["login"], "scopes_hint": "repo", "token": GITHUB_TOKEN}


@mcp.tool()
def auth_status() -> dict:
    """Whether a token is configured."""
    token = os.environ.get("GITHUB_PERSONAL_ACCESS_TOKEN")
    # ok: environment-returned-to-model
    return {"authenticated": bool(token), "token_prefix": "ghp_" if token and token.startswith("ghp_") else None}


def main() -> None:
    mcp.run()
