// The Docker engine adapter: the Runtime port carried out with the engine functions of src/engine (units are containers).
import {
  createContainer,
  ensureNetwork,
  ensureVolume,
  execInContainer,
  removeContainer,
  removeNetwork,
  removeVolume,
  renameContainer,
  startContainer,
  stopContainer,
} from "./actions.js";
import type { Engine } from "./connect.js";
import { buildContainer } from "./container-body.js";
import { inspectHeldValues } from "./held-values.js";
import { assertHelperImage } from "./helper-image.js";
import { execStream } from "./exec-stream.js";
import { inspectContainer } from "./inspect-container.js";
import { LABEL } from "./labels.js";
import { tailLogs } from "./logs.js";
import { inspectMounts, readDeviceInContainer } from "./mount-probe.js";
import { connectNetwork } from "./network-connect.js";
import { imageId, observe } from "./observe.js";
import { readVolume, writeVolume } from "./volume-archive.js";
import { runOneShot, waitForExit, waitForState } from "./wait.js";
import { helperUnitName, resourceName } from "../plan/unit-name.js";
import type { HelperSpec, Runtime, UnitSpec } from "../runtime/runtime.js";
import { runtimeIgnoredFields } from "../manifest/runtime-ignored-fields.js";

/** The Runtime of one Docker engine. Holds no state besides the client. */
export function dockerRuntime(engine: Engine): Runtime {
  return {
    maintenance: { keeps: "renamed-unit" },
    endpoint: engine.endpoint,
    local: engine.endpoint.startsWith("unix://"),
    ping: (signal) => engine.ping(signal),
    admit: (modules) => runtimeIgnoredFields("docker", modules),
    observe: (project, refs, opts) => observe(engine, project, refs, opts),
    inspectUnit: (unit, signal, onHeld) => inspectContainer(engine, unit, signal, undefined, onHeld),
    imageId: (ref, signal) => imageId(engine, ref, signal),
    heldValues: (unit, signal) => inspectHeldValues(engine, unit, signal),
    async createUnit(spec: UnitSpec, opts) {
      const built = buildContainer(spec);
      opts.onSecrets?.(built.secrets);
      for (const n of spec.service.networks) await ensureNetwork(engine, spec.project, n, opts.signal);
      for (const v of Object.values(built.volumes))
        await ensureVolume(engine, spec.project, spec.module.name, v, opts.signal, spec.module.stateful);
      const id = await createContainer(engine, opts.name, built.body, opts.signal);
      for (const n of built.extraNetworks) await connectNetwork(engine, n, id, [spec.service.name], opts.signal);
      return { id, name: opts.name };
    },
    async createHelper(spec: HelperSpec, signal) {
      const name = helperUnitName(spec.project, spec.module, spec.role, spec.nonce);
      const id = await createContainer(engine, name, helperBody(spec), signal);
      return { id, name };
    },
    startUnit: (unit, signal) => startContainer(engine, unit, signal),
    stopUnit: (unit, grace, signal) => stopContainer(engine, unit, grace, signal),
    removeUnit: (unit, opts) => removeContainer(engine, unit, opts),
    renameUnit: (unit, newName, signal) => renameContainer(engine, unit, newName, signal),
    ensureNetwork: (project, name, signal) => ensureNetwork(engine, project, name, signal),
    ensureVolume: (project, module, name, signal, stateful) => ensureVolume(engine, project, module, name, signal, stateful),
    removeVolume: (project, name, signal) => removeVolume(engine, project, name, signal),
    removeNetwork: (project, name, signal) => removeNetwork(engine, project, name, signal),
    runOneShot: (unit, opts) => runOneShot(engine, unit, opts),
    waitForState: (unit, target, opts) => waitForState(engine, unit, target, opts),
    waitForExit: (unit, opts) => waitForExit(engine, unit, opts),
    exec: (unit, cmd, timeoutMs, signal) => execInContainer(engine, unit, cmd, timeoutMs, signal),
    execStream: (unit, cmd, opts) => execStream(engine, unit, cmd, opts),
    tailLogs: (unit, lines, signal) => tailLogs(engine, unit, lines, signal),
    unitMounts: (unit, signal) => inspectMounts(engine, unit, signal),
    readDevice: (unit, path, timeoutMs, signal) => readDeviceInContainer(engine, unit, path, timeoutMs, signal),
    checkVolumeAccess: async (_project, _volumes, signal, helper) => {
      if (helper) await assertHelperImage(engine, helper, signal);
    },
    readVolume: (project, volume, consume, opts) => readVolume(engine, project, volume, consume, opts),
    writeVolume: (project, volume, tar, opts) => writeVolume(engine, project, volume, tar, opts),
  };
}

/** Body of `POST /containers/create` for a helper unit: no restart, marked as service `_<role>` of its module. */
export function helperBody(spec: HelperSpec) {
  const [entrypoint, ...args] = spec.command;
  return {
    Image: spec.image,
    Entrypoint: entrypoint === undefined ? [] : [entrypoint],
    Cmd: args,
    Labels: { [LABEL.project]: spec.project, [LABEL.module]: spec.module, [LABEL.service]: `_${spec.role}` },
    HostConfig: {
      Mounts: spec.mounts.map((m) =>
        m.type === "volume"
          ? { Type: "volume" as const, Source: resourceName(spec.project, m.volume), Target: m.target, ReadOnly: m.readOnly }
          : { Type: "bind" as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly },
      ),
      RestartPolicy: { Name: "no" },
    },
  };
}
