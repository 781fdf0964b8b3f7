/**
 * A store's hub (its Durable Object) in Worker tests: restarting it the way a deploy does.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { expect } from 'vitest';
import { storeHub } from '../../../worker/hub/store-hub.ts';

/** Restarts a hub the way a deploy does: its instance and every stream it serves are cut. */
export async function restartHub(storeId: string): Promise<void> {
  await runInDurableObject(storeHub(env, storeId), (_hub, state) => state.abort('deploy')).catch(
    (error: Error) => expect(error.message).toBe('deploy'),
  );
}
