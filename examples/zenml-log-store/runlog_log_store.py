"""A ZenML-style custom log store whose fetch reads runlog's HTTP API.

Standard library only. Point it at `runlog serve` (or any server mounting
serve.New); activate/deactivate are left to runlog on the writing side
(`runlog exec`, or runlog's Go library in the pipeline).

    store = RunlogLogStore("http://127.0.0.1:8080", token=None)
    entries = store.fetch(run_id, step_id="train", limit=20000)

Each entry is a dict with the snake_case names of ZenML's LogEntry
(message, level, timestamp, module, filename, lineno, chunk_index,
total_chunks, id) and runlog's (run_id, step_id, source, attempt, ...).
"""
import json
import sys
import urllib.parse
import urllib.request


class RunlogLogStore:
    def __init__(self, url, token=None, timeout=60):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def activate(self, pipeline_run_id, step_id=None, source="step"):
        pass  # runlog captures on the writing side

    def deactivate(self):
        pass

    def fetch(self, pipeline_run_id, step_id=None, source=None, logs_uri=None,
              start_time=None, end_time=None, limit=20000):
        params = {"limit": str(limit)}
        if step_id:
            params["step"] = str(step_id)
        if source:
            params["source"] = source
        if start_time:
            params["since"] = start_time.isoformat()
        if end_time:
            params["until"] = end_time.isoformat()
        path = "/api/v1/runs/%s/logs" % urllib.parse.quote(str(pipeline_run_id), safe="")
        entries, after = [], ""
        while len(entries) < limit:  # the server may cap a page below limit
            params["after"] = after
            page = self._get(path + "?" + urllib.parse.urlencode(params))
            entries.extend(page["items"])
            if not page["more"]:
                break
            after = page["after"]
        return entries[:limit]

    def _get(self, path):
        req = urllib.request.Request(self.url + path)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.load(resp)


if __name__ == "__main__":
    # python3 runlog_log_store.py URL RUN [STEP] [LIMIT]: the entries as JSON lines.
    url, run = sys.argv[1], sys.argv[2]
    step = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    store = RunlogLogStore(url, token=None)
    for e in store.fetch(run, step_id=step, limit=limit):
        print(json.dumps(e, sort_keys=True))
