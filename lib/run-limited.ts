/** Runs the tasks, at most `limit` at a time, in order of start (a dozen lines: no library needed). */
export const runLimited = async (tasks: (() => Promise<void>)[], limit: number) => {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
};
