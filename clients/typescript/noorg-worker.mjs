// A NoOrg agent worker over the HTTP worker protocol (docs/workers-http.md) for Node 20+, with its built-in fetch and
// no dependencies. Plain JavaScript with JSDoc types, so `node` runs it as is; noorg-worker.d.ts gives TypeScript
// projects the same types.
//
//   import { Worker } from "./noorg-worker.mjs";
//   const worker = new Worker({ baseUrl: "http://localhost:8080", agentId: "agent-ts-1", capabilities: ["uppercase"],
//     handler: async (task, signal) => ({ greeting: task.input.greeting.toUpperCase() }) });
//   await worker.run();   // until SIGINT/SIGTERM or worker.stop()

const STOPPING = "the worker is stopping";

/** An answer of the silo that is not a success: its status and problem document. */
export class NoOrgError extends Error {
  /** @param {number} status @param {any} problem */
  constructor(status, problem) {
    const p = problem && typeof problem === "object" ? problem : { detail: String(problem) };
    super(`${status} ${p.code ?? ""}: ${p.detail ?? ""}`);
    this.status = status;
    this.problem = p;
    this.code = p.code ?? "";
    this.detail = p.detail ?? "";
  }

  /** Worth sending again: the silo was unavailable, failed, or asked to slow down. */
  get retryable() {
    return [429, 500, 502, 503, 504].includes(this.status);
  }
}

/**
 * @typedef {object} Task
 * @property {string} id
 * @property {number} attempt
 * @property {string} type
 * @property {string} name
 * @property {any} input        inputJson, parsed
 * @property {any} snapshot     the TaskSnapshot as the silo sent it
 */

/**
 * @typedef {object} WorkerOptions
 * @property {string} baseUrl
 * @property {string} agentId
 * @property {(task: Task, signal: AbortSignal) => Promise<any> | any} handler  its value (JSON-serialisable) is the result; a throw fails the attempt
 * @property {string[]} capabilities
 * @property {string} [name]
 * @property {string} [type]
 * @property {string} [description]
 * @property {number} [maxConcurrentTasks]
 * @property {Record<string, string>} [metadata]
 * @property {string} [apiKey]
 * @property {number} [pollWaitSeconds]
 * @property {number} [heartbeatSeconds]   default: as the silo says on each poll (a third of its heartbeat timeout)
 * @property {number} [maxRetryDelaySeconds]
 * @property {number} [stopGraceSeconds]
 * @property {(line: string) => void} [log]
 */

