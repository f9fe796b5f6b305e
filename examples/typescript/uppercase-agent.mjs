// An example NoOrg agent for Node 20: upper-cases every string of a task's input.
//
//   NOORG_URL=http://localhost:8080 NOORG_AGENT_ID=agent-ts-1 node examples/typescript/uppercase-agent.mjs
//   noorg tasks create --name shout --type uppercase --input '{"greeting":"hello"}' --wait
//
// Settings (environment): NOORG_URL, NOORG_AGENT_ID, NOORG_CAPABILITY (uppercase), NOORG_API_KEY (an agent key, when
// the silo requires one), EXAMPLE_DELAY_SECONDS (how long each task takes, to watch heartbeats and cancellation; a
// task's input may say "delaySeconds" instead).
import { setTimeout as delay } from "node:timers/promises";
import { Worker } from "../../clients/typescript/noorg-worker.mjs";

const upper = (value) =>
  typeof value === "string" ? value.toUpperCase()
    : Array.isArray(value) ? value.map(upper)
      : value && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, upper(v)]))
        : value;

const worker = new Worker({
  baseUrl: process.env.NOORG_URL ?? "http://localhost:8080",
  agentId: process.env.NOORG_AGENT_ID ?? "agent-ts-1",
  capabilities: [process.env.NOORG_CAPABILITY ?? "uppercase"],
  name: "TypeScript upper-caser",
  apiKey: process.env.NOORG_API_KEY || undefined,
  handler: async (task, signal) => {
    console.log(`running ${task.id} attempt ${task.attempt}`);
    const seconds = task.input?.delaySeconds ?? Number(process.env.EXAMPLE_DELAY_SECONDS ?? 0);
    await delay(seconds * 1000, undefined, { signal }); // rejects when aborted
    if (task.input?.fail) throw new Error(task.input.fail);
    return upper(task.input);
  },
});

await worker.run();
console.log(`stopped; reported ${worker.reported.length} task(s)`);
