/** An error's message, or the thrown value as text (a thrown string, a rejection with no Error). */
export function errorMessage(err: unknown): string {
  const message = (err as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : String(err);
}

/** Undici reports network failures as "fetch failed" with the real reason (ECONNREFUSED, ENOTFOUND…) as the cause. */
export function networkError(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.message === 'string') {
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    return code && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
  }
  return errorMessage(err);
}