const sleep = (ms, signal) => new Promise((resolve) => {
  if (signal?.aborted) return resolve();
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

/** Seconds as the API's duration text, hh:mm:ss.fffffff. */
const timespan = (seconds) => {
  const ticks = Math.round(seconds * 1e7);
  const total = Math.floor(ticks / 1e7);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}.${pad(ticks % 1e7, 7)}`;
};

const q = encodeURIComponent;

export class Worker {
  /** @param {WorkerOptions} options */
  constructor(options) {
    this.options = { type: "typescript", description: "", maxConcurrentTasks: 1, metadata: {}, pollWaitSeconds: 20,
      maxRetryDelaySeconds: 5, stopGraceSeconds: 10, log: (line) => console.error(line), ...options };
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.agentId = options.agentId;
    this.workerId = "ts-" + crypto.randomUUID().replaceAll("-", "").slice(0, 16);
    /** @type {string[]} task ids this worker reported, in order */
    this.reported = [];
    /** @type {Map<string, { controller: AbortController, done: Promise<void> }>} */
    this.running = new Map();
    this.stopping = new AbortController();
    this.siloHeartbeatSeconds = 10;
    this.giveUpAt = Infinity;
  }

  /**
   * Works until stop() or SIGINT/SIGTERM; then aborts handlers, sends their reports and takes the agent offline.
   * Rejects with a NoOrgError when the agent cannot be registered (a 400 naming what is wrong, a 401 or 403).
   */
  async run({ installSignalHandlers = true } = {}) {
    const onSignal = () => this.stop();
    if (installSignalHandlers) {
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    }
    try {
      await this.#registerUnlessStopped();
      if (!this.stopping.signal.aborted) {
        this.options.log(`agent ${this.agentId} registered; worker ${this.workerId} polling`);
        await this.#pollLoop();
      }
    } finally {
      this.stop(); // also after a failure: handlers are aborted and the agent is taken offline
      await this.#shutDown();
      if (installSignalHandlers) {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    }
  }

  stop() {
    this.stopping.abort();
  }

  async #pollLoop() {
    let delay = 200;
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      if (this.running.size >= this.options.maxConcurrentTasks) {
        await Promise.race([...[...this.running.values()].map((r) => r.done), sleep(500, stop)]);
        continue;
      }
      let snapshot;
      try {
        snapshot = await this.#poll();
        delay = 200;
      } catch (e) {
        if (stop.aborted) break;
        if (e instanceof NoOrgError && e.status === 404) {
          await this.#registerUnlessStopped(); // removed meanwhile: register again (a refusal for good ends the worker)
          continue;
        }
        this.options.log(`poll failed (${e.message}); retrying in ${delay} ms`);
        await sleep(delay, stop);
        delay = Math.min(delay * 2, this.options.maxRetryDelaySeconds * 1000);
        continue;
      }
      if (snapshot && !stop.aborted && !this.running.has(snapshot.id)) {
        const controller = new AbortController();
        const entry = { controller, done: Promise.resolve() };
        this.running.set(snapshot.id, entry);
        entry.done = this.#runOne(snapshot, controller).finally(() => this.running.delete(snapshot.id));
      }
    }
  }

  async #poll() {
    const query = new URLSearchParams({ worker: this.workerId, wait: String(this.options.pollWaitSeconds) });
    // Aborted at a stop; the disconnect that follows ends the poll on the silo too.
    const { status, body, headers } = await this.#call("GET", `/v1/agents/${q(this.agentId)}/tasks/next?${query}`, undefined,
      (this.options.pollWaitSeconds + 15) * 1000, this.stopping.signal);
    const every = Number(headers.get("noorg-heartbeat-seconds"));
    if (every > 0) this.siloHeartbeatSeconds = every;
    return status === 200 ? body : null;
  }

  /** @param {any} snapshot @param {AbortController} controller */
  async #runOne(snapshot, controller) {
    const id = snapshot.id;
    try {
      if (snapshot.state === "assigned") {
        const started = await this.#report("start", id, { agentId: this.agentId, attempt: snapshot.attempt });
        if (!started) return; // taken away or cancelled meanwhile
        snapshot = started;
      }
      /** @type {Task} */
      const task = { id, attempt: snapshot.attempt, type: snapshot.spec.type, name: snapshot.spec.name,
        input: JSON.parse(snapshot.spec.inputJson ?? "null"), snapshot };
      const onStop = () => controller.abort(STOPPING);
      this.stopping.signal.addEventListener("abort", onStop, { once: true });
      const beating = this.#heartbeatLoop(task, controller);
      const clock = performance.now();
      let result;
      let error;
      try {
        result = JSON.stringify((await this.options.handler(task, controller.signal)) ?? null);
      } catch (e) {
        error = `${e?.name ?? "Error"}: ${e?.message ?? String(e)}`;
      } finally {
        this.stopping.signal.removeEventListener("abort", onStop);
      }
      const elapsed = (performance.now() - clock) / 1000;
      const reason = controller.signal.aborted ? controller.signal.reason : undefined;
      // Once the attempt is over nothing is reported; at a stop only a result the handler still delivered is.
      if (reason !== undefined && !(result !== undefined && reason === STOPPING)) {
        this.options.log(`task ${id} attempt ${task.attempt} not reported: ${reason}`);
        controller.abort("done");
        await beating;
        return;
      }
      controller.abort("reported");
      await beating;
      await this.#finish(task, result, error, elapsed);
    } catch (e) {
      this.options.log(`task ${id}: ${e.message}`);
    }
  }

  async #finish(task, result, error, elapsed) {
    const agent = { agentId: this.agentId, attempt: task.attempt };
    let done;
    if (error === undefined) {
      try {
        done = await this.#report("complete", task.id, { ...agent, resultJson: result, processingTime: timespan(elapsed) });
      } catch (e) {
        if (!(e instanceof NoOrgError)) throw e;
        // 400: the result was refused; the attempt fails instead of waiting for ever
        done = await this.#report("fail", task.id, { ...agent, error: `the result was refused: ${e.detail}`.slice(0, 4000) });
      }
    } else {
      done = await this.#report("fail", task.id, { ...agent, error: error.slice(0, 4000) });
    }
    if (done) this.reported.push(task.id);
  }

  async #heartbeatLoop(task, controller) {
    const signal = controller.signal;
    while (!signal.aborted) {
      await sleep((this.options.heartbeatSeconds ?? this.siloHeartbeatSeconds) * 1000, signal);
      if (signal.aborted) return;
      try {
        await this.#call("POST", `/v1/tasks/${q(task.id)}/heartbeat`, { agentId: this.agentId, attempt: task.attempt });
      } catch (e) {
        if (e instanceof NoOrgError && (e.status === 404 || e.status === 409)) {
          controller.abort(e.detail); // the attempt is over: stop working on it
          return;
        }
        this.options.log(`heartbeat of task ${task.id} failed (${e.message})`);
      }
    }
  }

  /** Sends a report until the silo has it; null when the task moved on (404, 409); throws NoOrgError on 400. */
  async #report(action, taskId, body) {
    try {
      return (await this.#retry(action, () => this.#call("POST", `/v1/tasks/${q(taskId)}/${action}`, body))).body;
    } catch (e) {
      if (e instanceof NoOrgError && (e.status === 404 || e.status === 409)) {
        this.options.log(`task ${taskId}: ${action} not applied: ${e.detail}`);
        return null;
      }
      throw e;
    }
  }

  async #shutDown() {
    const grace = this.options.stopGraceSeconds * 1000;
    this.giveUpAt = performance.now() + 2 * grace; // reports still being retried then are left to the hand-back
    await Promise.race([Promise.all([...this.running.values()].map((r) => r.done)), sleep(grace)]);
    const query = new URLSearchParams({ worker: this.workerId });
    try {
      await this.#retry("disconnect", () => this.#call("POST", `/v1/agents/${q(this.agentId)}/disconnect?${query}`), { attempts: 5 });
    } catch (e) {
      this.options.log(`disconnect failed (${e.message}); the agent goes offline when its heartbeat times out`);
    }
    this.options.log(`worker ${this.workerId} stopped`);
  }

  /** Registers, retrying failures that may pass; throws a refusal for good (400, 401, 403) unless the worker is stopping. */
  async #registerUnlessStopped() {
    try {
      await this.#retry("register", () => this.#register(), { untilStopped: true });
    } catch (e) {
      if (!this.stopping.signal.aborted) throw e;
    }
  }

  async #register() {
    const path = `/v1/agents/${q(this.agentId)}`;
    const o = this.options;
    const registration = { name: o.name ?? o.agentId, type: o.type, description: o.description, capabilities: o.capabilities,
      maxConcurrentTasks: o.maxConcurrentTasks, metadata: o.metadata };
    try {
      await this.#call("PUT", path, registration);
    } catch (e) {
      if (!(e instanceof NoOrgError) || e.status !== 409) throw e;
      const { type, ...update } = registration; // registered with other details: apply ours (the type cannot change)
      await this.#call("PATCH", path, update);
    }
  }

  /** Capped exponential back-off with jitter on network failures, 429 and 5xx; other errors are thrown. */
  async #retry(what, call, { untilStopped = false, attempts = Infinity } = {}) {
    let delay = 200;
    for (let attempt = 1; ; attempt++) {
      let wait = delay;
      try {
        return await call();
      } catch (e) {
        if (e instanceof NoOrgError) {
          if (!e.retryable || attempt >= attempts) throw e;
          wait = Number(e.problem.retryAfterMs) || delay;
        } else if (attempt >= attempts) {
          throw e;
        }
        if (this.stopping.signal.aborted && (untilStopped || performance.now() > this.giveUpAt)) throw e;
        this.options.log(`${what} failed (${e.message}); retrying in ${wait} ms`);
      }
      await sleep(wait * (0.8 + 0.4 * Math.random()));
      delay = Math.min(delay * 2, this.options.maxRetryDelaySeconds * 1000);
    }
  }

  async #call(method, path, body, timeoutMs = 30_000, signal = undefined) {
    const headers = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    const response = await fetch(this.baseUrl + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.any(signals),
    });
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { detail: text };
    }
    if (!response.ok) throw new NoOrgError(response.status, parsed);
    return { status: response.status, body: parsed, headers: response.headers };
  }
}
