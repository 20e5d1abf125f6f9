// The workflow linter: one case or more per rule with exact positions, the project's own workflows, and the command.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lintWorkflow, unpinnedReason, WORKFLOW_RULES, type WorkflowFinding } from "../../src/workflows/lint-workflows.js";
import { REPO } from "../helpers/repo.js";
import { runCli } from "../helpers/run-cli.js";

const CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683";

/** `[rule, line]` pairs, the shape most cases assert. */
const found = (text: string): [string, number][] => lintWorkflow("w.yml", text).map((f) => [f.rule, f.line]);

/** A dispatch-only apply workflow that passes every rule; cases change one thing in it. */
function applyWorkflow(
  parts: { on?: string; concurrency?: string; gate?: string; gateStep?: string; applyIf?: string; applyEnv?: string } = {},
): string {
  const env = parts.applyEnv ?? "          MODULE: ${{ inputs.module }}\n          CONFIRM: ${{ inputs.stateful_confirm }}";
  return [
    "name: apply",
    parts.on ??
      "on:\n  workflow_dispatch:\n    inputs:\n      module: {type: string, required: true}\n      stateful_confirm: {type: string}",
    parts.concurrency ??
      "concurrency:\n  group: platformctl-apply-${{ vars.PLATFORMCTL_PROJECT || 'platform' }}\n  cancel-in-progress: false",
    "jobs:",
    "  apply:",
    "    runs-on: platformctl",
    "    steps:",
    `      - uses: ${CHECKOUT} # v4.2.2`,
    parts.gateStep ??
      [
        "      - name: Gate",
        "        env:",
        "          MODULE: ${{ inputs.module }}",
        "          CONFIRM: ${{ inputs.stateful_confirm }}",
        "        run: |",
        `          ${parts.gate ?? 'npx --no-install platformctl scope --module "$MODULE" --plan plan.json --fail-on-blocked --confirm "$CONFIRM"'}`,
      ].join("\n"),
    "      - name: Apply",
    ...(parts.applyIf ? [`        if: ${parts.applyIf}`] : []),
    "        env:",
    env,
    "        run: |",
    '          npx --no-install platformctl apply --module "$MODULE" --plan plan.json --confirm "$CONFIRM"',
    "",
  ].join("\n");
}

describe("a clean apply workflow", () => {
  it("has no findings", () => {
    expect(lintWorkflow("w.yml", applyWorkflow())).toEqual([]);
  });

  it("holds for the project's own workflows", async () => {
    for (const f of ["workflows/platformctl-auto-apply.yml", "workflows/platformctl-plan.yml"]) {
      expect(lintWorkflow(f, await readFile(path.join(REPO, f), "utf8"))).toEqual([]);
    }
  });
});

describe("script injection", () => {
  it("reports inputs, event payloads and head_ref inside run:, at the expression's line and column", () => {
    const text = [
      "on: pull_request",
      "jobs:",
      "  check:",
      "    runs-on: x",
      "    steps:",
      "      - name: Inline",
      '        run: echo "${{ github.head_ref }}"',
      "      - name: Block",
      "        run: |",
      "          echo start",
      '          echo "${{ github.event.pull_request.title }}" and "${{ inputs.module }}"',
      "",
    ].join("\n");
    const findings = lintWorkflow("w.yml", text);
    expect(findings.map((f) => [f.rule, f.line, f.column])).toEqual([
      ["script.injection", 7, 20],
      ["script.injection", 11, 17],
      ["script.injection", 11, 62],
    ]);
    expect(findings[1]?.message).toContain("${{ github.event.pull_request.title }}");
    expect(findings[1]?.fix).toBe(WORKFLOW_RULES["script.injection"].fix);
  });

  it("reports step outputs, env, vars and github.event.inputs too, but not run ids, SHAs or runner paths", () => {
    const run = (expr: string) => found(`on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: echo \${{ ${expr} }}\n`);
    for (const bad of [
      "steps.changed.outputs.modules",
      "env.MODULE",
      "vars.PROJECT",
      "github.event.inputs.module",
      "github.ref_name",
      "matrix.module",
      "toJSON(github.event)",
    ]) {
      expect(run(bad), bad).toEqual([["script.injection", 6]]);
    }
    for (const ok of ["github.run_id", "github.sha", "runner.temp", "github.repository", "steps.x.outcome", "job.status"])
      expect(run(ok), ok).toEqual([]);
  });

  it("allows the same expressions in env:, with: and if:", () => {
    const text = [
      "on: pull_request",
      "jobs:",
      "  j:",
      "    if: github.event.pull_request.head.repo.full_name == github.repository",
      "    runs-on: x",
      "    steps:",
      `      - uses: ${CHECKOUT}`,
      "        with:",
      "          ref: ${{ github.head_ref }}",
      "      - env:",
      "          TITLE: ${{ github.event.pull_request.title }}",
      '        run: echo "$TITLE"',
      "",
    ].join("\n");
    expect(found(text)).toEqual([]);
  });

  it("checks the script of actions/github-script", () => {
    const text = `on: issues\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/github-script@v7\n        with:\n          script: console.log("\${{ github.event.issue.title }}")\n`;
    expect(found(text)).toEqual([["script.injection", 8]]);
  });
});

