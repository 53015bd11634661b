# Shared by the bench/ scripts: the first lines of every report, saying where and on what it ran.

# Prints the "## Machine" heading, the date, the commit and the CPUs; each script adds its own lines.
machine_header() {
  local cpu_model commit
  cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit (with uncommitted changes)"; fi
  echo "## Machine"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- commit: $commit"
  echo "- CPUs (nproc): $(nproc)"
  echo "- CPU: ${cpu_model:-unknown}"
}
