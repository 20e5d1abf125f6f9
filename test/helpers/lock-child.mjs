// A separate process taking the apply lock through the built library (dist/): `contend` for the barrier test, `hold` to keep it.
// contend STATE_DIR PROJECT LOG: per "go N" line on stdin, takes the lock (waiting), appends "enter PID N" and
//   "exit PID N" to LOG around a short hold, releases it and prints "done N"; prints "ready" first.
// hold STATE_DIR PROJECT: takes the lock (failing at once when held), prints "held PID", keeps it until stdin closes.
import { appendFileSync, readFileSync } from "node:fs";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { createInterface } from "node:readline";

const { acquireLock } = await import(new URL("../../dist/state/lock.js", import.meta.url).href);
const [mode, stateDir, project, log] = process.argv.slice(2);
// The old API took a whole holder (pid and start time as apply recorded them); the current one reads what it needs.
const pidStart = () => readFileSync(`/proc/${process.pid}/stat`, "utf8").split(") ")[1]?.split(" ")[19] ?? null;
const request = () => ({
  pid: process.pid,
  pid_start: pidStart(),
  host: os.hostname(),
  user: "test",
  command: `lock-child ${mode}`,
  started_at: new Date().toISOString(),
  ci_run_url: null,
  project,
  one_shot: null,
});
const opts = (waitMs) => ({
  waitMs,
  oneShotRunning: async () => false,
  onTakeover: (t) => process.stderr.write(`takeover ${JSON.stringify(t)}\n`),
});

if (mode === "contend") {
  const lines = createInterface({ input: process.stdin });
  process.stdout.write("ready\n");
  for await (const line of lines) {
    const round = line.split(" ")[1];
    const lock = await acquireLock(stateDir, request(), opts(120_000));
    appendFileSync(log, `enter ${process.pid} ${round}\n`);
    await sleep(5);
    appendFileSync(log, `exit ${process.pid} ${round}\n`);
    await lock.release();
    process.stdout.write(`done ${round}\n`);
  }
} else if (mode === "hold") {
  const lock = await acquireLock(stateDir, request(), opts(0));
  process.stdout.write(`held ${process.pid}\n`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on("end", resolve));
  await lock.release();
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
