// Which names look secret: the one test wherever a variable's or an environment key's name decides that its value
// must stay a `${VAR}` reference (strict literals, Compose fields resolved when a module is read).

/**
 * A name looks secret when it holds PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, KEY, CREDENTIAL, PRIVATE, COOKIE,
 * SALT or DSN anywhere (any case), or PW or PASS as a whole `_`-separated part (`DB_PW`, `PASS`, not
 * `PASSAGE`). AUTH is left out: it names settings as often as secrets (`MINIO_PROMETHEUS_AUTH_TYPE: public`). A heuristic: it decides what must stay a reference, never what is masked (every resolved value is
 * masked whatever its name).
 */
const SECRET_NAME = /PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|COOKIE|SALT|DSN|(?:^|_)(?:PW|PASS)(?:$|_)/i;

/** Whether a variable or environment key name looks secret (see SECRET_NAME_WORDS). */
export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}
