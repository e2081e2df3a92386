"""terminal-mcp: let the assistant run a safe subset of terminal commands.

Commands run in WORKDIR. Only the programs in ALLOWED_COMMANDS may be started by
`run_command`; everything else has a dedicated tool.
"""

import asyncio
import os
import platform
import shlex
import shutil
import subprocess

from mcp.server.fastmcp import FastMCP

WORKDIR = os.environ.get("TERMINAL_MCP_WORKDIR", os.path.expanduser("~"))
ALLOWED_COMMANDS = {"ls", "pwd", "cat", "head", "tail", "wc", "echo", "date", "df", "du", "git"}
READ_ONLY = {"ls", "pwd", "wc", "date", "df"}
MAX_OUTPUT = 20_000

# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
mcp = FastMCP("terminal")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + "\n[... output truncated]"


@mcp.tool()
def run_command(command: str, timeout: int = 30) -> str:
    """Run a shell command from the allowed list (ls, cat, git, ...) in the work folder.

    Pipes and redirections are supported.
    """
    program = command.strip().split()[0]
    # ruleid: command-allowlist-checks-only-prefix
    if program not in ALLOWED_COMMANDS:
        return f"Error: '{program}' is not allowed. Allowed: {', '.join(sorted(ALLOWED_COMMANDS))}"
    proc = subprocess.run(command, shell=True, cwd=WORKDIR, capture_output=True, text=True,
                          timeout=min(timeout, 120))
    return _clip(proc.stdout + proc.stderr)


@mcp.tool()
def run_readonly(command: str) -> str:
    """Run a read-only command (ls, pwd, wc, date, df) without a shell."""
    argv = shlex.split(command)
    if not argv or argv[0] not in READ_ONLY:
        return "Error: only ls, pwd, wc, date and df"
    # ok: argument-injection-from-tool-argument
    proc = subprocess.run(argv, cwd=WORKDIR, capture_output=True, text=True, timeout=30)
    return _clip(proc.stdout + proc.stderr)


@mcp.tool()
def ping_host(host: str, count: int = 3) -> str:
    """Ping a host to check that it is reachable."""
    for bad in (";", "&", "|", "`"):
        host = host.replace(bad, "")
    # ruleid: partial-shell-escaping
    stream = os.popen(f"ping -c {int(count)} {host}")
    return _clip(stream.read())


@mcp.tool()
def traceroute(host: str) -> str:
    """Trace the route to a host."""
    # ok: shell-command-from-tool-argument
    proc = subprocess.run(f"traceroute -m 15 {shlex.quote(host)}", shell=True,
                          capture_output=True, text=True, timeout=60)
    return _clip(proc.stdout)


@mcp.tool()
def tail_syslog(lines: int = 50) -> str:
    """Show the last lines of the system log."""
    # ok: shell-command-from-tool-argument
    proc = subprocess.run(f"tail -n {int(lines)} /var/log/syslog", shell=True,
                          capture_output=True, text=True, timeout=10)
    return proc.stdout


@mcp.tool()
def which(program: str) -> str:
    """Locate a program on PATH."""
    return shutil.which(program) or f"{program} not found"


@mcp.tool()
def open_in_editor(path: str) -> str:
    """Open a file in the user's editor (macOS `open`, Linux `xdg-open`)."""
    opener = "open" if platform.system() == "Darwin" else "xdg-open"
    # ruleid: shell-command-from-tool-argument
    code = os.system(opener + ' "' + path + '"')
    return "opened" if code == 0 else f"{opener} exited with {code}"


@mcp.tool()
async def run_background(command: str) -> str:
    """Start a long-running command (a dev server, a build) and return its first output."""
    # ruleid: shell-command-from-tool-argument
    proc = await asyncio.create_subprocess_shell(
        command, cwd=WORKDIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        first = await asyncio.wait_for(proc.stdout.read(4096), timeout=5)
    except asyncio.TimeoutError:
        first = b""
    return f"pid {proc.pid}\n{first.decode(errors='replace')}"


@mcp.tool()
async def disk_usage(folder: str) -> str:
    """Summarise the disk usage of a folder."""
    # ok: argument-injection-from-tool-argument
    proc = await asyncio.create_subprocess_exec(
        "du", "-sh", "--", folder, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    # ruleid: outbound-call-without-timeout
    out, err = await proc.communicate()
    return (out or err).decode(errors="replace")


@mcp.tool()
def kill_process(pid: int, signal_name: str = "TERM") -> str:
    """Send a signal to a process started from this server."""
    if signal_name not in {"TERM", "KILL", "INT", "HUP"}:
        return "Error: unsupported signal"
    # ok: shell-command-from-tool-argument
    rc = os.system(f"kill -{signal_name} {int(pid)}")
    return "sent" if rc == 0 else f"kill exited with {rc}"


@mcp.tool()
def environment() -> dict:
    """Show the environment the commands run with, to debug PATH problems."""
    # ruleid: environment-returned-to-model
    return {"cwd": WORKDIR, "shell": os.environ.get("SHELL"), "env": dict(os.environ)}


@mcp.tool()
def system_info() -> dict:
    """Basic facts about the machine."""
    # ok: environment-returned-to-model
    return {"os": platform.platform(), "python": platform.python_version(),
            "shell": os.environ.get("SHELL", "unknown"), "user": os.environ.get("USER")}


if __name__ == "__main__":
    mcp.run()
