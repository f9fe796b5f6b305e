"""A NoOrg agent worker over the HTTP worker protocol (docs/workers-http.md), standard library only (Python 3.8+).

    from noorg_worker import Worker

    def shout(task, token):          # token.cancelled / token.wait(s): the attempt is over or the worker stops
        return {"greeting": task.input["greeting"].upper()}

    Worker("http://localhost:8080", "agent-py-1", shout, capabilities=["uppercase"]).run()

The worker registers its agent, long-polls its tasks, starts each one, heartbeats it while the handler runs, and
reports the result (or the exception as a failure), retrying every call until the silo acknowledges it. SIGINT and
SIGTERM stop it cleanly: handlers are cancelled, their reports sent, and the agent goes offline, handing back what it
still holds.
"""

import json
import logging
import random
import secrets
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["Worker", "Task", "CancellationToken", "NoOrgError"]

log = logging.getLogger("noorg_worker")

_STOPPING = "the worker is stopping"


class NoOrgError(Exception):
    """An answer of the silo that is not a success: its status and problem document (code, detail)."""

    def __init__(self, status, problem):
        self.status = status
        self.problem = problem if isinstance(problem, dict) else {}
        self.code = self.problem.get("code", "")
        self.detail = self.problem.get("detail", "") or str(problem)
        super().__init__(f"{status} {self.code}: {self.detail}")

    @property
    def retryable(self):
        """Worth sending again: the silo was unavailable, failed, or asked to slow down."""
        return self.status in (429, 500, 502, 503, 504)


class CancellationToken:
    """Set when the attempt is over (timed out, reassigned, cancelled) or the worker stops; handlers check it."""

    def __init__(self):
        self._event = threading.Event()
        self.reason = None

    @property
    def cancelled(self):
        return self._event.is_set()

    def cancel(self, reason):
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def wait(self, seconds):
        """Sleeps up to `seconds`; True when cancelled meanwhile."""
        return self._event.wait(seconds)

    def raise_if_cancelled(self):
        if self.cancelled:
            raise Cancelled(self.reason)


class Cancelled(Exception):
    """Raised by a handler that gives up because its token was cancelled; nothing is reported."""


class Task:
    """A task as the silo sent it: `snapshot` is the TaskSnapshot JSON; `input` is its inputJson parsed."""

    def __init__(self, snapshot):
        self.snapshot = snapshot
        self.id = snapshot["id"]
        self.attempt = snapshot["attempt"]
        self.type = snapshot["spec"]["type"]
        self.name = snapshot["spec"]["name"]
        self.input = json.loads(snapshot["spec"].get("inputJson") or "null")


def _timespan(seconds):
    """Seconds as the API's duration text, hh:mm:ss.fffffff."""
    ticks = int(round(seconds * 10_000_000))
    total, fraction = divmod(ticks, 10_000_000)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{fraction:07d}"


