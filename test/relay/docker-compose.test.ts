/**
 * The Docker data plane (docker-compose.yml) and the relay image (relay/Dockerfile), checked
 * without Docker: the compose file as `docker-compose config` resolves it (see
 * test/support/config-files.ts); `npm run check:ops` validates it with the compose CLI itself.
 */
import { access, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  readCompose,
  repoRoot,
  type ComposeConfig,
  type ComposeService,
} from '../support/config-files.ts';

/** A literal `$` is written `$$` in a compose file (and compose prints it so). */
function unescapeDollars(value: string): string {
  return value.replaceAll('$$', '$');
}

function publishedPorts(service: ComposeService): { hostIp: string; hostPort: number }[] {
  return (service.ports ?? []).map((port) => {
    // "host_ip:host_port:container_port", to which compose's normal form adds "/protocol".
    const match = /^(?<hostIp>[^:]*):(?<hostPort>\d+):\d+(?:\/\w+)?$/.exec(port);
    if (!match?.groups) throw new Error(`Port without an explicit host address: ${port}`);
    return { hostIp: match.groups.hostIp ?? '', hostPort: Number(match.groups.hostPort) };
  });
}

describe('docker-compose.yml, the local data plane', () => {
  let config: ComposeConfig;

  beforeAll(async () => {
    // No variables at all (not this shell's, not a developer's .env): every `${VAR:-default}`
    // must stand on its own.
    config = await readCompose();
  });

  function service(name: string): ComposeService {
    const found = config.services[name];
    if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
    return found;
  }

  function environment(name: string): Record<string, string> {
    return service(name).environment ?? {};
  }

  it('is complete with no environment set, every secret having a development default', () => {
    expect(config.unset).toEqual([]);
  });

  it('runs PostgreSQL, its WebSocket proxy, Redis, its REST bridge, RabbitMQ and the relay', () => {
    expect(Object.keys(config.services)).toEqual(
      expect.arrayContaining(['postgres', 'wsproxy', 'redis', 'redis-rest', 'rabbitmq', 'relay']),
    );
    expect(service('postgres').image).toBe('postgres:15');
    expect(service('wsproxy').image).toMatch(/^ghcr\.io\/neondatabase\/wsproxy(:|$)/);
    expect(service('redis-rest').image).toMatch(/^hiett\/serverless-redis-http(:|$)/);
    expect(service('rabbitmq').image).toMatch(/^rabbitmq:[\d.]+-management$/);
  });

  it('publishes ports on 127.0.0.1 only, the same ones the dev stack uses without Docker', () => {
    const byService: Record<string, number[]> = {};
    for (const [name, definition] of Object.entries(config.services)) {
      for (const { hostIp, hostPort } of publishedPorts(definition)) {
        expect(hostIp, `${name} publishes port ${hostPort} beyond loopback`).toBe('127.0.0.1');
        (byService[name] ??= []).push(hostPort);
      }
    }
    expect(byService).toEqual({
      postgres: [5432, 8791], // 8791: wsproxy, which lives in postgres's network namespace
      redis: [6379],
      'redis-rest': [8792],
      rabbitmq: [5672, 15672, 15692],
      relay: [8788],
      prometheus: [9090],
      alertmanager: [9093],
      grafana: [3000],
    });
  });

  it('lets the WebSocket proxy reach this PostgreSQL and nothing else', () => {
    const wsproxy = service('wsproxy');
    const env = environment('wsproxy');
    const pattern = unescapeDollars(env.ALLOW_ADDR_REGEX ?? '');
    expect(pattern, 'an empty ALLOW_ADDR_REGEX makes wsproxy allow every address').not.toBe('');
    expect(['.*', '^.*$', '.+', '^.+$']).not.toContain(pattern);

    // wsproxy matches the `address` query parameter plus APPEND_PORT against the pattern.
    const allowed = (address: string) =>
      new RegExp(pattern).test(address + (env.APPEND_PORT ?? ''));
    // The Worker's DATABASE_URL (postgres://root@127.0.0.1:5432/…) yields address=127.0.0.1:5432,
    // which is this PostgreSQL only because the proxy shares its network namespace.
    expect(allowed('127.0.0.1:5432')).toBe(true);
    expect(wsproxy.network_mode).toBe('service:postgres');
    for (const elsewhere of [
      'db.example.com:5432',
      '10.0.0.5:5432',
      '127.0.0.1:6379',
      '127.0.0.1:54320',
      'rabbitmq:5672',
      '169.254.169.254:80',
      'evil.postgres:5432',
    ]) {
      expect(allowed(elsewhere), `wsproxy would relay to ${elsewhere}`).toBe(false);
    }
    expect(env.LOG_TRAFFIC ?? 'false').toBe('false');
  });

  it('gives the relay its database, broker and Worker addresses and its signing secret', () => {
    const relay = service('relay');
    const env = environment('relay');

    const database = new URL(env.DATABASE_URL ?? '');
    expect([database.protocol, database.hostname, database.port, database.pathname]).toEqual([
      'postgres:',
      'postgres',
      '5432',
      '/table_order',
    ]);
    const broker = new URL(env.AMQP_URL ?? '');
    expect([broker.protocol, broker.hostname, broker.port]).toEqual(['amqp:', 'rabbitmq', '5672']);
    expect(new URL(env.WORKER_URL ?? '').host).toBe('host.docker.internal:8787');
    expect(relay.extra_hosts).toContain('host.docker.internal:host-gateway');

    expect(env.RELAY_HMAC_SECRET).toBeTruthy();
    expect(env.RELAY_HTTP_HOST).toBe('0.0.0.0');
    expect(String(env.RELAY_HTTP_PORT)).toBe('8788');
    expect(relay.build?.dockerfile).toBe('relay/Dockerfile');
    expect(resolve(relay.build?.context ?? '')).toBe(repoRoot);
  });

  it('starts the relay only once PostgreSQL and RabbitMQ answer their health checks', () => {
    expect(service('relay').depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
      rabbitmq: { condition: 'service_healthy' },
    });
    expect(service('postgres').healthcheck?.test).toContain('pg_isready');
    expect(service('rabbitmq').healthcheck?.test).toEqual([
      'CMD',
      'rabbitmq-diagnostics',
      '-q',
      'ping',
    ]);
  });

  it('serves Redis over the Upstash REST protocol behind a bearer token', () => {
    const env = environment('redis-rest');
    expect(env.SRH_MODE).toBe('env');
    expect(env.SRH_CONNECTION_STRING).toBe('redis://redis:6379');
    expect(env.SRH_TOKEN).toBeTruthy();
  });

  it('enables the RabbitMQ management UI and Prometheus metrics', async () => {
    const mount = (service('rabbitmq').volumes ?? []).find((volume) =>
      volume.includes(':/etc/rabbitmq/enabled_plugins'),
    );
    expect(mount, 'rabbitmq mounts no enabled_plugins file').toBeDefined();
    const plugins = await readFile(mount?.split(':')[0] ?? '', 'utf8');
    expect(plugins.trim()).toMatch(/^\[.*\]\.$/s);
    expect(plugins).toContain('rabbitmq_management');
    expect(plugins).toContain('rabbitmq_prometheus');
  });
});

