// Names for the resources of one test run: every project a test uses starts with the run id, so teardown finds it.
let counter = 0;

export function runId(): string {
  const id = process.env.PLATFORMCTL_TEST_RUN;
  if (!id) throw new Error("PLATFORMCTL_TEST_RUN is not set: run the tests through vitest (test/global-setup.ts)");
  return id;
}

/** A fresh project name for one scenario, e.g. `t1a2b3c-4-plan`. */
export function testProject(label: string): string {
  counter += 1;
  return `${runId()}-${process.pid % 1000}${counter}-${label}`.slice(0, 40).replace(/-+$/, "");
}
