// Pure builders for engine request queries and bodies, tested on exact output.
import { LABEL } from "./labels.js";

/** Engine list filter selecting only resources labelled with `project`. */
export function listFilter(project: string): { label: string[] } {
  return { label: [`${LABEL.project}=${project}`] };
}

/** Query of `GET /containers/json`: every container of the project, running or not. */
export function listContainersQuery(project: string): { all: 1; filters: { label: string[] } } {
  return { all: 1, filters: listFilter(project) };
}

/** Query of `GET /volumes` and `GET /networks` for the project's resources. */
export function labelledListQuery(project: string): { filters: { label: string[] } } {
  return { filters: listFilter(project) };
}

/**
 * `POST /containers/create` split the way docker-modem honours: `name` in the URL, the whole spec in the body.
 * Passing the spec as plain options would also serialise it, `Env` secrets included, into the URL query string,
 * which dockerd's debug log records.
 */
export function createBodyRequest<B extends object>(name: string, body: B): { _query: { name: string }; _body: B } {
  return { _query: { name }, _body: body };
}

/** Body of `POST /networks/create` for a project network. */
export function networkCreateBody(
  project: string,
  name: string,
): { Name: string; Driver: "bridge"; CheckDuplicate: true; Labels: Record<string, string> } {
  return { Name: name, Driver: "bridge", CheckDuplicate: true, Labels: { [LABEL.project]: project } };
}

/** Body of `POST /volumes/create` for a module's named volume; a stateful module's volume carries the stateful label. */
export function volumeCreateBody(
  project: string,
  module: string,
  name: string,
  stateful = false,
): { Name: string; Driver: "local"; Labels: Record<string, string> } {
  const labels: Record<string, string> = { [LABEL.project]: project, [LABEL.module]: module };
  if (stateful) labels[LABEL.stateful] = "true";
  return { Name: name, Driver: "local", Labels: labels };
}

/** Query of `POST /containers/{id}/wait`. */
export function waitQuery(condition: "not-running" | "next-exit" | "removed"): { condition: string } {
  return { condition };
}

/** Query of `POST /containers/{id}/stop`: the container's StopSignal (default SIGTERM), then SIGKILL after `graceSeconds`. */
export function stopQuery(graceSeconds: number): { t: number } {
  return { t: Math.max(0, Math.floor(graceSeconds)) };
}

/** Query of `DELETE /containers/{id}`: never removes volumes; `force` kills a running container first. */
export function removeQuery(force: boolean): { force: boolean; v: false } {
  return { force, v: false };
}

/** Query of `GET /containers/{id}/logs`: both streams (the engine rejects neither), the last `lines` lines. */
export function logsQuery(lines: number): { stdout: 1; stderr: 1; tail: number; timestamps: 0; follow: 0 } {
  return { stdout: 1, stderr: 1, tail: Math.max(0, Math.floor(lines)), timestamps: 0, follow: 0 };
}

/** Body of `POST /containers/{id}/exec`: a non-interactive command with both output streams attached. */
export function execCreateBody(cmd: readonly string[]): {
  Cmd: string[];
  AttachStdin: false;
  AttachStdout: true;
  AttachStderr: true;
  Tty: false;
} {
  return { Cmd: [...cmd], AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false };
}

/** Body of `POST /exec/{id}/start`: attached, so the reply streams the output until the command ends. */
export function execStartBody(): { Detach: false; Tty: false } {
  return { Detach: false, Tty: false };
}
