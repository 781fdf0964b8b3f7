/**
 * Where a menu's image lives — a contract shared by the Worker, the relay and the tests. Every
 * object of one image sits in one content-addressed folder of the image bucket,
 * `menus/<store_id>/<menu_id>/<sha256 of the original>/`, as `original` (never public) and the
 * variants the relay makes of it. The variants are served to everyone under `/images/<key>`; the
 * relay reads and writes every object through the Worker under `/internal/images/<key>` (signed).
 */

/** Where variants are served from; a menu's `image` URLs start with it. */
export const IMAGE_URL_PREFIX = '/images/';
/** Where the relay reads originals and stores variants, through the Worker. */
export const INTERNAL_IMAGE_PATH_PREFIX = '/internal/images/';

/** The variants the relay makes of an original, by the name each is stored under. */
export const VARIANTS = { thumbnail: 'thumb.webp', display: 'display.webp' } as const;

/** The objects of one image, all in its folder. */
export const IMAGE_NAMES = ['original', VARIANTS.thumbnail, VARIANTS.display] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

/** The variants the relay stores and guests may fetch; the original is never public. */
export const VARIANT_NAMES: ReadonlySet<string> = new Set(Object.values(VARIANTS));

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const NAME = IMAGE_NAMES.map((name) => name.replace('.', '\\.')).join('|');
/** `menus/<store_id>/<menu_id>/<sha256>/<name>` with lowercase uuids and hex. */
const KEY = new RegExp(`^menus/(${UUID})/(${UUID})/([0-9a-f]{64})/(${NAME})$`);

export type ImageKey = {
  key: string;
  storeId: string;
  menuId: string;
  sha256: string;
  name: ImageName;
  /** `menus/<store>/<menu>/<sha256>/`: every object of the same image. */
  folder: string;
};

/** Every object of a menu's images starts with this. */
export function menuImagePrefix(storeId: string, menuId: string): string {
  return `menus/${storeId}/${menuId}/`;
}

/** The key of an object of a menu's image. */
export function imageKey(storeId: string, menuId: string, sha256: string, name: ImageName): string {
  return `${menuImagePrefix(storeId, menuId)}${sha256}/${name}`;
}

/** The parts of an image key, or null for anything that is not one (no `..`, no other prefix). */
export function parseImageKey(key: string): ImageKey | null {
  const match = KEY.exec(key);
  if (!match) return null;
  const [, storeId, menuId, sha256, name] = match as unknown as [
    string,
    string,
    string,
    string,
    ImageName,
  ];
  return { key, storeId, menuId, sha256, name, folder: key.slice(0, key.length - name.length) };
}

/** The key of another object of the same image: an original's variants, a variant's original. */
export function siblingKey(of: ImageKey, name: ImageName): string {
  return of.folder + name;
}

/** The public URL of a variant. */
export function imageUrl(key: string): string {
  return IMAGE_URL_PREFIX + key;
}

/** The relay's path to an object, each segment escaped (keys are ids and hex: nothing changes). */
export function internalImagePath(key: string): string {
  return INTERNAL_IMAGE_PATH_PREFIX + key.split('/').map(encodeURIComponent).join('/');
}