describe('relay/Dockerfile, the relay image', () => {
  const dockerfile = () => readFile(join(repoRoot, 'relay/Dockerfile'), 'utf8');

  it('runs the same entry point as the package: node relay/src/index.ts', async () => {
    const cmdLines = (await dockerfile()).match(/^CMD\s+.+$/gm) ?? [];
    const lastCmd = cmdLines.at(-1) ?? '';
    expect(JSON.parse(lastCmd.replace(/^CMD\s+/, ''))).toEqual(['node', 'relay/src/index.ts']);
    await expect(access(join(repoRoot, 'relay/src/index.ts'))).resolves.toBeUndefined();

    // Whatever starts the relay outside Docker (npm scripts, `npm run dev`) names the same file.
    for (const launcher of ['package.json', 'relay/local/dev-stack.ts']) {
      const text = await readFile(join(repoRoot, launcher), 'utf8').catch(() => '');
      for (const [entry] of text.matchAll(/relay\/src\/[\w-]+\.ts/g)) {
        expect(entry, `${launcher} starts the relay from another file`).toBe('relay/src/index.ts');
      }
    }
  });

  it('installs production dependencies only and runs as a non-root user', async () => {
    const text = await dockerfile();
    expect(text).toMatch(/^FROM node:24/m);
    expect(text).toMatch(/npm ci --omit=dev/);
    const users = [...text.matchAll(/^USER\s+(\S+)/gm)].map(([, user]) => user);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
  });

  it("installs exactly the packages the relay loads: package.json's dependencies", async () => {
    const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const { packages } = await loadedBy('relay/src/index.ts');
    expect(packages).toContain('pg'); // the walk follows the relay's files
    expect(Object.keys(manifest.dependencies).sort()).toEqual(packages);
  });

  it('copies every file the relay loads, the contracts it shares with the Worker too', async () => {
    const copied = [...(await dockerfile()).matchAll(/^COPY\s+([\w/-]+\/)\s+\1$/gm)].map(
      ([, folder]) => folder!,
    );
    const { files } = await loadedBy('relay/src/index.ts');
    expect(files).toContain('worker/contracts/relay-signature.ts'); // the walk leaves relay/
    const missing = files.filter((file) => !copied.some((folder) => file.startsWith(folder)));
    expect(missing, `relay/Dockerfile copies ${copied.join(', ')}`).toEqual([]);
  });

  it('keeps secrets and local state out of the build context', async () => {
    const ignored = (await readFile(join(repoRoot, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((line) => line.trim());
    for (const entry of ['.dev.vars', '.prod.vars', '.env', '.git', '.wrangler']) {
      expect(ignored, `.dockerignore lets ${entry} into the build context`).toContain(entry);
    }
    expect(ignored.some((line) => /^(\*\*\/)?node_modules\/?$/.test(line))).toBe(true);
  });
});

/**
 * What a Node program loads: its entry point and every file of the repository that it imports in
 * turn (relative to the repository), and the packages they import; `import type` left out (Node
 * strips it).
 */
async function loadedBy(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const packages = new Set<string>();
  const visited = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (visited.has(file)) return;
    visited.add(file);
    const source = await readFile(file, 'utf8');
    const imports = source.matchAll(
      /^(?:import|export)\s+(type\s+)?(?:[^;]*?\sfrom\s+)?'([^']+)'/gm,
    );
    for (const [, typeOnly, specifier = ''] of imports) {
      if (typeOnly || specifier.startsWith('node:')) continue;
      if (specifier.startsWith('.')) {
        await visit(resolve(dirname(file), specifier));
      } else {
        const parts = specifier.split('/');
        packages.add(parts.slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
      }
    }
  };
  await visit(join(repoRoot, entry));
  const files = [...visited].map((file) => relative(repoRoot, file));
  return { files: files.sort(), packages: [...packages].sort() };
}
