import { and, eq } from 'drizzle-orm';
import { menus, type Menu } from '../../db/schema.ts';
import { ApiError } from '../api-error.ts';
import { sha256Hex } from '../contracts/encoding.ts';
import {
  imageKey,
  imageUrl,
  menuImagePrefix,
  parseImageKey,
  siblingKey,
  VARIANTS,
} from '../contracts/image-keys.ts';
import type { Database } from '../domain/database.ts';
import { recordAudit, type Actor } from './audit.ts';
import { recordEvent } from './events.ts';
import { IMAGE_MAX_BYTES, inspectImage } from './image-uploads.ts';

/*
 * A menu's image goes processing → ready (or failed). While a new image is processing, the row
 * keeps the thumbnail and display keys of the image it replaces: the menu's `image` is null
 * anyway (only `ready` shows one), and when the new variants are ready those keys say which
 * objects to delete. Objects are deleted only after the transaction that stopped naming them has
 * committed — an R2 failure then leaves an orphan (logged), never a menu pointing at nothing.
 */

const ofStore = (storeId: string, menuId: string) =>
  and(eq(menus.storeId, storeId), eq(menus.id, menuId));

function menuNotFound(): ApiError {
  return new ApiError(404, 'NOT_FOUND', '메뉴를 찾을 수 없습니다.');
}

type ImageColumns = Pick<
  Menu,
  'imageStatus' | 'imageOriginalKey' | 'imageThumbnailKey' | 'imageDisplayKey'
>;

/**
 * The objects a menu row keeps alive: its original, its variants and their image's original
 * (which the row stops naming once a newer upload replaces it). An in-flight original
 * (`processing`) is left out when `inFlight` is false: its own job cleans it up when superseded.
 */
function keptAlive(row: ImageColumns | undefined, inFlight = true): Set<string> {
  const keys = new Set<string>();
  if (!row) return keys;
  if (row.imageOriginalKey && (inFlight || row.imageStatus !== 'processing')) {
    keys.add(row.imageOriginalKey);
  }
  for (const variant of [row.imageThumbnailKey, row.imageDisplayKey]) {
    const parsed = variant ? parseImageKey(variant) : null;
    if (!parsed) continue;
    keys.add(parsed.key);
    keys.add(siblingKey(parsed, 'original'));
  }
  return keys;
}

const minus = (keys: Iterable<string>, kept: Set<string>) =>
  [...new Set(keys)].filter((key) => !kept.has(key));

/** Deletes objects nobody names any more; a failure is logged, not the caller's problem. */
async function deleteObjects(bucket: R2Bucket, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  try {
    await bucket.delete(keys);
  } catch (error) {
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'image objects not deleted',
        keys,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }
}

export type UploadedImage = { menuId: string; originalKey: string };

/**
 * Stores an admin's upload as the menu's new original and queues its variants: checks the menu
 * (404, another store's too), the size (413), the type by magic bytes (415) and the declared
 * dimensions (422); puts the original in R2 under its content address; then, in one transaction,
 * sets the menu `processing`, records `menu.image_uploaded` for the relay's image worker and
 * keeps the upload in the audit trail.
 */
