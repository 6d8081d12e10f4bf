"""Every `workflow.patched` id, with the release that introduced it and what it changed.

A run started before a patch replays its history's old path; a run started (or continuing)
after it takes the new one. When no run that could take an old path remains (the longest run
lasts about 200 days: 90 to respond, a year at most with appeals and report links), the old
branch goes and the call becomes `workflow.deprecate_patch`. See README, "Replay and releases".
"""

# 0.2.0: a wrong, expired or spent link token is refused without counting as an attempt.
TOKEN_BEFORE_ATTEMPT = "0.2.0-token-before-attempt"

# 0.2.0: a published access report gets a ReportExpiryWorkflow that deletes it at link expiry.
REPORT_FILES_EXPIRE = "0.2.0-report-files-expire"
