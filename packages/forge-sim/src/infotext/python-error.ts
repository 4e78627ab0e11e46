/**
 * Errors that carry the name of the Python exception Forge raises at the same point, so that
 * png-info can report them the way Forge does.
 */

/** A Python exception's class name on a JavaScript error, for callers that report it. */
export function pythonError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}
