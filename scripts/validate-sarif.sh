#!/usr/bin/env bash
# Validates SARIF logs with Microsoft's SARIF multitool (the validator behind
# sarifweb.azurewebsites.net), with its SARIF rules and its GitHub code scanning rules.
#
# Usage: scripts/validate-sarif.sh FILE...
#
# Exits 0 when no file has an error-level result, 1 when one does, 2 when the validator could not
# be installed or run. The multitool itself exits 0 even when it reports errors, so this script
# reads the validator's own SARIF log (`--output`) to decide.
#
# Each file is also checked against the SARIF 2.1.0 JSON schema shipped with the multitool, with
# ajv: the multitool reports nothing at all, and passes, when a file is valid JSON that it cannot
# load (an unknown enum value such as `"level": "fatal"`).
#
# Besides the rules `--rule-kind "Sarif;Gh"` runs by default, the GitHub rules GH1001-GH1007
# (absolute URIs outside the checkout, missing regions, non-file URIs, ...) are switched on as
# errors, as in the multitool's own GitHub policy: GitHub rejects or hides such results, but the
# validator leaves these rules off unless asked.
#
# Environment:
#   SARIF_MULTITOOL_VERSION  npm version of @microsoft/sarif-multitool (default 5.7.0)
#   AJV_VERSION / AJV_FORMATS_VERSION  versions of ajv and ajv-formats (8.20.0 / 3.0.1)
#   PORTCULLIS_TOOLS_CACHE   where tools are installed (default ~/.cache/portcullis-tools)
#   SARIF_GITHUB_POLICY=0    run only the validator's default rules for "Sarif;Gh"
#   SARIF_FAIL_ON=warning    also fail on warning-level results
#   SARIF_SHOW_NOTES=1       also print note-level results
set -euo pipefail

VERSION="${SARIF_MULTITOOL_VERSION:-5.7.0}"
AJV="${AJV_VERSION:-8.20.0}"
AJV_FORMATS="${AJV_FORMATS_VERSION:-3.0.1}"
CACHE="${PORTCULLIS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/portcullis-tools}"
TOOL_DIR="$CACHE/sarif-validate-$VERSION-ajv-$AJV-$AJV_FORMATS"
FAIL_ON="${SARIF_FAIL_ON:-error}"

die() {
    echo "validate-sarif: $*" >&2
    exit 2
}

if [ "$#" -eq 0 ]; then
    echo "usage: $0 FILE..." >&2
    exit 2
fi
case "$FAIL_ON" in error | warning) ;; *) die "SARIF_FAIL_ON must be error or warning" ;; esac
command -v node >/dev/null || die "node is required (Node.js 18 or later)"
command -v npm >/dev/null || die "npm is required"

# Install once per version; the marker is written only after a complete install.
if [ ! -f "$TOOL_DIR/.installed" ]; then
    mkdir -p "$TOOL_DIR"
    if ! npm install --prefix "$TOOL_DIR" --no-audit --no-fund --no-package-lock \
        --loglevel=error "@microsoft/sarif-multitool@$VERSION" "ajv@$AJV" \
        "ajv-formats@$AJV_FORMATS" >"$TOOL_DIR/install.log" 2>&1; then
        cat "$TOOL_DIR/install.log" >&2
        die "could not install @microsoft/sarif-multitool@$VERSION, ajv@$AJV, ajv-formats@$AJV_FORMATS"
    fi
    touch "$TOOL_DIR/.installed"
fi

# The package's `bin` wrapper runs the tool through a shell, which splits "Sarif;Gh" at the
# semicolon; run the platform's native binary directly instead.
BIN="$(cd "$TOOL_DIR" && node -p "require('@microsoft/sarif-multitool')" 2>/dev/null)" ||
    die "cannot find the multitool binary in $TOOL_DIR (remove it to reinstall)"
[ -f "$BIN" ] || die "multitool binary $BIN is missing (remove $TOOL_DIR to reinstall)"
# npm may skip the package's postinstall `chmod`.
[ -x "$BIN" ] || chmod u+x "$BIN"

# A self-contained .NET program: no ICU needed for validation, and its scratch files go to the
# cache rather than $HOME.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_BUNDLE_EXTRACT_BASE_DIR="$TOOL_DIR/extract"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

POLICY=()
if [ "${SARIF_GITHUB_POLICY:-1}" != 0 ]; then
    cat >"$WORK/github-policy.xml" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<Properties>
  <Properties Key="GH1001.ProvideRequiredLocationProperties.Options"><Property Key="RuleEnabled" Value="Error" /></Properties>
  <Properties Key="GH1002.InlineThreadFlowLocations.Options"><Property Key="RuleEnabled" Value="Error" /></Properties>
  <Properties Key="GH1003.ProvideRequiredRegionProperties.Options"><Property Key="RuleEnabled" Value="Error" /></Properties>
  <Properties Key="GH1004.ReviewArraysThatExceedConfigurableDefaults.Options"><Property Key="RuleEnabled" Value="Error" /></Properties>
  <Properties Key="GH1005.LocationsMustBeRelativeUrisOrFilePaths.Options"><Property Key="RuleEnabled" Value="Error" /></Properties>
  <Properties Key="GH1006.ProvideCheckoutPath.Options"><Property Key="RuleEnabled" Value="Error" /></Properties>
  <Properties Key="GH1007.ProvideFullyFormattedMessageStrings.Options"><Property Key="RuleEnabled" Value="Error" /></Properties>
