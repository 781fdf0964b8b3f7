/**
 * The repository stands alone: no file points to documents kept outside it or to the tracker's
 * issue numbers (a reader of a clone has neither), and every relative link of the documentation
 * (README.md, docs/*.md) reaches a file — and, for a Markdown page, a heading — that exists.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isolatedEnv } from '../support/child-env.ts';
import { repoRoot } from '../support/config-files.ts';

/**
 * What a file of the repository must not say. Written so that this file's own text does not
 * match them.
 */
const OUTSIDE_REFERENCES = [
  { what: 'a folder beside the repository', pattern: /\.\.\/shared\b/ },
  // Built from parts, so that this file does not name it either.
  {
    what: 'the specification kept outside the repository',
    pattern: new RegExp(`\\b${'SP' + 'EC'}(\\.md)?\\b`),
  },
  { what: 'an issue number', pattern: /\bissues?\s*#?\d+/i },
];

/**
 * The repository's files: tracked ones, and new ones that are not ignored (so a file written but
 * not yet added is checked too); node_modules never.
 */
async function repositoryFiles(): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '-z'],
    { cwd: repoRoot, env: isolatedEnv(), maxBuffer: 64 * 1024 * 1024 },
  );
  const paths = new Set(stdout.split('\0').filter(Boolean));
  return [...paths].filter((path) => !path.split('/').includes('node_modules')).sort();
}

/** A file's text, or undefined for one that is binary or deleted from the working tree. */
async function textOf(path: string): Promise<string | undefined> {
  const bytes = await readFile(join(repoRoot, path)).catch(() => undefined);
  if (!bytes || bytes.includes(0)) return undefined;
  return bytes.toString('utf8');
}

/** `path:line: what — the line` for every line of `text` that matches a pattern. */
function outsideReferences(path: string, text: string): string[] {
  return text
    .split('\n')
    .flatMap((line, index) =>
      OUTSIDE_REFERENCES.filter(({ pattern }) => pattern.test(line)).map(
        ({ what }) => `${path}:${index + 1}: ${what} — ${line.trim()}`,
      ),
    );
}

/** The documentation pages: README.md and every Markdown file of docs/. */
async function documentationPages(): Promise<string[]> {
  const docs = await readdir(join(repoRoot, 'docs')).catch(() => [] as string[]);
  return [
    'README.md',
    ...docs.filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`),
  ];
}

/** Markdown without its fenced code blocks (indented ones in lists too). */
function withoutFences(markdown: string): string {
  return markdown.replace(/^[ \t]*(```|~~~)[^\n]*\n[\s\S]*?^[ \t]*\1[^\n]*$/gm, '');
}

/**
 * Markdown without code blocks and code spans (a span may wrap onto the next line, never past a
 * blank one), where brackets are code, not links.
 */
function proseOf(markdown: string): string {
  return withoutFences(markdown).replace(/`(?:[^`\n]|\n(?![ \t]*\n))*`/g, '');
}

/** The targets of a page's inline links and link definitions. */
function linkTargets(markdown: string): string[] {
  const prose = proseOf(markdown);
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)];
  const defined = [...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)];
  return [...inline, ...defined].map((match) => match[1]!);
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces → `-`. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of withoutFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = heading!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Why a relative link of `page` does not resolve, or undefined when it does. */
async function brokenLink(page: string, target: string): Promise<string | undefined> {
  const [path = '', anchor] = target.split('#');
  const file = path
    ? resolve(
        path.startsWith('/') ? repoRoot : dirname(join(repoRoot, page)),
        path.replace(/^\//, ''),
      )
    : join(repoRoot, page);
  if (relative(repoRoot, file).startsWith('..')) return 'leaves the repository';
  const found = await stat(file).catch(() => undefined);
  if (!found) return 'no such file';
  if (!anchor || !found.isFile() || !file.endsWith('.md')) return undefined;
  const anchors = headingAnchors(await readFile(file, 'utf8'));
  return anchors.has(decodeURIComponent(anchor)) ? undefined : `no heading #${anchor}`;
}

describe('the repository stands alone', () => {
  it('names no document outside it and no issue number, in any file', async () => {
    const files = await repositoryFiles();
    // A positive control: the listing holds the files this test must read.
    expect(files).toEqual(expect.arrayContaining(['README.md', 'worker/index.ts', 'db/schema.ts']));
    const found: string[] = [];
    for (const path of files) {
      const text = await textOf(path);
      if (text !== undefined) found.push(...outsideReferences(path, text));
    }
    expect(found).toEqual([]);
  });

  it('recognises each kind of outside reference (the patterns above are not blind)', () => {
    // Split, so that this file does not say them itself.
    const samples = [
      ['the contract is in ..' + '/shared/SP' + 'EC.md', 2],
      ['the budget of SP' + 'EC §5', 1],
      ['the targets of iss' + 'ue 8', 1],
      ['see Iss' + 'ue #16', 1],
      ['INSPECTOR_PORT, INSPECT_MAX_BYTES and tissue 5 are fine', 0],
    ] as const;
    for (const [line, hits] of samples) {
      expect(outsideReferences('sample', line), line).toHaveLength(hits);
    }
  });
});

describe('the documentation links', () => {
  it('reach files and headings that exist', async () => {
    const pages = await documentationPages();
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/README.md']));
    const broken: string[] = [];
    for (const page of pages) {
      const markdown = await readFile(join(repoRoot, page), 'utf8');
      for (const target of linkTargets(markdown)) {
        if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(target)) continue; // another site: not ours to check
        const why = await brokenLink(page, target);
        if (why) broken.push(`${page}: ${target} — ${why}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('reads the links of a page, but not the brackets of its code', () => {
    const page = [
      '# Title',
      'See [the API](docs/api.md#error-codes), [ops](./operations.md "Ops") and [top](#title).',
      '[ref]: performance.md',
      'Code: `a[0](b)` and `c[1](d)',
      'e` over two lines',
      '```js',
      'list[0](call);',
      '```',
      '1. a step',
      '   ```sh',
      '   echo [x](y)',
      '   ```',
      'Visit [the site](https://example.com).',
    ].join('\n');
    expect(linkTargets(page)).toEqual([
      'docs/api.md#error-codes',
      './operations.md',
      '#title',
      'https://example.com',
      'performance.md',
    ]);
    expect(
      headingAnchors('# Sessions and 이용 완료\n## A table’s `stream`\n## A table’s `stream`'),
    ).toEqual(new Set(['sessions-and-이용-완료', 'a-tables-stream', 'a-tables-stream-1']));
  });
});
