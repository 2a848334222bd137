// Lint: typescript-eslint's recommended, type-aware rules for floating promises (an unawaited
// promise in a request handler is the classic source of lost errors in a Node server), and the
// rules between layers (docs/architecture.md, "Rules between layers"): each folder of src/ names
// the folders it must not import, so that dependencies point one way.
import tseslint from 'typescript-eslint';

/**
 * @cratekeeper/test-support (packages/test-support) is private and never packed: only tests may
 * import it, so that no code that runs for a user needs it. Every rule for code outside the tests
 * carries this pattern (a file gets the options of the last rule that matches it, not a merge).
 */
const TESTS_ONLY = {
  group: ['@cratekeeper/test-support', '@cratekeeper/test-support/*'],
  message: '@cratekeeper/test-support holds test helpers and is never packed or published: only tests import it.',
};

/** The top-level wiring files of src/: only cli/ and the tests import them. */
const WIRING = ['registry', 'server', 'cluster'];

/**
 * A restriction for the files in `folder`: no relative import may reach any of `forbidden` (folders
 * of src/, `client`, or wiring file names). Relative paths are matched, so a folder's own files and
 * subfolders stay free.
 */
function layer(folder, forbidden, why) {
  // packages/: the client package is reached through its name and public entries, never by path.
  const folders = [...forbidden.filter((name) => !WIRING.includes(name)), 'packages'];
  const files = forbidden.filter((name) => WIRING.includes(name));
  const alternatives = [...folders.map((name) => `${name}/`), ...files.map((name) => `${name}\\.js$`)];
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(${alternatives.join('|')})`,
              message: `${folder} ${why} (docs/architecture.md, "Rules between layers").`,
            },
            TESTS_ONLY,
          ],
        },
      ],
    },
  };
}

/** Everything outside a folder, for the folders that may import only `allowed` (folders of src/). */
function only(folder, allowed, why) {
  const regex = allowed.length === 0 ? '^\\.\\./' : `^\\.\\./(?!(${allowed.join('|')})/)`;
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex, message: `${folder} ${why} (docs/architecture.md, "Rules between layers").` }, TESTS_ONLY] },
      ],
    },
  };
}

const layerRules = [
  only('src/domain', [], 'imports nothing of ours'),
  only('src/ports', ['domain'], 'imports only src/domain'),
  only('src/lib', ['domain'], 'holds generic building blocks and imports only src/domain'),
  only('src/workers', ['domain', 'lib', 'ports'], 'runs on the CPU pool and imports only src/domain, src/lib and types from src/ports'),
  layer(
    'src/config',
    ['ports', 'adapters', 'auth', 'services', 'mirror', 'workers', 'http', 'ops', ...WIRING],
    'is read by the layers above and imports only src/domain, src/lib and @cratekeeper/client',
  ),
  layer(
    'src/adapters',
    ['auth', 'services', 'mirror', 'workers', 'http', 'ops', 'config', ...WIRING],
    'implements src/ports and imports only ports, domain and lib',
  ),
  layer(
    'src/auth',
    ['services', 'mirror', 'workers', 'http', 'adapters', 'ops', ...WIRING],
    'sits below the services: it may not import services, mirror, workers, http or adapters',
  ),
  layer(
    'src/mirror',
    ['services', 'auth', 'workers', 'http', 'adapters', 'ops', ...WIRING],
    'may not import services, auth, workers, http or adapters',
  ),
  layer('src/services', ['http', 'mirror', 'adapters', 'ops', ...WIRING], 'may not import http, mirror, adapters or ops'),
  layer('src/http', ['adapters', 'ops', 'server', 'cluster'], 'reaches storage through src/ports, never src/adapters or src/ops'),
  layer('src/ops', ['http', 'server', 'cluster'], 'may not import http'),
];

/** A relative import into packages/: workspace packages are reached by name and public entries only. */
const BY_PACKAGE_PATH = {
  regex: '^(\\.\\./)+packages/',
  message:
    "import a workspace package by its name (@cratekeeper/client/network or /commands, @cratekeeper/test-support/...), not by path: only its package.json's exports are public.",
};

/** cli/, the wiring files of src/ and test/ reach the workspace packages through their names; only test/ reaches the test helpers. */
const viaPackageName = [
  { files: ['cli/**/*.ts', 'src/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [BY_PACKAGE_PATH, TESTS_ONLY] }] } },
  { files: ['test/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [BY_PACKAGE_PATH] }] } },
];

/** Packages only the server may use: the client package must install and run without them. */
const SERVER_ONLY = [
  'cratekeeper',
  'better-sqlite3',
  'pg',
  'kysely',
  'fastify',
  '@fastify/*',
  '@aws-sdk/*',
  '@node-rs/*',
  'openid-client',
  'piscina',
];

/**
 * The client package (packages/client) and the test helpers (packages/test-support) stand alone: no
 * relative import may leave the package (the server's src/, cli/ and test/ are outside it), and no
 * import may name the server package or a dependency only the server has (npm hoists them into the
 * shared node_modules, where an import would resolve during development and fail for whoever
 * installs the client package alone). The client's own code (src/) may not import the test helpers
 * either; its tests may. One entry per folder depth, since the number of `../` that leaves the
 * package depends on it.
 */
const STANDALONE_PACKAGES = [
  { name: 'client', folders: { src: [TESTS_ONLY], test: [] } },
  { name: 'test-support', folders: { src: [] } },
];
const standalonePackageRules = STANDALONE_PACKAGES.flatMap(({ name, folders }) =>
  Object.entries(folders).flatMap(([folder, extraPatterns]) =>
    [0, 1, 2, 3].map((depth) => ({
      files: [`packages/${name}/${folder}/${'*/'.repeat(depth)}*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^(\\.\\./){${depth + 2},}`,
                message: `packages/${name} imports nothing outside its own folder: it is its own package (docs/architecture.md, "Rules between layers").`,
              },
              {
                group: SERVER_ONLY.flatMap((pattern) => (pattern.endsWith('/*') ? [pattern] : [pattern, `${pattern}/*`])),
                message: `packages/${name} may not import the server package or a dependency only the server has; it installs without them (add what it needs to packages/${name}/package.json's dependencies).`,
              },
              ...extraPatterns,
            ],
          },
        ],
      },
    })),
  ),
);

export default tseslint.config(
  { ignores: ['dist/**', '**/dist/**', 'node_modules/**', 'bench/**', 'scripts/**', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises that the runner itself tracks.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  ...layerRules,
  ...viaPackageName,
  ...standalonePackageRules,
);