</Properties>
EOF
    POLICY=(--config "$WORK/github-policy.xml")
fi

# Checks a file against the multitool's copy of the SARIF 2.1.0 schema; prints one line per
# violation and the count last. Run from $TOOL_DIR so that `require` finds the packages.
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
schema_js='
const fs = require("fs");
const path = require("path");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");
const pkg = require.resolve(`@microsoft/sarif-multitool-${process.platform}/package.json`);
const schema = JSON.parse(fs.readFileSync(path.join(path.dirname(pkg), "sarif-2.1.0.json"), "utf8"));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
let log;
try {
  log = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
} catch (e) {
  console.log(`  error (schema): not JSON: ${e.message}`);
  console.log(1);
  process.exit(0);
}
const errors = validate(log) ? [] : validate.errors;
for (const e of errors.slice(0, 50)) console.log(`  error (schema) ${e.instancePath || "/"}: ${e.message}`);
console.log(errors.length);
'

# Counts the validator's findings in its SARIF log and prints a line per error and warning
# (notes too with SARIF_SHOW_NOTES=1). Prints "<errors> <warnings> <notes>" last.
# shellcheck disable=SC2016
count_js='
const fs = require("fs");
const [logPath, showNotes] = process.argv.slice(1);
const log = JSON.parse(fs.readFileSync(logPath, "utf8"));
const count = { error: 0, warning: 0, note: 0 };
for (const run of log.runs || []) {
  const rules = (run.tool && run.tool.driver && run.tool.driver.rules) || [];
  const text = (m, ruleId) => {
    if (!m) return "";
    if (m.text) return m.text;
    const rule = rules.find((r) => r.id === ruleId) || {};
    const template = ((rule.messageStrings || {})[m.id] || {}).text || m.id || "";
    return template.replace(/\{(\d+)\}/g, (_, i) => (m.arguments || [])[+i] ?? "");
  };
  for (const r of run.results || []) {
    if (r.kind && r.kind !== "fail") continue;
    const level = r.level || "warning";
    if (!(level in count)) continue;
    count[level]++;
    const where = (((r.locations || [])[0] || {}).physicalLocation || {}).region || {};
    if (level !== "note" || showNotes === "1")
      console.log(`  ${level} ${r.ruleId} (line ${where.startLine || "?"}): ${text(r.message, r.ruleId)}`);
  }
  for (const inv of run.invocations || []) {
    const notes = [...(inv.toolExecutionNotifications || []), ...(inv.toolConfigurationNotifications || [])];
    for (const n of notes) {
      const level = n.level || "warning";
      if (level === "error" || level === "warning") {
        count[level]++;
        const id = n.descriptor && n.descriptor.id ? `${n.descriptor.id} ` : "";
        console.log(`  ${level} ${id}(validator): ${text(n.message)}`);
      }
    }
    if (inv.executionSuccessful === false) {
      count.error++;
      console.log("  error (validator): the validator did not complete its run");
    }
  }
}
console.log(`${count.error} ${count.warning} ${count.note}`);
'

status=0
for file in "$@"; do
    if [ ! -f "$file" ]; then
        echo "$file: no such file" >&2
        status=2
        continue
    fi
    abs="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
    schema="$(cd "$TOOL_DIR" && node -e "$schema_js" "$abs")" || {
        echo "$file: could not run the schema check" >&2
        status=2
        continue
    }
    schema_errors="$(printf '%s\n' "$schema" | tail -n 1)"
    schema_details="$(printf '%s\n' "$schema" | sed '$d')"
    out="$WORK/validation.sarif"
    rm -f "$out"
    set +e
    "$BIN" validate --rule-kind "Sarif;Gh" "${POLICY[@]}" --level "Error;Warning;Note" \
        --output "$out" "$abs" >"$WORK/console.txt" 2>&1
    rc=$?
    set -e
    if [ ! -s "$out" ]; then
        echo "$file: the validator wrote no log (exit $rc):" >&2
        cat "$WORK/console.txt" >&2
        status=2
        continue
    fi
    summary="$(node -e "$count_js" "$out" "${SARIF_SHOW_NOTES:-0}")" || {
        echo "$file: could not read the validator's log" >&2
        status=2
        continue
    }
    details="$(printf '%s\n' "$summary" | sed '$d')"
    read -r errors warnings notes <<<"$(printf '%s\n' "$summary" | tail -n 1)"
    errors=$((errors + schema_errors))
    details="$(printf '%s\n%s\n' "$schema_details" "$details" | sed '/^$/d')"
    if [ "$rc" -ne 0 ] && [ "$errors" -eq 0 ]; then
        # A run that failed without saying why in its log: show what it printed.
        cat "$WORK/console.txt" >&2
        errors=1
    fi
    failed=0
    if [ "$errors" -gt 0 ] || { [ "$FAIL_ON" = warning ] && [ "$warnings" -gt 0 ]; }; then
        failed=1
    fi
    if [ "$failed" -eq 1 ]; then
        echo "$file: FAILED ($errors errors, $warnings warnings, $notes notes)"
        [ "$status" -ne 0 ] || status=1
    else
        echo "$file: ok ($errors errors, $warnings warnings, $notes notes)"
    fi
    [ -z "$details" ] || printf '%s\n' "$details"
done
exit "$status"
