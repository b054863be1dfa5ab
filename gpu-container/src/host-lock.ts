import { readFileSync, readlinkSync } from 'node:fs';
import { open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { LongtailError } from '../../lib/errors';
import { logger } from '../../lib/logger';

/**
 * Lock files by which worker processes on one host do a piece of work once. A lock is created
 * with O_EXCL (`open(path, 'wx')`), so exactly one creator wins, also across containers that see
 * the folder through a host volume; its holder removes it when done, in a `finally`.
 *
 * A holder can die without removing it (SIGKILL, OOM kill, a stopped container). Its lock is then
 * abandoned, and the next waiter takes it over, when either
 * - its mtime is older than `staleMs`: a live holder refreshes it (`keepFresh`) far more often, or
 * - it names a pid of this pid namespace that no longer runs. Each container has a pid namespace
 *   of its own, where another container's pid means nothing or another process, so a lock taken
 *   in another container goes stale by age alone.
 */

export class LockTimeout extends LongtailError {
  override name = 'LockTimeout';
}

export interface LockTiming {
  /** How long to wait for a live holder before giving up with `LockTimeout`. */
  waitMs: number;
  /** A lock whose mtime is older than this belongs to no live process. */
  staleMs: number;
  /** How long to sleep between two looks at a held lock. */
  pollMs: number;
  now: () => number;
}

/** A lock this process holds. Its inode tells it apart from a lock taken after a takeover. */
export interface HeldLock {
  path: string;
  ino: number;
}

/** What a lock file says: who took it, and when. Empty for a moment after its creation. */
interface LockOwner {
  pid: number;
  /** The boot and pid namespace the pid belongs to. */
  scope: string;
  since: string;
}

interface LockState {
  ino: number;
  mtimeMs: number;
  owner?: LockOwner;
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

let scope: string | undefined;
/** Where a pid means this process: the boot and pid namespace; the host name without /proc. */
export const processScope = (): string => {
  scope ??= (() => {
    try {
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      return `${boot} ${readlinkSync('/proc/self/ns/pid')}`;
    } catch {
      return hostname();
    }
  })();
  return scope;
};

const parseOwner = (text: string): LockOwner | undefined => {
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.scope === 'string' && typeof owner.since === 'string'
      ? { pid: owner.pid, scope: owner.scope, since: owner.since }
      : undefined;
  } catch {
    return undefined;
  }
};

const inspect = async (path: string): Promise<LockState | undefined> => {
  try {
    const [info, text] = await Promise.all([stat(path), readFile(path, 'utf8')]);
    const owner = parseOwner(text);
    return { ino: info.ino, mtimeMs: info.mtimeMs, ...(owner ? { owner } : {}) };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
};

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists and belongs to another user.
    return errorCode(error) === 'EPERM';
  }
};

/** Why no live process holds the lock, or undefined while its holder may be alive. */
const abandonment = (lock: LockState, timing: LockTiming): string | undefined => {
  const age = timing.now() - lock.mtimeMs;
  if (age > timing.staleMs) return `not refreshed for ${Math.round(age / 1000)} s`;
  const owner = lock.owner;
  if (owner && owner.scope === processScope() && !isRunning(owner.pid)) return `pid ${owner.pid} is gone`;
  return undefined;
};

/** Creates the lock file, or returns undefined when another process holds it. */
export const tryLock = async (path: string, now: () => number): Promise<HeldLock | undefined> => {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return undefined;
    throw error;
  }
  try {
    const owner: LockOwner = {
      pid: process.pid,
      scope: processScope(),
      since: new Date(now()).toISOString(),
    };
    await handle.writeFile(JSON.stringify(owner));
    // Stamped with the same clock that judges its age.
    await handle.utimes(new Date(now()), new Date(now()));
    return { path, ino: (await handle.stat()).ino };
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  } finally {
    await handle.close();
  }
};

/** Removes the lock if it is still this process's: after a takeover it is another's. */
export const releaseLock = async (lock: HeldLock) => {
  const current = await stat(lock.path).catch(() => undefined);
  if (current?.ino === lock.ino) await rm(lock.path, { force: true });
};

/**
 * Removes an abandoned lock; true when it did. Two waiters can judge the same lock abandoned;
 * were both to remove "the lock", the second could remove the one the first has just taken. So it
 * is removed under a second lock, `<lock>.breaking`, and only while it is still the same file and
 * still abandoned. The breaker is held for a stat and an unlink; one left by a crash in between is
 * abandoned in turn.
 */
const breakLock = async (path: string, judged: LockState, reason: string, timing: LockTiming) => {
  const breakerPath = `${path}.breaking`;
  const breaker = await tryLock(breakerPath, timing.now);
  if (!breaker) {
    const other = await inspect(breakerPath);
    if (other && abandonment(other, timing)) await rm(breakerPath, { force: true });
    return false;
  }
  try {
    const current = await inspect(path);
    if (current?.ino !== judged.ino || !abandonment(current, timing)) return false;
    logger.warn('Taking over an abandoned lock', { lock: path, reason, owner: current.owner });
    await rm(path, { force: true });
    return true;
  } finally {
    await releaseLock(breaker);
  }
};

/**
 * Takes the lock at `path`, waiting while a live process holds it and taking it over from a dead
 * one. `what` names the work in the timeout's message.
 */
export const acquireLock = async (path: string, timing: LockTiming, what: string): Promise<HeldLock> => {
  const started = timing.now();
  for (;;) {
    const held = await tryLock(path, timing.now);
    if (held) return held;
    const lock = await inspect(path);
    // Released since: try again at once.
    if (!lock) continue;
    const reason = abandonment(lock, timing);
    if (reason && (await breakLock(path, lock, reason, timing))) continue;
    if (timing.now() - started >= timing.waitMs) {
      const holder = lock.owner ? `pid ${lock.owner.pid} since ${lock.owner.since}` : 'another process';
      throw new LockTimeout(
        'LOCK_TIMEOUT',
        `Waited ${Math.round(timing.waitMs / 1000)} s for ${what}: ${path} is held by ${holder}.`,
      );
    }
    await sleep(timing.pollMs);
  }
};

/**
 * Sets the mtimes of `paths` to now every `everyMs` until stopped: how a live holder shows that
 * it lives. Failures are ignored (a path that is gone needs no refreshing).
 */
export const keepFresh = (paths: readonly string[], everyMs: number, now: () => number) => {
  const timer = setInterval(() => {
    const at = new Date(now());
    for (const path of paths) utimes(path, at, at).catch(() => undefined);
  }, everyMs);
  // Refreshing alone must not keep a finished worker alive.
  timer.unref();
  return () => clearInterval(timer);
};