describe("secrets", () => {
  const job = (steps: string, env = "      PW: ${{ secrets.MINIO_ROOT_PASSWORD }}") =>
    `on: workflow_dispatch\njobs:\n  j:\n    runs-on: x\n    env:\n${env}\n    steps:\n${steps}\n`;

  it("reports a secret expression inside run:", () => {
    expect(found(job('      - run: curl -u "admin:${{ secrets.MINIO_ROOT_PASSWORD }}" http://minio:9000/'))).toEqual([
      ["secret.exposed", 8],
    ]);
  });

  it("reports a secret env var echoed or passed as an argument", () => {
    expect(found(job('      - run: echo "$PW"'))).toEqual([["secret.exposed", 8]]);
    expect(found(job("      - run: mc alias set local http://minio:9000 admin ${PW}"))).toEqual([["secret.exposed", 8]]);
    expect(found(job('      - run: |\n          echo ok\n          printf "%s\\n" "$PW" > pw.txt'))).toEqual([["secret.exposed", 10]]);
  });

  it("allows presence checks, here-strings and piping on stdin", () => {
    const steps = [
      "      - run: |",
      '          [ -n "$PW" ] || { echo "MINIO_ROOT_PASSWORD is not set" >&2; exit 1; }',
      '          : "${PW:?set it}"',
      "          printf '%s' \"$PW\" | docker login --password-stdin registry.example.org",
      '          docker login --password-stdin registry.example.org <<<"$PW"',
    ].join("\n");
    expect(found(job(steps))).toEqual([]);
  });

  it("does not treat variables holding no secret as secrets", () => {
    expect(found(job('      - run: echo "$PW"', "      PW: ${{ vars.PUBLIC }}"))).toEqual([]);
  });
});