class Worker:
    """Runs `handler(task, token)` for each task assigned to `agent_id`; its return value (JSON-serialisable) is the result."""

    def __init__(self, base_url, agent_id, handler, *, capabilities, name=None, agent_type="python", description="",
                 max_concurrent_tasks=1, metadata=None, api_key=None, poll_wait=20, heartbeat_interval=None,
                 max_retry_delay=5.0, stop_grace=10.0):
        self.base_url = base_url.rstrip("/")
        self.agent_id = agent_id
        self.handler = handler
        self.registration = {
            "name": name or agent_id, "type": agent_type, "description": description,
            "capabilities": list(capabilities), "maxConcurrentTasks": max_concurrent_tasks, "metadata": dict(metadata or {}),
        }
        self.api_key = api_key
        self.poll_wait = poll_wait
        self.heartbeat_interval = heartbeat_interval  # None: as the silo says on each poll (a third of its heartbeat timeout)
        self.max_retry_delay = max_retry_delay
        self.stop_grace = stop_grace
        self.worker_id = "py-" + secrets.token_hex(8)
        self.reported = []  # task ids this worker reported, in order
        self._slots = threading.Semaphore(max_concurrent_tasks)
        self._stopping = threading.Event()
        self._running = {}  # task id -> (thread, token)
        self._lock = threading.Lock()
        self._silo_heartbeat = 10.0
        self._give_up_at = None
        self._fatal = None

    # -- the loop -----------------------------------------------------------------------------------------------

    def run(self, install_signal_handlers=True):
        """Works until stop() or SIGINT/SIGTERM; then cancels handlers, sends their reports and takes the agent offline.

        Raises NoOrgError when the agent cannot be registered (a 400 naming what is wrong, a 401 or 403).
        """
        if install_signal_handlers and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: self.stop())
        self._retry("register", self._register, until_stopped=True)
        log.info("agent %s registered; worker %s polling", self.agent_id, self.worker_id)
        poller = threading.Thread(target=self._poll_loop, name="noorg-poll", daemon=True)
        poller.start()
        while not self._stopping.wait(0.5):
            pass
        self._shut_down()
        if self._fatal is not None:
            raise self._fatal

    def stop(self):
        self._stopping.set()

    def _poll_loop(self):
        delay = 0.2
        while not self._stopping.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue
            try:
                snapshot = self._poll()
                delay = 0.2
            except Exception as e:  # noqa: BLE001 - every failure of a poll is retried
                self._slots.release()
                if isinstance(e, NoOrgError) and e.status == 404:
                    try:
                        self._retry("register", self._register, until_stopped=True)
                    except Exception as fatal:  # noqa: BLE001 - a registration refused for good ends the worker
                        if not self._stopping.is_set():
                            log.error("registering agent %s again failed: %s", self.agent_id, fatal)
                            self._fatal = fatal
                            self.stop()
                    continue
                log.warning("poll failed (%s); retrying in %.1fs", e, delay)
                self._stopping.wait(delay)
                delay = min(delay * 2, self.max_retry_delay)
                continue
            if snapshot is None or self._stopping.is_set() or not self._take(snapshot):
                self._slots.release()

    def _poll(self):
        query = urllib.parse.urlencode({"worker": self.worker_id, "wait": str(self.poll_wait)})
        status, body, headers = self._call("GET", f"/v1/agents/{self._q(self.agent_id)}/tasks/next?{query}",
                                           timeout=self.poll_wait + 15)
        if headers.get("NoOrg-Heartbeat-Seconds"):
            self._silo_heartbeat = float(headers["NoOrg-Heartbeat-Seconds"])
        return body if status == 200 else None

    def _take(self, snapshot):
        task_id = snapshot["id"]
        with self._lock:
            if task_id in self._running:
                return False  # already running here (a re-delivery)
            token = CancellationToken()
            thread = threading.Thread(target=self._run_one, args=(snapshot, token), name=f"noorg-{task_id}", daemon=True)
            self._running[task_id] = (thread, token)
        thread.start()
        return True

    def _run_one(self, snapshot, token):
        task_id = snapshot["id"]
        try:
            if snapshot["state"] == "assigned":
                started = self._report("start", task_id, {"agentId": self.agent_id, "attempt": snapshot["attempt"]})
                if started is None:
                    return  # taken away or cancelled meanwhile
                snapshot = started
            task = Task(snapshot)
            beating = threading.Thread(target=self._heartbeat_loop, args=(task, token), daemon=True)
            beating.start()
            clock = time.monotonic()
            result, error = None, None
            try:
                result = json.dumps(self.handler(task, token), separators=(",", ":"))
            except Cancelled:
                pass
            except Exception as e:  # noqa: BLE001 - a handler's exception fails the attempt
                error = f"{type(e).__name__}: {e}"
            elapsed = time.monotonic() - clock
            # Once the attempt is over nothing is reported; at a stop only a result the handler still delivered is.
            if token.cancelled and not (result is not None and token.reason == _STOPPING):
                log.info("task %s attempt %d not reported: %s", task_id, task.attempt, token.reason)
                return
            self._finish(task, result, error, elapsed)
            token.cancel("reported")
        finally:
            token.cancel("done")
            with self._lock:
                self._running.pop(task_id, None)
            self._slots.release()

    def _finish(self, task, result, error, elapsed):
        agent = {"agentId": self.agent_id, "attempt": task.attempt}
        if error is None:
            try:
                done = self._report("complete", task.id, dict(agent, resultJson=result, processingTime=_timespan(elapsed)))
            except NoOrgError as e:  # 400: the result was refused; the attempt fails instead of waiting for ever
                done = self._report("fail", task.id, dict(agent, error=f"the result was refused: {e.detail}"[:4000]))
        else:
            done = self._report("fail", task.id, dict(agent, error=error[:4000]))
        if done is not None:
            self.reported.append(task.id)

    def _heartbeat_loop(self, task, token):
        while not token.wait(self.heartbeat_interval or self._silo_heartbeat):
            try:
                self._call("POST", f"/v1/tasks/{self._q(task.id)}/heartbeat", {"agentId": self.agent_id, "attempt": task.attempt})
            except NoOrgError as e:
                if e.status in (404, 409):
                    token.cancel(e.detail)  # the attempt is over: stop working on it
                    return
                log.warning("heartbeat of task %s failed (%s)", task.id, e)
            except OSError as e:
                log.warning("heartbeat of task %s failed (%s)", task.id, e)

    def _report(self, action, task_id, body):
        """Sends a report until the silo has it. None when the task moved on (404, 409); raises NoOrgError on 400."""
        def send():
            return self._call("POST", f"/v1/tasks/{self._q(task_id)}/{action}", body)[1]
        try:
            return self._retry(action, send, until_stopped=False)
        except NoOrgError as e:
            if e.status in (404, 409):
                log.info("task %s: %s not applied: %s", task_id, action, e.detail)
                return None
            raise

    def _shut_down(self):
        with self._lock:
            running = list(self._running.values())
        for _, token in running:
            token.cancel(_STOPPING)
        deadline = time.monotonic() + self.stop_grace
        self._give_up_at = deadline + self.stop_grace  # reports still being retried then are left to the hand-back
        for thread, _ in running:
            thread.join(max(0.0, deadline - time.monotonic()))
        query = urllib.parse.urlencode({"worker": self.worker_id})
        try:
            self._retry("disconnect", lambda: self._call("POST", f"/v1/agents/{self._q(self.agent_id)}/disconnect?{query}"),
                        until_stopped=False, attempts=5)
        except (NoOrgError, OSError) as e:
            log.warning("disconnect failed (%s); the agent goes offline when its heartbeat times out", e)
        log.info("worker %s stopped", self.worker_id)

    def _register(self):
        path = f"/v1/agents/{self._q(self.agent_id)}"
        try:
            self._call("PUT", path, self.registration)
        except NoOrgError as e:
            if e.status != 409:
                raise
            r = self.registration  # registered with other details: apply ours (the type cannot change)
            self._call("PATCH", path, {k: r[k] for k in ("name", "description", "capabilities", "maxConcurrentTasks", "metadata")})

    # -- HTTP -----------------------------------------------------------------------------------------------------

    def _retry(self, what, call, until_stopped, attempts=None):
        """Capped exponential back-off with jitter on network failures, 429 and 5xx; other errors are raised."""
        delay, attempt = 0.2, 0
        while True:
            attempt += 1
            try:
                return call()
            except NoOrgError as e:
                if not e.retryable or (attempts and attempt >= attempts):
                    raise
                wait = float(e.problem.get("retryAfterMs", 0)) / 1000 or delay
                failure = e
            except OSError as e:  # connection refused or reset, timeouts (URLError is an OSError)
                if attempts and attempt >= attempts:
                    raise
                wait, failure = delay, e
            if self._stopping.is_set() and (until_stopped or (self._give_up_at and time.monotonic() > self._give_up_at)):
                raise failure
            log.warning("%s failed (%s); retrying in %.1fs", what, failure, wait)
            time.sleep(wait * (0.8 + 0.4 * random.random()))
            delay = min(delay * 2, self.max_retry_delay)

    def _call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.api_key:
            request.add_header("Authorization", "Bearer " + self.api_key)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read().decode("utf-8")
                return response.status, (json.loads(text) if text else None), dict(response.headers)
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                problem = json.loads(text)
            except ValueError:
                problem = {"detail": text}
            raise NoOrgError(e.code, problem) from None

    @staticmethod
    def _q(segment):
        return urllib.parse.quote(segment, safe="")
