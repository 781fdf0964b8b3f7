/**
 * The screens of a benchmark store logging in: its admin, and every table with a token of its
 * own, as the tablets of a dining room do.
 */
import { apiClient } from '../support/http.ts';
import { tabletDevice } from '../support/tablets.ts';
import type { BenchmarkStore } from './seed.ts';

/** The store's admin token, and one token per table in table order. */
export async function logInStore(
  workerUrl: string,
  store: BenchmarkStore,
): Promise<{ admin: string; tablets: string[] }> {
  const call = apiClient(workerUrl);
  const logIn = async (path: string, body: object): Promise<string> => {
    const res = await call('POST', path, undefined, body, { 'cf-connecting-ip': '198.18.0.9' });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.access_token as string;
  };
  const admin = await logIn('/api/admin/auth/login', { store_id: store.storeId, ...store.admin });
  const tablets: string[] = [];
  for (const table of store.tables) {
    tablets.push(
      await logIn('/api/customer/auth/login', {
        store_id: store.storeId,
        table_number: table.number,
        password: store.tablePassword,
        device_id: tabletDevice(table.number),
      }),
    );
  }
  return { admin, tablets };
}