describe("apply steps", () => {
  it("reports an apply workflow triggered by anything but workflow_dispatch, at on:", () => {
    for (const on of [
      "on: push",
      "on: [workflow_dispatch, push]",
      "on:\n  workflow_dispatch:\n  schedule:\n    - cron: '0 3 * * *'",
      "on: workflow_call",
    ]) {
      expect(found(applyWorkflow({ on })), on).toEqual([["apply.trigger", 2]]);
    }
    for (const on of ["on: workflow_dispatch", "on: [workflow_dispatch]", "on:\n  workflow_dispatch: {}"])
      expect(found(applyWorkflow({ on })), on).toEqual([]);
  });

  it("reports an apply with no scope --fail-on-blocked step before it", () => {
    const gateStep = '      - name: Gate\n        run: npx --no-install platformctl scope --module "$MODULE"';
    expect(found(applyWorkflow({ gateStep }))).toEqual([["apply.no_gate", 22]]);
  });

  it("finds platformctl behind a shell function or a variable", () => {
    const text = applyWorkflow({ gateStep: "      - run: echo no gate" }).replace(
      '          npx --no-install platformctl apply --module "$MODULE" --plan plan.json --confirm "$CONFIRM"',
      '          pctl() { npx --no-install platformctl "$@"; }\n          pctl apply --module "$MODULE"',
    );
    expect(found(text).map(([r]) => r)).toEqual(["apply.no_gate"]);
    const viaVariable = applyWorkflow({ gateStep: "      - run: echo no gate" }).replace(
      "npx --no-install platformctl apply",
      'PCTL="npx --no-install platformctl"; $PCTL apply',
    );
    expect(found(viaVariable).map(([r]) => r)).toEqual(["apply.no_gate"]);
  });

  it("reports a gate whose inputs differ from the apply's: a flag or an env: input", () => {
    const fewerFlags = applyWorkflow({ gate: 'npx --no-install platformctl scope --module "$MODULE" --plan plan.json --fail-on-blocked' });
    const [f] = lintWorkflow("w.yml", fewerFlags);
    expect(f).toMatchObject({ rule: "apply.no_gate", line: 26, column: 11 });
    expect(f?.message).toContain("--module --plan vs --confirm --module --plan");
    const otherInput = applyWorkflow({ applyEnv: "          MODULE: ${{ inputs.module }}\n          CONFIRM: ${{ inputs.other_token }}" });
    expect(lintWorkflow("w.yml", otherInput).map((x) => [x.rule, x.message.includes("different env: inputs")])).toEqual([
      ["apply.no_gate", true],
    ]);
  });

  describe("the maintenance input", () => {
    /** A dispatch apply job whose gate and apply steps run `script` (the same in both) with `env` bound. */
    const maintenanceWorkflow = (script: string, env: string[]) =>
      [
        "name: apply",
        "on:\n  workflow_dispatch:\n    inputs:\n      module: {type: string, required: true}\n      maintenance: {type: boolean, default: false}",
        "concurrency:\n  group: platformctl-apply-${{ vars.PLATFORMCTL_PROJECT || 'platform' }}\n  cancel-in-progress: false",
        "jobs:",
        "  apply:",
        "    runs-on: platformctl",
        "    steps:",
        ...["scope", "apply"].flatMap((sub) => [
          `      - name: ${sub}`,
          "        env:",
          ...env.map((e) => `          ${e}`),
          "        run: |",
          `          ${script.replace("SUB", sub === "scope" ? "scope --fail-on-blocked" : "apply")}`,
        ]),
        "",
      ].join("\n");
    const bound = ["MODULE: ${{ inputs.module }}", "MAINTENANCE: ${{ inputs.maintenance }}"];
    const conditional =
      'm=(); if [ "$MAINTENANCE" = "true" ]; then m+=(--maintenance); fi; npx --no-install platformctl SUB --module "$MODULE" --plan plan.json "${m[@]}"';

    it("accepts --maintenance added from a dispatch input bound in env:, with --plan, in the gate and the apply alike", () => {
      expect(lintWorkflow("w.yml", maintenanceWorkflow(conditional, bound))).toEqual([]);
    });

    it("reports --maintenance without --plan, or that no dispatch input asked for", () => {
      const noPlan = maintenanceWorkflow(conditional.replace(" --plan plan.json", ""), bound);
      expect(lintWorkflow("w.yml", noPlan).map((f) => [f.rule, f.message.includes("without --plan")])).toEqual([
        ["apply.maintenance_unsafe", true],
      ]);
      const always = maintenanceWorkflow('npx --no-install platformctl SUB --module "$MODULE" --plan plan.json --maintenance', [
        "MODULE: ${{ inputs.module }}",
      ]);
      expect(lintWorkflow("w.yml", always).map((f) => [f.rule, f.message.includes("no dispatch input `maintenance`")])).toEqual([
        ["apply.maintenance_unsafe", true],
      ]);
    });

    it("reports the input pasted into the script, and a gate that does not pass --maintenance like the apply", () => {
      const pasted = maintenanceWorkflow(
        "npx --no-install platformctl SUB --module \"$MODULE\" --plan plan.json ${{ inputs.maintenance && '--maintenance' || '' }}",
        bound,
      );
      expect(lintWorkflow("w.yml", pasted).map((f) => f.rule)).toContain("script.injection");
      const gateWithout = maintenanceWorkflow(conditional, bound).replace(
        "then m+=(--maintenance); fi; npx --no-install platformctl scope",
        "then :; fi; npx --no-install platformctl scope",
      );
      expect(lintWorkflow("w.yml", gateWithout).map((f) => [f.rule, f.message.includes("--maintenance")])).toEqual([
        ["apply.no_gate", true],
      ]);
    });
  });

  it("reports a gate that cannot stop the apply", () => {
    const cases: [Partial<Parameters<typeof applyWorkflow>[0]>, string][] = [
      [
        { gate: 'npx --no-install platformctl scope --module "$MODULE" --plan plan.json --fail-on-blocked --confirm "$CONFIRM" || true' },
        "|| true",
      ],
      [
        {
          gate: 'if ! npx --no-install platformctl scope --module "$MODULE" --plan plan.json --fail-on-blocked --confirm "$CONFIRM"; then echo blocked; fi',
        },
        "condition",
      ],
      [
        { gate: 'set +e; npx --no-install platformctl scope --module "$MODULE" --plan plan.json --fail-on-blocked --confirm "$CONFIRM"' },
        "set +e",
      ],
      [{ applyIf: "always()" }, "always()"],
    ];
    for (const [parts, what] of cases)
      expect(
        found(applyWorkflow(parts)).map(([r]) => r),
        what,
      ).toEqual(["apply.gate_bypassed"]);
    const continueOnError = applyWorkflow().replace("      - name: Gate\n", "      - name: Gate\n        continue-on-error: true\n");
    expect(found(continueOnError).map(([r]) => r)).toEqual(["apply.gate_bypassed"]);
    const exitsBlocked = applyWorkflow({
      gate: 'npx --no-install platformctl scope --module "$MODULE" --plan plan.json --fail-on-blocked --confirm "$CONFIRM" || exit 3',
    });
    expect(found(exitsBlocked)).toEqual([]);
  });

  it("reports an apply workflow without a concurrency group, or one that cancels runs in progress", () => {
    expect(found(applyWorkflow({ concurrency: "" }))).toEqual([["apply.no_concurrency", 9]]);
    expect(found(applyWorkflow({ concurrency: "concurrency:\n  group: apply\n  cancel-in-progress: true" }))).toEqual([
      ["apply.no_concurrency", 9],
    ]);
    expect(found(applyWorkflow({ concurrency: "concurrency: platformctl-apply" }))).toEqual([]);
  });
});

