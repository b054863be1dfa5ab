/**
 * EventBridge pattern matching for the local runtime, the subset serverless.yml uses: every key
 * in the pattern must be in the event; a list matches when it holds the event's value; an
 * object matches the event's object of the same name, recursively.
 */
export const matchesPattern = (pattern: unknown, event: unknown): boolean => {
  if (Array.isArray(pattern)) return pattern.some((candidate) => candidate === event);
  if (pattern && typeof pattern === 'object') {
    if (!event || typeof event !== 'object') return false;
    return Object.entries(pattern).every(([key, value]) =>
      matchesPattern(value, (event as Record<string, unknown>)[key]),
    );
  }
  return pattern === event;
};
