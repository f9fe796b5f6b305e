// Types of noorg-worker.mjs for TypeScript projects (the runnable file is plain JavaScript; no build step).

export interface Task {
  id: string;
  /** The attempt this run is; every report names it. */
  attempt: number;
  type: string;
  name: string;
  /** The task's inputJson, parsed. */
  input: unknown;
  /** The TaskSnapshot as the silo sent it (docs/api/openapi.v1.json). */
  snapshot: Record<string, unknown>;
}

export interface WorkerOptions {
  baseUrl: string;
  agentId: string;
  /** Its value (JSON-serialisable) is the result; a throw fails the attempt. The signal aborts when the attempt is over or the worker stops. */
  handler: (task: Task, signal: AbortSignal) => unknown | Promise<unknown>;
  capabilities: string[];
  name?: string;
  type?: string;
  description?: string;
  maxConcurrentTasks?: number;
  metadata?: Record<string, string>;
  apiKey?: string;
  pollWaitSeconds?: number;
  /** Default: as the silo says on each poll (a third of its heartbeat timeout). */
  heartbeatSeconds?: number;
  maxRetryDelaySeconds?: number;
  stopGraceSeconds?: number;
  log?: (line: string) => void;
}

export declare class NoOrgError extends Error {
  constructor(status: number, problem: unknown);
  readonly status: number;
  readonly problem: Record<string, unknown>;
  readonly code: string;
  readonly detail: string;
  readonly retryable: boolean;
}

export declare class Worker {
  constructor(options: WorkerOptions);
  readonly agentId: string;
  readonly workerId: string;
  /** Task ids this worker reported, in order. */
  readonly reported: string[];
  /** Works until stop() or SIGINT/SIGTERM; then aborts handlers, sends their reports and takes the agent offline. */
  run(options?: { installSignalHandlers?: boolean }): Promise<void>;
  stop(): void;
}
