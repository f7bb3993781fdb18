# Shared by the fake agent CLIs in this directory (sourced, not run).
#
# Each fake prints what its real CLI documents for one case, chosen by
# FAKE_CASE: success, error0, ratelimit, turnlimit, noop, budget, endless,
# auth (not every fake has every case). Other knobs:
#   FAKE_ARGV   file that receives the arguments, each ended by a NUL byte
#   FAKE_DELAY  seconds to sleep between lines (default 0)
#   FAKE_EXIT   exit status for the cases that let it vary
#   FAKE_FILE   the file a working case edits (default agent-work.txt)
#   FAKE_RESET_IN  seconds until a rate limit resets (default 120)
#   FAKE_THEN   the case for attempts after the first ($MILESTONE_ATTEMPT > 1)
#   FAKE_ENV    file that gets $MILESTONE_FEEDBACK appended, one line a run
#   FAKE_OWN_FILES  set: the fake leaves its CLI's own caches and histories
#               in the work tree, as Aider does (aider only)
# The values are made up; only the shapes follow the CLIs' documentation.

if [ -n "${FAKE_ARGV:-}" ]; then
  printf '%s\0' "$@" > "$FAKE_ARGV"
fi
if [ -n "${FAKE_ENV:-}" ]; then
  printf '%s\n' "${MILESTONE_FEEDBACK:-}" >> "$FAKE_ENV"
fi
case_=${FAKE_CASE:-success}
if [ "${MILESTONE_ATTEMPT:-1}" -gt 1 ] && [ -n "${FAKE_THEN:-}" ]; then
  case_=$FAKE_THEN
fi
work_file=${FAKE_FILE:-agent-work.txt}
reset_at=$(( $(date +%s) + ${FAKE_RESET_IN:-120} ))

pause() {
  if [ -n "${FAKE_DELAY:-}" ]; then sleep "$FAKE_DELAY"; fi
}

# Print one line, then wait.
say() {
  printf '%s\n' "$1"
  pause
}

# The task's work: a line naming the task, appended to the work file.
work() {
  printf '%s\n' "${MILESTONE_TASK:-task}" >> "$work_file"
}

unknown_case() {
  printf 'fake agent: no case %s\n' "$case_" >&2
  exit 2
}
