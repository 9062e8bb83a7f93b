"""A Python event handler for host's tests, and an example: every event's JSON type to
`/data/events.txt` (`stats P F S` for the counts after each case, `terminate` at the end),
each case's duration to `/data/durations.csv`, and at the end a chat-style summary of
the run to `/data/summary.txt`, in its granted directory."""

import json

from host_handler import Handler, Hooks, handler, types  # noqa: F401 (Handler, Hooks: the exports)

OUTCOMES = {
    types.Outcome_Passed: "passed",
    types.Outcome_Failed: "failed",
    types.Outcome_Skipped: "skipped",
    types.Outcome_NotRun: "not-run",
}


@handler
class Durations:
    def __init__(self, args):
        self.events = open("/data/events.txt", "w")
        self.csv = open("/data/durations.csv", "w")
        self.csv.write("case,outcome,seconds\n")
        self.failed = []

    def handle(self, event):
        if isinstance(event.kind, types.EventKind_Stats):
            totals = event.kind.value
            self.events.write(f"stats {totals.passed} {totals.failed} {totals.skipped}\n")
        else:
            self.events.write(json.loads(event.json)["type"] + "\n")
        if isinstance(event.kind, types.EventKind_CaseFinished):
            case = event.kind.value
            outcome = OUTCOMES[type(case.outcome)]
            self.csv.write(f"{case.id.case},{outcome},{case.duration_secs}\n")
            if outcome == "failed":
                self.failed.append(f"{case.id.test}/{case.id.package}/{case.id.case}")
        elif isinstance(event.kind, types.EventKind_RunFinished):
            totals = event.kind.value.totals
            icon = ":white_check_mark:" if totals.failed == 0 else ":x:"
            lines = [f"{icon} *{totals.passed} passed, {totals.failed} failed, {totals.skipped} skipped* "
                     f"in {event.kind.value.duration_secs:.1f}s"]
            lines += [f"> `{name}`" for name in self.failed[:10]]
            with open("/data/summary.txt", "w") as summary:
                summary.write("\n".join(lines) + "\n")

    def terminate(self):
        self.events.write("terminate\n")
        self.events.close()
        self.csv.close()
