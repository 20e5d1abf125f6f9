// An esbuild plugin both CLI bundles use: drops docker-modem's per-request debug line, whose argument is built even
// though its `debug` is the never-enabled stub (scripts/debug-disabled.cjs): `util.inspect` of every request's
// options with `showHidden` and unlimited depth, keep-alive agent and its sockets included (~0.5 ms a request, more
// on a command's first requests: `node --cpu-prof` of `apply --rerun`, README "Performance").
import { readFile } from "node:fs/promises";

/** The statement as docker-modem 5 writes it in `Modem.prototype.buildRequest`. */
const SENDING = /debug\('Sending: %s', util\.inspect\(options, \{\s*showHidden: true,\s*depth: null\s*\}\)\);/;

export const quietModem = {
  name: "quiet-modem",
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/ }, async (args) => {
      const code = await readFile(args.path, "utf8");
      // Another docker-modem version: bundled as it is (correct, only slower), and the build says so.
      if (!SENDING.test(code))
        return {
          contents: code,
          loader: "js",
          warnings: [{ text: "docker-modem's request debug line not found: left in (each request builds an unused util.inspect string)" }],
        };
      return { contents: code.replace(SENDING, ""), loader: "js" };
    });
  },
};
