"""Every patch id, with the release that introduced it and what it changed, and `applied`, the
one way workflow code asks whether a run takes a patch's path.

A run started before a patch replays its history's old path; a run started (or continuing)
after it takes the new one. When no run that could take an old path remains (the longest run
lasts about 200 days: 90 to respond, a year at most with appeals and report links), the old
branch goes and the call becomes `workflow.deprecate_patch`. See README, "Replay and releases".

Each `workflow.patched` id a run meets costs it a marker and an upsert of
`TemporalChangeVersion`: five of each for a deletion by 0.5.1. From 0.5.2 a run records one,
its release's, when it begins (`mark_release`), and that one stands for every patch before it;
a new release adds its marker at the head of `RELEASES`.
"""

from __future__ import annotations

from temporalio import workflow

# 0.2.0: a wrong, expired or spent link token is refused without counting as an attempt.
TOKEN_BEFORE_ATTEMPT = "0.2.0-token-before-attempt"

# 0.2.0: a published access report gets a ReportExpiryWorkflow that deletes it at link expiry.
REPORT_FILES_EXPIRE = "0.2.0-report-files-expire"

# 0.3.0: the privacy team is alerted on a ladder (14, 7, 3, 1 days before, then daily when
# overdue); the automatic extension gives the blocking step as its reason, its length in days,
# and is not taken for a request waiting only on its requester.
ESCALATION_LADDER = "0.3.0-escalation-ladder"

# 0.3.0: a refusal in an appeal state carries an appeal link; the run then waits for an appeal
# (AppealWorkflow, as a child) until the link expires, and carries out what a granted one allows.
APPEALS = "0.3.0-appeals"

# 0.3.0: when an agent's proof is rejected, the consumer is told too (11 CCR §7063).
AGENT_REJECTION_TOLD = "0.3.0-agent-rejection-told"

# 0.4.0: the rules are effective-dated. A Utah correction is carried out from 1 July 2026
# (H.B. 418); a run that began before this release had already answered it as not granted.
DATED_LAW = "0.4.0-dated-law"

# 0.4.0: a UK request's clock waits for the requester's identity (UK GDPR Art. 12A): once it is
# confirmed, the dates are counted again from that day and the requester is told the new date.
IDENTITY_PAUSE = "0.4.0-identity-pause"

# 0.5.0: the run publishes whose move it is (`WaitingOn`: requester, us, provider or nobody) for
# the desk's `--waiting-on`, in the same upsert as the status it follows from.
WAITING_ON = "0.5.0-waiting-on"

# 0.5.1: the request's own quick database steps (identity match, provider plan, records) run as
# local activities in the workflow's worker, with no activity task of their own; notices carry a
# priority on the activity queue, the receipt first, so a burst of fulfilment never holds them.
LEAN_STEPS = "0.5.1-lean-steps"

# 0.5.1: a watch that starts or wakes late (a request received long ago, a worker outage) sends
# no extension notice once the law's day for it has passed, and one alert, for the latest rung,
# instead of one per missed rung at once.
LATE_WATCH = "0.5.1-late-watch"

# 0.5.2, for runs begun on it or later: notices are local activities, sent by the worker that
# runs the workflow as soon as the run asks (no activity task to queue, dispatch and complete:
# four per deletion, a third of the dev server's work in `make bench`); the case file upserts
# only the search attributes whose value changed (those set at the start are not set again);
# and this one marker stands for every patch above.
LEAN_RUN = "0.5.2-lean-run"

BEFORE_LEAN_RUN = frozenset(
    {
        TOKEN_BEFORE_ATTEMPT,
        REPORT_FILES_EXPIRE,
        ESCALATION_LADDER,
        APPEALS,
        AGENT_REJECTION_TOLD,
        DATED_LAW,
        IDENTITY_PAUSE,
        WAITING_ON,
        LEAN_STEPS,
        LATE_WATCH,
    }
)


# 0.5.3: a notice carrying a link the run then waits on (a verification, a confirmation, an
# appeal) is an activity again, scheduled by the workflow task that records the wait: mailed by
# a local activity inside that task, it could be answered before the task was recorded, and a
# worker killed in between left the requester answering a run that, replayed, was not yet
# waiting ("not waiting for identity verification"; `make chaos`, worker-kills).
LINKS_AFTER_WAIT = "0.5.3-links-after-wait"

# The release markers, newest first, each with the earlier patches it stands for in a run that
# began on that release.
RELEASES: tuple[tuple[str, frozenset[str]], ...] = (
    (LINKS_AFTER_WAIT, BEFORE_LEAN_RUN | {LEAN_RUN}),
    (LEAN_RUN, BEFORE_LEAN_RUN),
)


def mark_release() -> None:
    """Settle, as the run begins, which release it began on: a new run records the newest
    release's marker; a run replaying an older history finds its own release's marker (or none
    before 0.5.2). The answers are kept for the rest of the run, and every workflow that reaches
    `applied` calls this in its init, so they never depend on where replay happened to end."""
    for release, _ in RELEASES:
        if workflow.patched(release):
            return


def applied(patch: str) -> bool:
    """Whether this run takes `patch`'s path: `workflow.patched`, without a marker of its own
    for a patch older than the release the run began on."""
    for release, stands_for in RELEASES:
        if patch in stands_for and workflow.patched(release):
            return True
    return workflow.patched(patch)
