/**
 * Monitoring configuration (relay/local/docker/): Prometheus, its alert rules, Alertmanager and
 * Grafana, read as YAML and JSON. `npm run check:ops` has promtool check and unit-test the rules,
 * the configuration and every dashboard query.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCompose, readYaml, repoRoot, type ComposeService } from '../support/config-files.ts';

const DOCKER = 'relay/local/docker';
const PROMETHEUS = `${DOCKER}/prometheus`;

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}

interface DashboardPanel {
  title: string;
  datasource?: { uid: string };
  targets: { refId: string; expr: string; datasource?: { uid: string } }[];
}

describe('alert rules', () => {
  it('watch the relay, the outbox, delivery latency, dead letters, the broker and the partitions', async () => {
    const { groups } = (await readYaml(`${PROMETHEUS}/alerts.yml`)) as {
      groups: { rules: Rule[] }[];
    };
    const rules = Object.fromEntries(
      groups.flatMap((group) => group.rules).map((r) => [r.alert, r]),
    );
    const squash = (text: string | undefined) => text?.replace(/\s+/g, ' ').trim();
    expect(Object.keys(rules)).toEqual([
      'RelayDown',
      'OutboxBacklogOld',
      'DeliveryLatencyHigh',
      'DeadLetterQueueNotEmpty',
      'BrokerDisconnected',
      'DeliveryPartitionWithoutConsumer',
    ]);

    expect(rules.RelayDown).toMatchObject({ expr: 'up{job="relay"} == 0', for: '1m' });
    expect(rules.OutboxBacklogOld).toMatchObject({
      expr: 'table_order_relay_outbox_oldest_unpublished_age_seconds > 5',
      for: '1m',
    });
    expect(squash(rules.DeliveryLatencyHigh?.expr)).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(table_order_relay_delivery_latency_seconds_bucket[5m]))) > 0.5',
    );
    expect(rules.DeliveryLatencyHigh?.for).toBe('5m');
    expect(rules.DeadLetterQueueNotEmpty?.expr).toContain(
      'rabbitmq_queue_messages{queue=~".+\\\\.dead"}',
    );
    expect(rules.BrokerDisconnected).toMatchObject({
      expr: 'table_order_relay_broker_connected == 0',
      for: '1m',
    });
    expect(rules.DeliveryPartitionWithoutConsumer).toMatchObject({
      expr: 'max by (partition) (table_order_relay_partition_consumer_active) == 0',
      for: '1m',
      labels: { severity: 'critical' },
    });
    for (const rule of Object.values(rules)) {
      expect(['critical', 'warning'], `${rule.alert} has no severity`).toContain(
        rule.labels?.severity,
      );
    }
  });
});

describe('Prometheus', () => {
  it('loads the alert rules, scrapes the relay, RabbitMQ per queue, PostgreSQL and Redis, and alerts through Alertmanager', async () => {
    const config = (await readYaml(`${PROMETHEUS}/prometheus.yml`)) as {
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        static_configs: { targets: string[] }[];
      }[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      rule_files: string[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const jobs = Object.fromEntries(
      config.scrape_configs.map((job) => [
        job.job_name,
        {
          path: job.metrics_path ?? '/metrics',
          targets: job.static_configs.flatMap((c) => c.targets),
        },
      ]),
    );
    expect(jobs).toEqual({
      relay: { path: '/metrics', targets: ['relay:8788'] },
      rabbitmq: { path: '/metrics/per-object', targets: ['rabbitmq:15692'] },
      postgres: { path: '/metrics', targets: ['postgres-exporter:9187'] },
      redis: { path: '/metrics', targets: ['redis-exporter:9121'] },
    });
    expect(config.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual([
      'alertmanager:9093',
    ]);
  });
});

describe('Grafana dashboard', () => {
  async function dashboard() {
    const text = await readFile(
      join(repoRoot, `${DOCKER}/grafana/dashboards/table-order.json`),
      'utf8',
    );
    return JSON.parse(text) as { uid: string; panels: DashboardPanel[] };
  }

  it('shows orders, delivery latency percentiles, outbox, partitions, dead letters, image jobs and 5xx', async () => {
    const { panels } = await dashboard();
    const queries = panels
      .flatMap((panel) => panel.targets.map((target) => target.expr))
      .join('\n');
    for (const needed of [
      'table_order_orders_placed_last_minute',
      'histogram_quantile(0.5, sum by (le) (rate(table_order_relay_delivery_latency_seconds_bucket[5m])))',
      'histogram_quantile(0.95, sum by (le) (rate(table_order_relay_delivery_latency_seconds_bucket[5m])))',
      'histogram_quantile(0.99, sum by (le) (rate(table_order_relay_delivery_latency_seconds_bucket[5m])))',
      'table_order_relay_outbox_backlog',
      'table_order_relay_partition_backlog',
      'table_order_relay_partition_consumer_active',
      'rabbitmq_queue_messages{queue=~".+\\\\.dead"}',
      'table_order_relay_image_job_duration_seconds_bucket',
      'table_order_relay_image_jobs_failed_total',
      'table_order_relay_events_delivery_failures_total',
    ]) {
      expect(queries, `no panel queries ${needed}`).toContain(needed);
    }
    expect(panels.map((panel) => panel.title).join('\n')).toMatch(/5xx/);
  });

  it('queries the provisioned Prometheus data source in every panel', async () => {
    const { panels } = await dashboard();
    const datasources = (await readYaml(
      `${DOCKER}/grafana/provisioning/datasources/prometheus.yml`,
    )) as {
      datasources: { uid: string; url: string }[];
    };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ uid: 'prometheus', url: 'http://prometheus:9090' }),
    ]);
    expect(panels.length).toBeGreaterThan(0);
    for (const panel of panels) expect(panel.datasource?.uid, panel.title).toBe('prometheus');
  });
});

describe('docker-compose.yml monitoring services', () => {
  let services: Record<string, ComposeService>;

  beforeAll(async () => {
    ({ services } = await readCompose());
  });

  it('runs Prometheus, Alertmanager, Grafana and the PostgreSQL and Redis exporters', () => {
    expect(services.prometheus?.image).toMatch(/^prom\/prometheus:/);
    expect(services.alertmanager?.image).toMatch(/^prom\/alertmanager:/);
    expect(services.grafana?.image).toMatch(/^grafana\/grafana:/);
    expect(services['postgres-exporter']?.image).toMatch(
      /^prometheuscommunity\/postgres-exporter:/,
    );
    expect(services['redis-exporter']?.image).toMatch(/^oliver006\/redis_exporter:/);
  });

  it('sends alerts to the Slack webhook from SLACK_WEBHOOK_URL, a placeholder by default', async () => {
    const alertmanager = services.alertmanager;
    expect(alertmanager?.environment?.SLACK_WEBHOOK_URL).toMatch(/^https:\/\/hooks\.slack\.com\//);
    const config = (await readYaml(`${DOCKER}/alertmanager/alertmanager.yml`)) as {
      receivers: { slack_configs?: { api_url_file: string }[] }[];
    };
    const urlFile = config.receivers[0]?.slack_configs?.[0]?.api_url_file ?? '';
    expect(urlFile).not.toBe('');
    // The container writes the variable to the very file the configuration reads.
    expect(alertmanager?.command?.join(' ')).toContain(`"$$SLACK_WEBHOOK_URL" > ${urlFile}`);
  });

  it('mounts configuration files that exist in the repository', async () => {
    const binds = Object.values(services)
      .flatMap((service) => service.volumes ?? [])
      .map((volume) => volume.split(':')[0] ?? '')
      .filter((source) => source.startsWith('/'));
    expect(binds.length).toBeGreaterThanOrEqual(6);
    for (const source of binds) {
      await expect(access(source), `${source} is mounted but missing`).resolves.toBeUndefined();
    }
  });
});