describe("pinned actions", () => {
  it("accepts a full commit SHA, a version tag, a local action and a container image digest", () => {
    for (const ok of [
      CHECKOUT,
      "actions/checkout@v4",
      "actions/checkout@v4.2.2",
      "actions/upload-artifact@4.6.2",
      "./.github/actions/setup",
      `docker://alpine@sha256:${"a".repeat(64)}`,
      "https://code.forgejo.org/actions/checkout@v4",
    ]) {
      expect(unpinnedReason(ok), ok).toBeUndefined();
    }
  });

  it("reports a branch, a short SHA, no ref, or latest", () => {
    for (const bad of [
      "actions/checkout@main",
      "actions/checkout@master",
      "actions/checkout",
      "actions/checkout@11bd719",
      "docker://alpine:latest",
      "owner/repo/.github/workflows/x.yml@develop",
    ]) {
      expect(unpinnedReason(bad), bad).toBeDefined();
    }
  });

  it("reports unpinned steps and reusable workflows at their line", () => {
    const text =
      "on: push\njobs:\n  a:\n    uses: org/wf/.github/workflows/x.yml@main\n  b:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@main\n";
    expect(found(text)).toEqual([
      ["action.unpinned", 4],
      ["action.unpinned", 8],
    ]);
  });
});

describe("files that are not workflows", () => {
  it("reports invalid YAML at its position", () => {
    const [f] = lintWorkflow("w.yml", "on: push\njobs:\n  j: [unclosed\n");
    expect(f).toMatchObject({ rule: "yaml.invalid", file: "w.yml" });
  });

  it("documents every rule with a meaning and a fix", () => {
    for (const [rule, text] of Object.entries(WORKFLOW_RULES)) {
      expect(text.meaning.length, rule).toBeGreaterThan(20);
      expect(text.fix.length, rule).toBeGreaterThan(20);
    }
  });
});

