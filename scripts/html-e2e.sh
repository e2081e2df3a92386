#!/usr/bin/env bash
# Opens a portcullis HTML report in headless Chromium and checks what a person would see.
#
# Usage: scripts/html-e2e.sh [--expect TEXT]... [--forbid TEXT]... [--findings N] FILE.html
#
#   --expect TEXT   TEXT must be in the page's visible text (whitespace-insensitive)
#   --forbid TEXT   TEXT must appear nowhere in the rendered DOM (pass a secret here)
#   --findings N    the page must show exactly N findings
#
# Always checked, on the DOM as Chromium rendered it (`--dump-dom`):
#   - the title and heading are "Portcullis report", and the page declares lang="en";
#   - the summary: files scanned, servers and findings are numbers, the severity badges add up to
#     the findings count, which is the number of findings shown; no findings means the page says
#     "No findings";
#   - every finding shows a rule code and name, a message and a file:line:col;
#   - nothing can be loaded: no script, no element with `src`, no stylesheet link, a CSP that
#     denies everything, and Chromium's network log holds no request made by the page;
#   - no text shaped like a live credential (GitHub, GitLab, Slack, AWS, private keys);
#   - no character that hides text or reorders it (bidi controls, zero-width characters, Unicode
#     tag characters) anywhere in the DOM: the report shows them as visible marks instead.
#
# Environment:
#   HTML_E2E_SCREENSHOT=PATH.png       also save a screenshot (light mode)
#   HTML_E2E_SCREENSHOT_DARK=PATH.png  also save a screenshot in dark mode
#   HTML_E2E_WINDOW=W,H                screenshot size (default 1280 by a height from the page)
#   CHROMIUM=PATH                      the browser to use (default: chromium, google-chrome...)
#
# Installs Chromium and Python 3 with apt-get when missing. Exits 0 when every check passes,
# 1 when one fails, 2 when the page could not be rendered.
set -euo pipefail

die() {
    echo "html-e2e: $*" >&2
    exit 2
}

expects=()
forbids=()
findings=""
file=""
while [ "$#" -gt 0 ]; do
    case "$1" in
    --expect) [ "$#" -ge 2 ] || die "--expect needs a value"; expects+=("$2"); shift 2 ;;
    --forbid) [ "$#" -ge 2 ] || die "--forbid needs a value"; forbids+=("$2"); shift 2 ;;
    --findings) [ "$#" -ge 2 ] || die "--findings needs a value"; findings="$2"; shift 2 ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) [ -z "$file" ] || die "one file at a time"; file="$1"; shift ;;
    esac
done
[ -n "$file" ] || die "usage: $0 [--expect TEXT]... [--forbid TEXT]... [--findings N] FILE.html"
[ -f "$file" ] || die "$file: no such file"
abs="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"

apt_install() {
    command -v apt-get >/dev/null || die "$1 is missing and apt-get is not available to install it"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "$1 is missing; install it or run as root"
        sudo=(sudo)
    fi
    echo "html-e2e: installing $*" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
        die "apt-get install $* failed"
}

find_chromium() {
    if [ -n "${CHROMIUM:-}" ]; then
        echo "$CHROMIUM"
        return
    fi
    local name
    for name in chromium chromium-browser google-chrome google-chrome-stable; do
        if command -v "$name" >/dev/null; then
            command -v "$name"
            return
        fi
    done
}

browser="$(find_chromium)"
if [ -z "$browser" ]; then
    apt_install chromium
    browser="$(find_chromium)"
fi
[ -n "$browser" ] || die "no Chromium found after installing it"
command -v python3 >/dev/null || apt_install python3
command -v timeout >/dev/null || die "timeout (coreutils) is required"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One fresh profile per run; no sync, updates or first-run work, and every host name resolves to
# nothing, so the browser cannot reach the network even if the page tried.
run_browser() {
    local profile
    profile="$(mktemp -d "$work/profile.XXXXXX")"
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --disable-default-apps \
        --disable-extensions --mute-audio --hide-scrollbars \
        --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$profile" "$@"
}

if ! run_browser --log-net-log="$work/net.json" --dump-dom "file://$abs" \
    >"$work/dom.html" 2>"$work/browser.log" || [ ! -s "$work/dom.html" ]; then
    cat "$work/browser.log" >&2
    die "Chromium could not render $file"
