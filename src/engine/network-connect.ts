// Attaching a created container to a further network (API 1.41 takes only one network at create time).
import type { Engine } from "./connect.js";
import { requestJson, seg } from "./dial.js";

export async function connectNetwork(
  engine: Engine,
  network: string,
  containerId: string,
  aliases: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  await requestJson(engine, {
    method: "POST",
    path: `/networks/${seg(network)}/connect`,
    body: { Container: containerId, EndpointConfig: { Aliases: [...aliases] } },
    operation: "connect container to network",
    target: network,
    signal,
  });
}
