/**
 * A problem in a rule found while compiling it (a JSONPath that does not parse, a filter that
 * reaches for code, an unknown parameter, …). `pointer` is the JSON Pointer of the offending
 * value in the submitted document; code that knows only the message leaves it for its caller
 * to fill in with `atPointer`.
 */
export class RuleSyntaxError extends Error {
  override readonly name = 'RuleSyntaxError';

  constructor(
    message: string,
    readonly pointer?: string,
  ) {
    super(message);
  }
}

/** Runs `compile`, blaming `pointer` for any RuleSyntaxError that does not name a more precise place. */
export function atPointer<T>(pointer: string, compile: () => T): T {
  try {
    return compile();
  } catch (error) {
    if (error instanceof RuleSyntaxError && error.pointer === undefined) throw new RuleSyntaxError(error.message, pointer);
    throw error;
  }
}
