/**
 * `secretRef: "NAME"` in a DAG document: the secret itself stays in the environment of the processes that deliver
 * (`WEFT_SECRET_NAME`) and never enters the database; it is read at delivery time, so rotating it needs no new
 * DAG version, only a restart with the new value.
 */
export const SECRET_REF_PATTERN = /^[A-Z0-9_]{1,200}$/;
export const SECRET_REF_ENV_PREFIX = 'WEFT_SECRET_';

export function secretRefVariable(name: string): string {
  return `${SECRET_REF_ENV_PREFIX}${name}`;
}

/** The value of a secretRef, or why there is none (a message fit for the delivery's error). */
export function resolveSecretRef(name: string, env: Record<string, string | undefined>): { ok: true; secret: string } | { ok: false; error: string } {
  const variable = secretRefVariable(name);
  const secret = env[variable];
  if (secret === undefined || secret === '') {
    return { ok: false, error: `secretRef ${name}: the environment variable ${variable} is not set in this process` };
  }
  return { ok: true, secret };
}
