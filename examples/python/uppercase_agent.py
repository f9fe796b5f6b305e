"""An example NoOrg agent in Python: upper-cases every string of a task's input.

    NOORG_URL=http://localhost:8080 NOORG_AGENT_ID=agent-py-1 python3 examples/python/uppercase_agent.py
    noorg tasks create --name shout --type uppercase --input '{"greeting":"hello"}' --wait

Settings (environment): NOORG_URL, NOORG_AGENT_ID, NOORG_CAPABILITY (uppercase), NOORG_API_KEY (an agent key, when
the silo requires one), EXAMPLE_DELAY_SECONDS (how long each task takes, to watch heartbeats and cancellation; a task's input may say
"delaySeconds" instead).
"""

import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
from noorg_worker import Cancelled, Worker  # noqa: E402


def upper(value):
    if isinstance(value, str):
        return value.upper()
    if isinstance(value, list):
        return [upper(v) for v in value]
    if isinstance(value, dict):
        return {k: upper(v) for k, v in value.items()}
    return value


def handle(task, token):
    print(f"running {task.id} attempt {task.attempt}", flush=True)
    delay = task.input.get("delaySeconds") if isinstance(task.input, dict) else None
    if token.wait(float(delay if delay is not None else os.environ.get("EXAMPLE_DELAY_SECONDS", "0"))):
        raise Cancelled(token.reason)
    if isinstance(task.input, dict) and task.input.get("fail"):
        raise ValueError(task.input["fail"])
    return upper(task.input)


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    worker = Worker(
        os.environ.get("NOORG_URL", "http://localhost:8080"),
        os.environ.get("NOORG_AGENT_ID", "agent-py-1"),
        handle,
        capabilities=[os.environ.get("NOORG_CAPABILITY", "uppercase")],
        name="Python upper-caser",
        api_key=os.environ.get("NOORG_API_KEY") or None,
    )
    worker.run()
    print(f"stopped; reported {len(worker.reported)} task(s)", flush=True)


if __name__ == "__main__":
    main()
