/**
 * Cuts a running stack's Worker the way a deploy or an eviction does: the Workers runtime that
 * runs it (and its Durable Objects, with every open stream) dies at once. `wrangler dev` starts a
 * new runtime, which loads the hubs' persisted storage again — as Cloudflare does after a deploy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Stack } from './stack.ts';

type Process = { pid: number; ppid: number; state: string; command: string };

/** The processes of this machine, from /proc (a process that exits meanwhile is skipped). */
function processes(): Process[] {
  const found: Process[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      found.push({ pid: Number(entry), ppid: Number(ppid), state: state!, command });
    } catch {
      // gone between listing and reading
    }
  }
  return found;
}

/** Every process started, directly or not, by `root`. */
function descendantsOf(root: number): Process[] {
  const all = processes();
  const found: Process[] = [];
  const visit = (pid: number) => {
    for (const child of all.filter((candidate) => candidate.ppid === pid)) {
      found.push(child);
      visit(child.pid);
    }
  };
  visit(root);
  return found;
}

/** True once `pid` has exited (a zombie, not yet reaped by its parent, counts as exited). */
function isGone(pid: number): boolean {
  const found = processes().find((candidate) => candidate.pid === pid);
  return found === undefined || found.state === 'Z';
}

/**
 * Kills (SIGKILL) the runtime running the stack's Worker — not the runtime of wrangler's proxy,
 * which listens on the stack's port and holds the browser's connections — and resolves once the
 * restarted Worker answers `/readyz` with 200.
 */
export async function crashWorkerRuntime(stack: Stack, timeoutMs = 60_000): Promise<void> {
  const { port } = new URL(stack.workerUrl);
  const runtimes = descendantsOf(stack.process.pid!).filter((p) =>
    /\bworkerd serve\b/.test(p.command),
  );
  const workers = runtimes.filter((p) => !p.command.includes(`entry=127.0.0.1:${port} `));
  const worker = workers.length === 1 ? workers[0] : undefined;
  if (!worker) {
    throw new Error(
      `expected one Workers runtime besides the proxy on :${port}, found:\n` +
        runtimes.map((p) => `${p.pid} ${p.command}`).join('\n'),
    );
  }
  process.kill(worker.pid, 'SIGKILL');
  const deadline = Date.now() + timeoutMs;
  while (!isGone(worker.pid) || !(await isReady(stack.workerUrl))) {
    if (Date.now() > deadline) {
      throw new Error(`the Worker did not come back in ${timeoutMs} ms:\n${stack.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function isReady(workerUrl: string): Promise<boolean> {
  return fetch(`${workerUrl}/readyz`).then(
    async (response) => {
      await response.arrayBuffer();
      return response.ok;
    },
    () => false,
  );
}
