// Stands in for the `debug` package in the CLI bundles: with DEBUG=modem (or *), docker-modem would print every
// request's options and every reply through it, and those carry secret values (a container's Env). Never enabled.
module.exports = function createDebug() {
  const debug = () => undefined;
  debug.enabled = false;
  debug.extend = createDebug;
  return debug;
};