fi

status=0
python3 - "$work/dom.html" "$work/net.json" "$findings" "${#expects[@]}" \
    "${expects[@]+"${expects[@]}"}" "${forbids[@]+"${forbids[@]}"}" <<'PY' || status=1
import html
import json
import re
import sys
from html.parser import HTMLParser

dom_path, net_path, want_findings, n_expect = sys.argv[1:5]
rest = sys.argv[5:]
expects, forbids = rest[: int(n_expect)], rest[int(n_expect) :]
dom = open(dom_path, encoding="utf-8").read()
failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)


class Page(HTMLParser):
    """Visible text, plus the pieces of the page the checks look at."""

    HIDDEN = {"style", "script", "template", "head"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    LOADERS = {"script", "iframe", "object", "embed", "img", "video", "audio", "source", "frame", "track"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, classes) of open elements
        self.hidden = 0
        self.text = []
        self.title = self.h1 = self.csp = ""
        self.lang = None
        self.loaders = []
        self.stats = {}
        self.badges = []
        self.articles = []  # one dict per finding
        self.last_dt = None
        self.capture = None  # [kind, depth, pieces]

    def _inside(self, tag=None, cls=None):
        return any((tag is None or t == tag) and (cls is None or cls in c) for t, c in self.stack)

    def _kind(self, tag, classes):
        if tag in ("title", "h1", "dt", "dd"):
            return tag
        if tag == "span" and "badge" in classes and self._inside(cls="badges"):
            return "badge"
        if tag == "p" and ("message" in classes or "location" in classes):
            return "message" if "message" in classes else "location"
        if tag == "code" and self._inside(tag="h5"):
            return "code"
        return None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content") or ""
        if tag in self.LOADERS or "src" in a or (tag == "link" and "stylesheet" in (a.get("rel") or "")):
            self.loaders.append(tag)
        if tag in self.VOID:
            return
        kind = self._kind(tag, classes)
        self.stack.append((tag, classes))
        if tag in self.HIDDEN:
            self.hidden += 1
        if tag == "article" and "finding" in classes:
            self.articles.append({"text": [], "message": "", "location": "", "code": ""})
        if kind and self.capture is None:
            self.capture = [kind, len(self.stack), []]

    def handle_endtag(self, tag):
        if self.capture and self.capture[1] == len(self.stack) and self.stack[-1][0] == tag:
            self._finish(*self.capture)
            self.capture = None
        while self.stack:
            t, _ = self.stack.pop()
            if t in self.HIDDEN:
                self.hidden -= 1
            if t == tag:
                break

    def _finish(self, kind, _depth, pieces):
        value = " ".join("".join(pieces).split())
        if kind in ("title", "h1"):
            setattr(self, kind, value)
        elif kind == "dt":
            self.last_dt = value
        elif kind == "dd" and self.last_dt and self._inside(cls="stats"):
            self.stats[self.last_dt] = value
        elif kind == "badge":
            self.badges.append(value)
        elif kind in ("message", "location", "code") and self.articles:
            self.articles[-1][kind] = value

    def handle_data(self, data):
        if self.capture:
            self.capture[2].append(data)
        if self.hidden == 0:
            self.text.append(data)
            if self.articles and self._inside(tag="article"):
                self.articles[-1]["text"].append(data)


page = Page()
page.feed(dom)
visible = " ".join(" ".join(page.text).split())

print("page:")
check(page.title == "Portcullis report", f"title is 'Portcullis report' (got {page.title!r})")
check(page.h1 == "Portcullis report", f"heading is 'Portcullis report' (got {page.h1!r})")
check(page.lang == "en", "html lang is 'en'")

print("summary:")
numbers = {}
for key in ("Files scanned", "MCP servers", "Findings"):
    value = page.stats.get(key, "")
    check(value.isdigit(), f"'{key}' shows a number (got {value!r})")
    numbers[key] = int(value) if value.isdigit() else -1
badge_total = 0
for badge in page.badges:
    m = re.fullmatch(r"(\d+) (critical|high|medium|low|info)", badge)
    check(bool(m), f"badge {badge!r} reads '<count> <severity>'")
    badge_total += int(m.group(1)) if m else 0
check(len(page.badges) == 5, f"one badge per severity (got {len(page.badges)})")
check(badge_total == numbers["Findings"], f"badges add up to the findings count ({badge_total})")
shown = len(page.articles)
check(shown == numbers["Findings"], f"{shown} findings shown, summary says {numbers['Findings']}")
if want_findings:
    check(shown == int(want_findings), f"{want_findings} findings expected")
if shown == 0:
    check("No findings" in visible, "an empty report says 'No findings'")

print("findings:")
for i, a in enumerate(page.articles, 1):
    text = " ".join(" ".join(a["text"]).split())
    check(
        re.fullmatch(r"PC\d{3}", a["code"] or "") is not None and re.search(r"\b[a-z0-9]+(-[a-z0-9]+)+\b", text) is not None,
        f"finding {i} shows its rule code and name ({a['code']})",
    )
    check(bool(a["message"]), f"finding {i} shows a message: {a['message'][:70]!r}")
    check(re.search(r":\d+:\d+$", a["location"] or "") is not None, f"finding {i} shows file:line:col ({a['location']})")

print("self-contained:")
check(not page.loaders, f"nothing that loads content (found {page.loaders})")
check("default-src 'none'" in page.csp, "a Content-Security-Policy denies loading by default")
page_requests = []
try:
    net = json.load(open(net_path, encoding="utf-8"))
    kinds = {v: k for k, v in net["constants"]["logEventTypes"].items()}
    for event in net.get("events", []):
        params = event.get("params") or {}
        url = params.get("url", "")
        # The browser's own traffic (updates, time sync) has no origin; the page's has one.
        if (
            kinds.get(event["type"]) == "URL_REQUEST_START_JOB"
            and url
            and params.get("initiator") != "not an origin"
            and not url.startswith(("file:", "data:"))
        ):
            page_requests.append(url)
    check(not page_requests, f"the page made no network request {page_requests[:3]}")
except (OSError, ValueError, KeyError) as err:
    check(False, f"Chromium's network log is readable ({err})")

print("secrets:")
shapes = {
    "GitHub token": r"\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b",
    "GitLab token": r"\bglpat-[A-Za-z0-9_-]{20}\b",
    "Slack token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    "AWS access key": r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
}
decoded = html.unescape(dom)
for name, shape in shapes.items():
    check(re.search(shape, decoded) is None, f"no {name} in the page")
for secret in forbids:
    shown_at = secret in dom or secret in decoded
    check(not shown_at, f"forbidden text ({len(secret)} chars, starts {secret[:4]!r}) is absent")

print("invisible text:")
hiding = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
found = sorted({f"U+{ord(c):04X}" for c in hiding.findall(dom)})
check(not found, f"no hidden or reordering characters in the page {found[:8]}")

if expects:
    print("expected text:")
for text in expects:
    want = " ".join(text.split())
    check(want in visible, f"visible: {want[:80]!r}")

print(f"{len(failures)} check(s) failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
PY

# Screenshots, for a person to look at; the height grows with the number of findings.
if [ -n "${HTML_E2E_SCREENSHOT:-}${HTML_E2E_SCREENSHOT_DARK:-}" ]; then
    count="$(grep -o '<article class="finding' "$work/dom.html" | wc -l || true)"
    rows="$(grep -o '<tr>' "$work/dom.html" | wc -l || true)"
    height=$((900 + 430 * count + 40 * rows))
    [ "$height" -le 16000 ] || height=16000
    window="${HTML_E2E_WINDOW:-1280,$height}"
    for mode in light dark; do
        if [ "$mode" = light ]; then out="${HTML_E2E_SCREENSHOT:-}"; extra=(); else
            out="${HTML_E2E_SCREENSHOT_DARK:-}"
            extra=(--force-dark-mode)
        fi
        [ -n "$out" ] || continue
        mkdir -p "$(dirname "$out")"
        out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
        if run_browser "${extra[@]}" --window-size="$window" --screenshot="$out" "file://$abs" \
            >"$work/shot.log" 2>&1 && [ -s "$out" ]; then
            echo "screenshot ($mode): $out"
        else
            cat "$work/shot.log" >&2
            echo "html-e2e: could not take the $mode screenshot" >&2
            status=1
        fi
    done
fi
exit "$status"
