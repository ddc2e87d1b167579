/**
 * Configuration and input errors of the retrofit core. They carry a stable `code` so the node can
 * key its message catalog and reject output on it instead of parsing English text.
 */
export class RetrofitError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RetrofitError';
  }
}