describe("platformctl lint-workflows", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "platformctl-lint-"));
    await mkdir(path.join(dir, "bad"));
    await writeFile(path.join(dir, "bad/apply.yml"), applyWorkflow({ on: "on: push" }));
    await writeFile(path.join(dir, "bad/notes.txt"), "not a workflow");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("passes the repository's workflows by default, exit 0", async () => {
    const r = await runCli(["lint-workflows"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain("✓ 2 workflows clean: workflows/platformctl-auto-apply.yml, workflows/platformctl-plan.yml");
  });

  it("prints each finding as file:line:column rule: message with its fix, exit 1", async () => {
    const r = await runCli(["lint-workflows", "bad"], {}, dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✗ bad/apply.yml:2:1 apply.trigger: ");
    expect(r.stdout).toContain(`    fix: ${WORKFLOW_RULES["apply.trigger"].fix}`);
    expect(r.stdout).toMatch(/1 finding in 1 file\n$/);
  });

  it("prints findings as JSON with --json", async () => {
    const r = await runCli(["lint-workflows", "--json", path.join(dir, "bad/apply.yml")]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { clean: boolean; findings: WorkflowFinding[] };
    expect(out.clean).toBe(false);
    expect(out.findings.map((f) => [f.rule, f.line])).toEqual([["apply.trigger", 2]]);
  });

  it("reads .forgejo/workflows and .github/workflows when present", async () => {
    const repo = path.join(dir, "repo");
    await mkdir(path.join(repo, ".forgejo/workflows"), { recursive: true });
    await mkdir(path.join(repo, ".github/workflows"), { recursive: true });
    await writeFile(path.join(repo, ".forgejo/workflows/apply.yml"), applyWorkflow());
    await writeFile(path.join(repo, ".github/workflows/apply.yaml"), applyWorkflow({ concurrency: "" }));
    const r = await runCli(["lint-workflows"], {}, repo);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(".github/workflows/apply.yaml:9:3 apply.no_concurrency");
    expect(r.stdout).not.toContain(".forgejo/workflows/apply.yml:");
  });

  it("refuses a FIFO among the workflow files with exit 1, naming it, instead of hanging", async () => {
    await mkdir(path.join(dir, "piped"));
    execFileSync("mkfifo", [path.join(dir, "piped/apply.yml")]);
    const r = await runCli(["lint-workflows", "piped"], {}, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("piped/apply.yml cannot be read (not a regular file)");
  });

  it("fails with a clear error for a path that does not exist", async () => {
    const r = await runCli(["lint-workflows", "no-such-dir"], {}, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no such file or directory: no-such-dir");
  });
});

describe("anchors, aliases and merge keys (the workflow as the runner sees it)", () => {
  it("reports an injection written under an anchor and used through an alias, at the anchor's line", () => {
    const text = [
      "on: pull_request",
      'x-inj: &inj "echo ${{ github.event.pull_request.title }}"',
      "jobs:",
      "  j:",
      "    runs-on: x",
      "    steps:",
      "      - run: *inj",
      "",
    ].join("\n");
    expect(found(text)).toEqual([["script.injection", 2]]);
  });

  it("finds an apply in steps that come from an alias, and in a step merged with <<", () => {
    const aliased = [
      "on: workflow_dispatch",
      "x-steps: &s",
      "  - run: npx --no-install platformctl apply --module web",
      "jobs:",
      "  j:",
      "    runs-on: x",
      "    steps: *s",
      "",
    ].join("\n");
    expect(
      found(aliased)
        .map(([r]) => r)
        .sort(),
    ).toEqual(["apply.no_concurrency", "apply.no_gate"]);
    const merged = [
      "on: workflow_dispatch",
      "concurrency: {group: apply, cancel-in-progress: false}",
      "x-base: &base",
      "  run: npx --no-install platformctl apply --module web",
      "jobs:",
      "  j:",
      "    runs-on: x",
      "    steps:",
      "      - <<: *base",
      "        name: Apply",
      "",
    ].join("\n");
    expect(found(merged)).toEqual([["apply.no_gate", 4]]);
  });

  it("reads an aliased on: instead of calling the workflow triggered by nothing", () => {
    const text = applyWorkflow({ on: "x-on: &on [push]\non: *on" });
    const findings = lintWorkflow("w.yml", text);
    expect(findings.map((f) => f.rule)).toEqual(["apply.trigger"]);
    expect(findings[0]?.message).toContain("triggered by push");
    expect(found(applyWorkflow({ on: "x-on: &on workflow_dispatch\non: *on" }))).toEqual([]);
  });

  it("refuses an alias bomb quickly instead of expanding it", () => {
    const levels = ["x0: &a0 [run]"];
    for (let i = 1; i < 12; i++) levels.push(`x${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(", ")}]`);
    const merges = ["m0: &m0 {run: echo}"];
    for (let i = 1; i < 12; i++) merges.push(`m${i}: &m${i} {<<: [${Array.from({ length: 9 }, () => `*m${i - 1}`).join(", ")}]}`);
    const text = [
      "on: push",
      ...levels,
      ...merges,
      "jobs:",
      "  j:",
      "    runs-on: x",
      "    steps: *a11",
      "  k:",
      "    runs-on: x",
      "    steps: [*m11]",
      "",
    ].join("\n");
    const findings = lintWorkflow("w.yml", text);
    expect(findings.map((f) => f.rule)).toContain("yaml.invalid");
    expect(findings.find((f) => f.rule === "yaml.invalid")?.message).toContain("alias");
  });
});

describe("what lint-workflows used to miss", () => {
  const job = (steps: string[], env: string[] = [], on = "on: push") =>
    [
      on,
      "jobs:",
      "  j:",
      "    runs-on: x",
      ...(env.length ? ["    env:", ...env.map((l) => `      ${l}`)] : []),
      "    steps:",
      ...steps.map((l) => `      ${l}`),
      "",
    ].join("\n");

  it("finds platformctl apply inside bash -c and sh -c strings", () => {
    const text = applyWorkflow({ gateStep: "      - run: echo no gate" }).replace(
      "npx --no-install platformctl apply",
      'bash -c "npx platformctl apply"; true',
    );
    expect(found(text).map(([r]) => r)).toEqual(["apply.no_gate"]);
    const viaSh = applyWorkflow({ gateStep: "      - run: echo no gate" }).replace(
      "npx --no-install platformctl apply",
      "sh -c 'platformctl apply'; true",
    );
    expect(found(viaSh).map(([r]) => r)).toEqual(["apply.no_gate"]);
  });

  it("reports printenv of a secret, printenv or env without arguments, and a secret here-string into cat", () => {
    const env = ["TOK: ${{ secrets.TOKEN }}"];
    expect(found(job(["- run: printenv TOK"], env))).toEqual([["secret.exposed", 8]]);
    expect(found(job(["- run: printenv"], env))).toEqual([["secret.exposed", 8]]);
    expect(found(job(["- run: env | sort"], env))).toEqual([["secret.exposed", 8]]);
    expect(found(job(['- run: cat <<< "$TOK"'], env))).toEqual([["secret.exposed", 8]]);
    expect(found(job(['- run: echo "$TOK" | base64'], env))).toEqual([["secret.exposed", 8]]);
    expect(
      found(job(["- run: printenv HOME", '- run: docker login --password-stdin r.example <<< "$TOK"', "- run: env FOO=1 make"], env)),
    ).toEqual([]);
  });

  it("reports eval or sh -c of a variable bound to an untrusted expression", () => {
    const env = ["TITLE: ${{ github.event.pull_request.title }}", "SHA: ${{ github.sha }}"];
    expect(found(job(['- run: eval "$TITLE"'], env, "on: pull_request"))).toEqual([["script.injection", 9]]);
    expect(found(job(['- run: bash -c "echo $TITLE"'], env, "on: pull_request"))).toEqual([["script.injection", 9]]);
    expect(found(job(['- run: eval "echo $SHA"', '- run: echo "$TITLE"'], env, "on: pull_request"))).toEqual([]);
  });

  it("reports an untrusted variable piped or here-stringed into a shell, or sourced from a process substitution", () => {
    const env = ["TITLE: ${{ github.event.pull_request.title }}", "SHA: ${{ github.sha }}"];
    for (const run of [
      'echo "$TITLE" | sh',
      'printf %s "$TITLE" | bash -s',
      'bash <<< "$TITLE"',
      'source <(echo "$TITLE")',
      '. <(printf %s "$TITLE")',
    ])
      expect(found(job([`- run: ${run}`], env, "on: pull_request")), run).toEqual([["script.injection", 9]]);
    // over-reporting control: a trusted value, a script file, a shell given -c
    for (const run of ['echo "$SHA" | sh', 'echo "$TITLE" | bash build.sh', 'echo "$TITLE" | bash -c "cat > t"'])
      expect(found(job([`- run: ${run}`], env, "on: pull_request")), run).toEqual([]);
  });

  it("finds an apply run through a versioned npx package or a wrapper (xargs, timeout, docker run)", () => {
    for (const line of [
      "npx platformctl@1.2.3 apply",
      "npx --yes platformctl@latest apply",
      "echo x | xargs npx platformctl apply",
      "timeout 30m npx platformctl apply",
      "docker run --rm -v /run/docker.sock:/run/docker.sock tools:1 platformctl apply",
    ]) {
      const text = applyWorkflow({ gateStep: "      - run: echo no gate" }).replace("npx --no-install platformctl apply", `${line}`);
      expect(
        found(text).map(([r]) => r),
        line,
      ).toEqual(["apply.no_gate"]);
    }
    expect(found(job(["- run: timeout 5m make", "- run: docker run --rm img echo platformctl-free"]))).toEqual([]);
  });

  it("reports pull_request_target workflows that check out the pull request's head", () => {
    for (const ref of [
      "${{ github.event.pull_request.head.sha }}",
      "${{ github.event.pull_request.head.ref }}",
      "${{ github.head_ref }}",
    ]) {
      const text = job([`- uses: ${CHECKOUT}`, "  with:", `    ref: ${ref}`, "- run: make"], [], "on: pull_request_target");
      expect(found(text), ref).toEqual([["pr_target.checkout_head", 8]]);
    }
    expect(found(job([`- uses: ${CHECKOUT}`, "- run: make"], [], "on: pull_request_target"))).toEqual([]);
    expect(
      found(job([`- uses: ${CHECKOUT}`, "  with:", "    ref: ${{ github.event.pull_request.head.sha }}"], [], "on: pull_request")),
    ).toEqual([]);
  });

  it("reports untrusted expressions in with: args and working-directory", () => {
    expect(
      found(job(["- uses: docker://alpine:3.20", "  with:", "    args: echo ${{ github.event.issue.title }}"], [], "on: issues")),
    ).toEqual([["script.injection", 8]]);
    expect(found(job(["- run: make", "  working-directory: ${{ github.head_ref }}"], [], "on: pull_request"))).toEqual([
      ["script.injection", 7],
    ]);
    expect(found(job(["- run: make", "  working-directory: ${{ runner.temp }}"]))).toEqual([]);
  });

  it("reports a missing concurrency group once per job, however many apply steps the job has", () => {
    const many = applyWorkflow({ concurrency: "" }).replace(
      '          npx --no-install platformctl apply --module "$MODULE" --plan plan.json --confirm "$CONFIRM"',
      Array.from(
        { length: 6 },
        () => '          npx --no-install platformctl apply --module "$MODULE" --plan plan.json --confirm "$CONFIRM"',
      ).join("\n"),
    );
    expect(found(many).filter(([r]) => r === "apply.no_concurrency")).toEqual([["apply.no_concurrency", 9]]);
    const cancels = applyWorkflow({ concurrency: "concurrency:\n  group: apply\n  cancel-in-progress: true" }).replace(
      "jobs:\n  apply:",
      "jobs:\n  apply2:\n    runs-on: x\n    steps:\n      - run: npx platformctl apply\n  apply:",
    );
    expect(found(cancels).filter(([r]) => r === "apply.no_concurrency")).toHaveLength(1);
  });
});