export async function uploadMenuImage(
  db: Database,
  bucket: R2Bucket,
  storeId: string,
  menuId: string,
  actor: Actor,
  file: File,
): Promise<UploadedImage> {
  const [menu] = await db.select({ id: menus.id }).from(menus).where(ofStore(storeId, menuId));
  if (!menu) throw menuNotFound();
  if (file.size > IMAGE_MAX_BYTES) {
    throw new ApiError(413, 'PAYLOAD_TOO_LARGE', '이미지는 10MB 이하만 올릴 수 있습니다.', {
      details: { max_bytes: IMAGE_MAX_BYTES },
    });
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const { contentType, width, height } = inspectImage(bytes);
  const sha256 = await sha256Hex(bytes);
  const originalKey = imageKey(storeId, menu.id, sha256, 'original');
  await bucket.put(originalKey, bytes, {
    httpMetadata: { contentType },
    customMetadata: { width: String(width), height: String(height) },
  });

  let previous: ImageColumns | undefined;
  try {
    previous = await db.transaction(async (tx) => {
      const [row] = await tx.select().from(menus).where(ofStore(storeId, menu.id)).for('update');
      if (!row) throw menuNotFound();
      await tx
        .update(menus)
        .set({
          imageStatus: 'processing',
          imageOriginalKey: originalKey,
          imageError: null,
          imageUpdatedAt: new Date(),
        })
        .where(ofStore(storeId, menu.id));
      await recordEvent(tx, {
        type: 'menu.image_uploaded',
        storeId,
        data: { menu_id: menu.id, original_key: originalKey, content_type: contentType, sha256 },
        actor,
      });
      await recordAudit(tx, {
        storeId,
        actor,
        action: 'menu.image_uploaded',
        targetType: 'menu',
        targetId: menu.id,
        details: { original_key: originalKey, content_type: contentType },
      });
      return row;
    });
  } catch (error) {
    // The menu went away meanwhile: nothing will ever name the object just stored.
    if (error instanceof ApiError && error.status === 404) {
      await deleteObjects(bucket, [originalKey]);
    }
    throw error;
  }
  const next = { ...previous, imageStatus: 'processing' as const, imageOriginalKey: originalKey };
  // A failed upload's original is dropped here; one still processing is left to its own job.
  await deleteObjects(bucket, minus(keptAlive(previous, false), keptAlive(next)));
  return { menuId: menu.id, originalKey };
}

/** What the relay reports for a finished job. */
export type ReadyReport = {
  storeId: string;
  menuId: string;
  originalKey: string;
  thumbnailKey: string;
  displayKey: string;
};

function badKeys(message: string): ApiError {
  return new ApiError(400, 'VALIDATION_ERROR', message, { details: { field: 'keys' } });
}

/** The original must be this menu's; the variants must sit in the original's folder. */
function checkJobKeys(report: Omit<ReadyReport, 'thumbnailKey' | 'displayKey'>) {
  const original = parseImageKey(report.originalKey);
  if (
    !original ||
    original.name !== 'original' ||
    original.storeId !== report.storeId ||
    original.menuId !== report.menuId
  ) {
    throw badKeys('original_key가 이 메뉴의 원본 이미지 키가 아닙니다.');
  }
  return original;
}

/**
 * The relay's variants are stored: if the menu still has that original, it becomes `ready` with
 * them, `menu.image_ready` is recorded and the replaced image's objects are deleted. A job a newer
 * upload superseded (or whose menu is gone) changes nothing and its own objects are deleted.
 * The same report twice is answered `updated: true` again without a second event.
 */
export async function markImageReady(
  db: Database,
  bucket: R2Bucket,
  report: ReadyReport,
): Promise<{ updated: boolean }> {
  const original = checkJobKeys(report);
  if (
    report.thumbnailKey !== siblingKey(original, VARIANTS.thumbnail) ||
    report.displayKey !== siblingKey(original, VARIANTS.display)
  ) {
    throw badKeys(
      `thumbnail_key와 display_key는 원본과 같은 폴더의 ${VARIANTS.thumbnail}, ${VARIANTS.display}여야 합니다.`,
    );
  }
  const jobKeys = [report.originalKey, report.thumbnailKey, report.displayKey];
  const { updated, stale } = await db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(menus)
      .where(ofStore(report.storeId, report.menuId))
      .for('update');
    if (!row || row.imageOriginalKey !== report.originalKey) {
      return { updated: false, stale: minus(jobKeys, keptAlive(row)) };
    }
    if (
      row.imageStatus === 'ready' &&
      row.imageThumbnailKey === report.thumbnailKey &&
      row.imageDisplayKey === report.displayKey
    ) {
      return { updated: true, stale: [] };
    }
    const missing = (await Promise.all(jobKeys.slice(1).map((key) => bucket.head(key)))).some(
      (object) => object === null,
    );
    if (missing) throw badKeys('변환된 이미지가 저장되어 있지 않습니다.');
    const next = {
      imageStatus: 'ready' as const,
      imageOriginalKey: report.originalKey,
      imageThumbnailKey: report.thumbnailKey,
      imageDisplayKey: report.displayKey,
    };
    await tx
      .update(menus)
      .set({ ...next, imageError: null, imageUpdatedAt: new Date() })
      .where(ofStore(report.storeId, report.menuId));
    await recordEvent(tx, {
      type: 'menu.image_ready',
      storeId: report.storeId,
      data: {
        menu_id: row.id,
        image: {
          thumbnail_url: imageUrl(report.thumbnailKey),
          display_url: imageUrl(report.displayKey),
        },
      },
    });
    return { updated: true, stale: minus(keptAlive(row), keptAlive(next)) };
  });
  await deleteObjects(bucket, stale);
  return { updated };
}

/**
 * The relay could not make variants: the menu's image becomes `failed` with the reason (shown to
 * the admin), if the menu is still processing that original; otherwise nothing changes and the
 * superseded original is deleted.
 */
export async function markImageFailed(
  db: Database,
  bucket: R2Bucket,
  report: { storeId: string; menuId: string; originalKey: string; reason: string },
): Promise<{ updated: boolean }> {
  checkJobKeys(report);
  const { updated, stale } = await db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(menus)
      .where(ofStore(report.storeId, report.menuId))
      .for('update');
    if (!row || row.imageOriginalKey !== report.originalKey || row.imageStatus !== 'processing') {
      return { updated: false, stale: minus([report.originalKey], keptAlive(row)) };
    }
    await tx
      .update(menus)
      .set({ imageStatus: 'failed', imageError: report.reason, imageUpdatedAt: new Date() })
      .where(ofStore(report.storeId, report.menuId));
    return { updated: true, stale: [] };
  });
  await deleteObjects(bucket, stale);
  return { updated };
}

/** Deletes every object of a menu's images; called once the menu's deletion has committed. */
export async function deleteMenuImages(
  bucket: R2Bucket,
  storeId: string,
  menuId: string,
): Promise<void> {
  const prefix = menuImagePrefix(storeId, menuId);
  try {
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ prefix, cursor });
      await deleteObjects(
        bucket,
        page.objects.map((object) => object.key),
      );
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  } catch (error) {
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'menu images not listed for deletion',
        prefix,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }
}
