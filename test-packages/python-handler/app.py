"""A Python event handler for host's tests, and an example: every event's JSON type to
`/data/events.txt` (`stats` for the counts after each case, `terminate` at the end) and
each case's duration to `/data/durations.csv`, in its granted directory."""

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

    def handle(self, event):
        self.events.write(json.loads(event.json)["type"] + "\n")
        if isinstance(event.kind, types.EventKind_CaseFinished):
            case = event.kind.value
            outcome = OUTCOMES[type(case.outcome)]
            self.csv.write(f"{case.id.case},{outcome},{case.duration_secs}\n")

    def terminate(self):
        self.events.write("terminate\n")
        self.events.close()
        self.csv.close()
