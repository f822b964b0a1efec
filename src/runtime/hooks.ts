import { createRequire } from 'node:module';
import type { Hook, HookName, State } from '../spec/types.js';
import { ContainerError } from './errors.js';

/**
 * Runs one hook as runtime.md says, in the runtime's namespaces (prestart,
 * createRuntime, poststart, poststop): the container's state JSON on stdin,
 * killed after `timeout` seconds; a non-zero exit is a failure. createContainer
 * and startContainer hooks are run by the container's init (plan ops).
 */
export async function runHook(name: HookName, hook: Hook, state: State): Promise<void> {
  await runOutside(`${name} hook ${hook.path}`, hook, JSON.stringify(state));
}

function runOutside(describe: string, hook: Hook, input: string): Promise<void> {
  // Loaded on first use: most containers have no hooks, and start-up time counts.
  const { spawn: spawnProcess } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawnProcess(hook.path, (hook.args ?? [hook.path]).slice(1), {
      argv0: hook.args?.[0] ?? hook.path,
      env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      stdio: ['pipe', 'inherit', 'inherit'],
      ...(hook.timeout ? { timeout: hook.timeout * 1000, killSignal: 'SIGKILL' as const } : {}),
    });
    child.stdin.on('error', () => {}); // a hook that does not read its stdin is fine
    child.stdin.end(input);
    child.on('error', (error) => reject(new ContainerError(`${describe}: ${error.message}`, 'EHOOK')));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(hookFailure(describe, code, signal, hook.timeout));
    });
  });
}

function hookFailure(describe: string, code: number | null, signal: string | null, timeout?: number): ContainerError {
  if (signal === 'SIGKILL' && timeout) return new ContainerError(`${describe}: timed out after ${timeout}s`, 'EHOOK');
  return new ContainerError(`${describe}: ${signal ? `killed by ${signal}` : `exited with status ${code}`}`, 'EHOOK');
}

/** Runs hooks in order; the first failure stops the rest (create-time hooks). */
export async function runHooks(name: HookName, hooks: Hook[] | undefined, state: State): Promise<void> {
  for (const hook of hooks ?? []) await runHook(name, hook, state);
}

/** poststart/poststop: a failure is a warning, and the others still run (runtime.md). */
export async function runHooksWarnOnly(name: HookName, hooks: Hook[] | undefined, state: State, warn: (msg: string) => void): Promise<void> {
  for (const hook of hooks ?? []) {
    try {
      await runHook(name, hook, state);
    } catch (error) {
      warn(`warning: ${(error as Error).message}`);
    }
  }
}
